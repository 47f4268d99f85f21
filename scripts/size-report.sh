#!/usr/bin/env bash
# Size of the npm build of the browser library: wasm + JS glue, raw and gzip -9.
# Builds `--profile wasm-release --features js` for wasm32, runs wasm-bindgen --target web and wasm-opt -Oz
# (WASM_OPT overrides which wasm-opt).
# Usage: scripts/size-report.sh [out-dir]   (default target/size-report)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/size-report}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build -p fauna-session --lib --target wasm32-unknown-unknown --profile wasm-release --features js >&2
rm -rf "$OUT" && mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name fauna_session \
  "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/fauna_session.wasm"
# The same wasm-opt as scripts/build-npm.sh (Binaryen 132 from pkg-template/build-tools) when it is installed, so
# the figure is the shipped one; Debian's Binaryen 108 gives ~3 KB more and a module that fails to instantiate.
TOOLS_OPT=pkg-template/build-tools/node_modules/.bin/wasm-opt
if [ -z "${WASM_OPT:-}" ]; then
  if [ -x "$TOOLS_OPT" ]; then WASM_OPT=$TOOLS_OPT; else WASM_OPT=wasm-opt; fi
fi
echo "wasm-opt: $("$WASM_OPT" --version)" >&2
"$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  -o "$OUT/fauna_session_bg.opt.wasm" "$OUT/fauna_session_bg.wasm"
mv "$OUT/fauna_session_bg.opt.wasm" "$OUT/fauna_session_bg.wasm"
size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
W=$OUT/fauna_session_bg.wasm
J=$OUT/fauna_session.js
printf 'wasm (wasm-opt -Oz):  %8d bytes raw  %8d bytes gzip -9\n' "$(size "$W")" "$(gz "$W")"
printf 'JS glue:              %8d bytes raw  %8d bytes gzip -9\n' "$(size "$J")" "$(gz "$J")"
TOTAL=$(( $(gz "$W") + $(gz "$J") ))
printf 'total gzipped:        %8d bytes (%d.%02d KiB; goal <= 16384 bytes)\n' "$TOTAL" $((TOTAL / 1024)) $(( (TOTAL % 1024) * 100 / 1024 ))
