#!/usr/bin/env bash
# Build one of the Rust examples to www-example/<app>/dist/ (no trunk needed):
#
#   bash www-example/build-rust-example.sh yew       # or: leptos
#
#   cargo build --target wasm32-unknown-unknown --release
#   wasm-bindgen --target web  →  dist/fauna_session_<app>_example{.js,_bg.wasm}
#   wasm-opt -Oz (npm Binaryen 132, installed by scripts/build-npm.sh), + index.html, style.css
#
# Needs the wasm32 target and wasm-bindgen at the Cargo.lock version (0.2.130).
set -euo pipefail
APP=${1:?usage: build-rust-example.sh yew|leptos}
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/$APP"
export PATH="$HOME/.cargo/bin:$PATH"
# One target dir for both apps: they share most dependencies (and the library).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/../target/rust-examples}
TARGET_DIR=$CARGO_TARGET_DIR
NAME=fauna_session_${APP}_example

cargo build --target wasm32-unknown-unknown --release
rm -rf dist
mkdir -p dist
wasm-bindgen --target web --no-typescript --out-dir dist --out-name "$NAME" \
  "$TARGET_DIR/wasm32-unknown-unknown/release/fauna-session-$APP-example.wasm"

# Size step with the npm Binaryen 132 that scripts/build-npm.sh installs (Debian's 108
# cannot parse these modules). Without it the unoptimised (working) wasm is kept.
TOOLS_WASM_OPT="$HERE/../pkg-template/build-tools/node_modules/.bin/wasm-opt"
WASM_OPT=${WASM_OPT:-$([ -x "$TOOLS_WASM_OPT" ] && echo "$TOOLS_WASM_OPT" || true)}
if [ -n "$WASM_OPT" ]; then
  if "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o dist/opt.wasm "dist/${NAME}_bg.wasm" 2>dist/wasm-opt.log; then
    mv dist/opt.wasm "dist/${NAME}_bg.wasm"
  else
    echo "$APP example: $("$WASM_OPT" --version) could not optimise the wasm ($(tail -n1 dist/wasm-opt.log)); keeping it unoptimised"
  fi
  rm -f dist/opt.wasm dist/wasm-opt.log
fi
cp index.html style.css dist/
echo "$APP example: $(stat -c %s "dist/${NAME}_bg.wasm") bytes of wasm in $HERE/$APP/dist"
