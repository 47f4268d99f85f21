#!/usr/bin/env bash
# Size of the npm build of the browser library: wasm + JS glue, raw and gzip -9.
# Builds the npm flavour (`--profile wasm-release --no-default-features --features js`, no_std) for wasm32,
# runs wasm-bindgen --target web, then what scripts/build-npm.sh runs (scripts/wasm-post.sh: snip-fmt.mjs and
# wasm-opt -Oz, then shrink.mjs). Also prints the figure before shrink.mjs.
# Usage: scripts/size-report.sh [out-dir]   (default target/size-report)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${1:-target/size-report}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build -p fauna-session --lib --target wasm32-unknown-unknown --profile wasm-release --no-default-features --features js >&2
rm -rf "$OUT" && mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name fauna_session \
  "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/fauna_session.wasm"
. "$ROOT/scripts/wasm-post.sh"
echo "wasm-opt: $("$WASM_OPT" --version)" >&2
optimise_wasm "$OUT/fauna_session_bg.wasm"
size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
W=$OUT/fauna_session_bg.wasm
J=$OUT/fauna_session.js
BEFORE_W=$(gz "$W") BEFORE_J=$(gz "$J")
printf 'before shrink.mjs:    wasm %d + JS glue %d = %d bytes gzip -9\n' "$BEFORE_W" "$BEFORE_J" $((BEFORE_W + BEFORE_J))
shrink_package "$OUT" web
printf 'wasm (-Oz, shrunk):   %8d bytes raw  %8d bytes gzip -9\n' "$(size "$W")" "$(gz "$W")"
printf 'JS glue (minified):   %8d bytes raw  %8d bytes gzip -9\n' "$(size "$J")" "$(gz "$J")"
TOTAL=$(( $(gz "$W") + $(gz "$J") ))
printf 'total gzipped:        %8d bytes (%d.%02d KiB; goal <= 16384 bytes)\n' "$TOTAL" $((TOTAL / 1024)) $(( (TOTAL % 1024) * 100 / 1024 ))
