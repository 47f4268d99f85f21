#!/usr/bin/env bash
# Size of the npm build of the browser library: wasm + JS glue, raw and gzip -9.
# Builds the npm flavour (`--profile wasm-release --no-default-features --features js`, no_std) for wasm32,
# then as scripts/build-npm.sh does: wasm-bindgen --target web, pkg-template/build-tools/snip-fmt.mjs,
# wasm-opt -Oz (WASM_OPT overrides which wasm-opt) and pkg-template/build-tools/shrink.mjs.
# Also prints the figure before shrink.mjs.
# Usage: scripts/size-report.sh [out-dir]   (default target/size-report)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/size-report}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build -p fauna-session --lib --target wasm32-unknown-unknown --profile wasm-release --no-default-features --features js >&2
rm -rf "$OUT" && mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name fauna_session \
  "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/fauna_session.wasm"
# The same tools as scripts/build-npm.sh (pkg-template/build-tools: Binaryen 132's wasm-opt, esbuild for
# shrink.mjs), installed there from the lock file when missing, so the figure is the shipped one.
# Debian's Binaryen 108 gives ~3 KB more and a module that fails to instantiate.
TOOLS=pkg-template/build-tools
if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ] || [ ! -d "$TOOLS/node_modules/esbuild" ]; then
  (cd "$TOOLS" && npm ci --no-audit --no-fund --silent) >&2
fi
WASM_OPT=${WASM_OPT:-$TOOLS/node_modules/.bin/wasm-opt}
echo "wasm-opt: $("$WASM_OPT" --version)" >&2
node "$TOOLS/snip-fmt.mjs" "$OUT/fauna_session_bg.wasm" >&2
"$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  --strip-producers --strip-target-features \
  -o "$OUT/fauna_session_bg.opt.wasm" "$OUT/fauna_session_bg.wasm"
mv "$OUT/fauna_session_bg.opt.wasm" "$OUT/fauna_session_bg.wasm"
size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
W=$OUT/fauna_session_bg.wasm
J=$OUT/fauna_session.js
BEFORE_W=$(gz "$W") BEFORE_J=$(gz "$J")
printf 'before shrink.mjs:    wasm %d + JS glue %d = %d bytes gzip -9\n' "$BEFORE_W" "$BEFORE_J" $((BEFORE_W + BEFORE_J))
# What build-npm.sh ships: short wasm import/export names, minified JS glue.
node "$TOOLS/shrink.mjs" "$OUT" web
printf 'wasm (-Oz, shrunk):   %8d bytes raw  %8d bytes gzip -9\n' "$(size "$W")" "$(gz "$W")"
printf 'JS glue (minified):   %8d bytes raw  %8d bytes gzip -9\n' "$(size "$J")" "$(gz "$J")"
TOTAL=$(( $(gz "$W") + $(gz "$J") ))
printf 'total gzipped:        %8d bytes (%d.%02d KiB; goal <= 16384 bytes)\n' "$TOTAL" $((TOTAL / 1024)) $(( (TOTAL % 1024) * 100 / 1024 ))
