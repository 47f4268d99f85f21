#!/usr/bin/env bash
# Build the Yew example to www-example/yew/dist/ (no trunk needed):
#   cargo build --target wasm32-unknown-unknown --release
#   wasm-bindgen --target web  →  dist/fauna_session_yew_example{.js,_bg.wasm}
#   + index.html and style.css
# Needs the wasm32 target and wasm-bindgen at the Cargo.lock version (0.2.130); wasm-opt if present.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}

cargo build --target wasm32-unknown-unknown --release
rm -rf dist
mkdir -p dist
wasm-bindgen --target web --no-typescript --out-dir dist --out-name fauna_session_yew_example \
  "$TARGET_DIR/wasm32-unknown-unknown/release/fauna-session-yew-example.wasm"
# Optional size step. Old Binaryen (Debian's 108) cannot parse every instruction
# rustc 1.95 emits for this app; then the unoptimised (working) wasm is kept.
WASM_OPT=${WASM_OPT:-$(command -v wasm-opt || true)}
if [ -n "$WASM_OPT" ]; then
  if "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o dist/opt.wasm dist/fauna_session_yew_example_bg.wasm 2>dist/wasm-opt.log; then
    mv dist/opt.wasm dist/fauna_session_yew_example_bg.wasm
  else
    echo "yew example: $("$WASM_OPT" --version) could not optimise the wasm ($(tail -n1 dist/wasm-opt.log)); keeping it unoptimised"
  fi
  rm -f dist/opt.wasm dist/wasm-opt.log
fi
cp index.html style.css dist/
echo "yew example: $(stat -c %s dist/fauna_session_yew_example_bg.wasm) bytes of wasm in $HERE/dist"
