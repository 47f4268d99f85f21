# Sourced by scripts/build-npm.sh and scripts/size-report.sh: the one definition of how the npm build's wasm is
# post-processed, so the size report measures exactly what ships. Needs ROOT (the repository root).
#
# The tools come from pkg-template/build-tools (locked, from the npm registry): wasm-opt from Binaryen 132 and
# esbuild for shrink.mjs. Not Debian's Binaryen 108: it gives ~3 KB more and its output of this module fails to
# instantiate ("WebAssembly.Table.set(): Argument 1 is invalid for table"). WASM_OPT overrides which wasm-opt.

TOOLS="$ROOT/pkg-template/build-tools"
if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ] || [ ! -d "$TOOLS/node_modules/esbuild" ]; then
  (cd "$TOOLS" && npm ci --no-audit --no-fund --silent) >&2
fi
WASM_OPT=${WASM_OPT:-$TOOLS/node_modules/.bin/wasm-opt}

# optimise_wasm FILE: wasm-bindgen's output, in place: dead core::fmt code made unreachable (only panic messages
# point at it; the no_std build's panics trap), then wasm-opt -Oz. The feature flags match what rustc enables for
# wasm32 (harmless when the target_features section is present, required when it is not); the optimised module
# needs neither that section nor `producers`, so both are stripped.
optimise_wasm() {
  node "$TOOLS/snip-fmt.mjs" "$1" >&2
  "$WASM_OPT" -Oz \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --strip-producers --strip-target-features \
    -o "$1" "$1"
}

# shrink_package DIR web|bundler: short wasm import/export names (glue and .d.ts rewritten to match) and a minified
# glue; the public JS API is unchanged. See shrink.mjs's header.
shrink_package() {
  node "$TOOLS/shrink.mjs" "$1" "$2" >&2
}

# compat_entry OUT_FILE: the `fauna-session/compat` entry, made from pkg-template/index.js (so both entries stay one
# text): the same code, loading the compat build (./compat/web/) instead of ./web/.
compat_entry() {
  sed 's#"\./web/fauna_session\.js"#"./compat/web/fauna_session.js"#g' "$ROOT/pkg-template/index.js" >"$1"
  grep -q '"./compat/web/fauna_session.js"' "$1" && ! grep -q '"./web/fauna_session.js"' "$1" \
    || { echo "wasm-post: pkg-template/index.js no longer imports \"./web/fauna_session.js\"" >&2; return 1; }
}
