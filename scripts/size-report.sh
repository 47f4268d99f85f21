#!/usr/bin/env bash
# What the browser library costs an app, next to what it replaces, in one run with the same tools:
#
#   fauna-session          the default entry (fetch interception, Web Locks), named imports
#   ..., default export    the same entry through `import SuperTokens from "fauna-session"`: the whole API
#   fauna-session/compat   + XMLHttpRequest interception and the localStorage lock (cargo feature `compat`)
#   supertokens-website    20.1.6 from npm (pkg-template/build-tools' lockfile)
#
# Each is what an app ships: a one-line entry that imports the package and calls `init` and
# `getAccessTokenPayloadSecurely`, bundled and minified by the same esbuild (--bundle --minify --format=esm), plus
# for ours the .wasm the bundle loads. Ours are built as scripts/build-npm.sh builds them (scripts/wasm-post.sh's
# pinned nightly and flags, cargo --profile wasm-release --no-default-features --features js[,compat],
# wasm-bindgen --target web, then shrink.mjs and wasm-opt -Oz) with the package's own entry files (pkg-template/index.js, and compat.js made from it).
# Sizes are raw and `gzip -9` bytes.
#
# Usage: scripts/size-report.sh [out-dir]   (default target/size-report)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${1:-target/size-report}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
. "$ROOT/scripts/wasm-post.sh"
if [ ! -d "$TOOLS/node_modules/supertokens-website" ]; then
  (cd "$TOOLS" && npm ci --no-audit --no-fund --silent) >&2
fi
ESBUILD=$TOOLS/node_modules/.bin/esbuild
echo "wasm-opt: $("$WASM_OPT" --version); esbuild $("$ESBUILD" --version)" >&2

rm -rf "$OUT" && mkdir -p "$OUT/pkg"
cp pkg-template/index.js "$OUT/pkg/"
compat_entry "$OUT/pkg/compat.js"

# build FEATURES DIR: one flavour of the wasm and its glue, post-processed as the package ships it.
build() {
  npm_cargo cargo build -p fauna-session --lib --target wasm32-unknown-unknown --profile wasm-release \
    --no-default-features --features "$1" >&2
  wasm-bindgen --target web --out-dir "$2" --out-name fauna_session \
    "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/fauna_session.wasm"
  post_process "$2" web
}
build js "$OUT/pkg/web"
build js,compat "$OUT/pkg/compat/web"

# The app: one line that uses the typical API.
ours='init({ apiDomain: "https://api.example.com" }); getAccessTokenPayloadSecurely().then(console.log);'
printf 'import { init, getAccessTokenPayloadSecurely } from "./pkg/index.js";\n%s\n' "$ours" >"$OUT/app-default.mjs"
printf 'import { init, getAccessTokenPayloadSecurely } from "./pkg/compat.js";\n%s\n' "$ours" >"$OUT/app-compat.mjs"
# The same app through the default export object (`import SuperTokens from ...`, as supertokens-website's): it keeps
# the whole API, where named imports let the bundler drop the exports the app does not use (index.js marks them pure).
whole='SuperTokens.init({ apiDomain: "https://api.example.com" }); SuperTokens.getAccessTokenPayloadSecurely().then(console.log);'
printf 'import SuperTokens from "./pkg/index.js";\n%s\n' "$whole" >"$OUT/app-whole.mjs"
printf 'import SuperTokens from "supertokens-website";\n%s\n' "$whole" >"$OUT/app-supertokens.mjs"
for app in default whole compat supertokens; do
  NODE_PATH=$TOOLS/node_modules "$ESBUILD" "$OUT/app-$app.mjs" --bundle --minify --format=esm --platform=browser \
    --log-level=warning --outfile="$OUT/bundle-$app.js"
done

size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
row() { # name wasm-or-empty js
  local wr=0 wg=0
  if [ -n "$2" ]; then wr=$(size "$2"); wg=$(gz "$2"); fi
  local jr jg; jr=$(size "$3"); jg=$(gz "$3")
  printf '%-32s %9d %9d %9d %9d %10d\n' "$1" "$wr" "$wg" "$jr" "$jg" $((wg + jg))
  eval "TOTAL_$4=$((wg + jg))"
}
printf '%-32s %9s %9s %9s %9s %10s\n' "" "wasm raw" "wasm gz" "JS raw" "JS gz" "total gz"
row "fauna-session (default entry)" "$OUT/pkg/web/fauna_session_bg.wasm" "$OUT/bundle-default.js" default
row "fauna-session, default export" "$OUT/pkg/web/fauna_session_bg.wasm" "$OUT/bundle-whole.js" whole
row "fauna-session/compat" "$OUT/pkg/compat/web/fauna_session_bg.wasm" "$OUT/bundle-compat.js" compat
st_version=$(node -p "require('$TOOLS/node_modules/supertokens-website/package.json').version")
row "supertokens-website $st_version" "" "$OUT/bundle-supertokens.js" st
printf 'default entry vs supertokens-website: %d bytes (%d%%); default export object: %d bytes (%d%%); compat: %d bytes (%d%%)\n' \
  $((TOTAL_default - TOTAL_st)) $((TOTAL_default * 100 / TOTAL_st)) \
  $((TOTAL_whole - TOTAL_st)) $((TOTAL_whole * 100 / TOTAL_st)) \
  $((TOTAL_compat - TOTAL_st)) $((TOTAL_compat * 100 / TOTAL_st))
