# Sourced by scripts/build-npm.sh and scripts/size-report.sh: the one definition of how the npm build's wasm is
# compiled and post-processed, so the size report measures exactly what ships. Needs ROOT (the repository root).
#
# The tools come from pkg-template/build-tools (locked, from the npm registry): wasm-opt from Binaryen 132 and
# esbuild for shrink.mjs. Not Debian's Binaryen 108: it gives ~3 KB more and its output of this module fails to
# instantiate ("WebAssembly.Table.set(): Argument 1 is invalid for table"). WASM_OPT overrides which wasm-opt.

TOOLS="$ROOT/pkg-template/build-tools"
if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ] || [ ! -d "$TOOLS/node_modules/esbuild" ]; then
  (cd "$TOOLS" && npm ci --no-audit --no-fund --silent) >&2
fi
WASM_OPT=${WASM_OPT:-$TOOLS/node_modules/.bin/wasm-opt}

# The compiler of the npm build: a pinned nightly, for one thing stable Rust cannot do yet. With
# `-Z build-std=core,alloc` and `-C panic=immediate-abort`, core and alloc are compiled for this build with every panic
# a bare trap: no panic messages, locations or `core::fmt` code (which only panic messages reach in this `no_std`
# build) are linked at all. The npm build's panic handler already trapped without reading them; this drops them
# from the module instead of leaving them dead (about 970 B gzipped of the default entry, scripts/size-report.sh).
# It also turns off two wasm features rustc enables by default, reference-types and multivalue: without them
# wasm-bindgen keeps JS values in a small JS-side heap (an array the glue indexes) instead of an externref table
# with a shim around each export and import that passes JS values, about 670 B gzipped less in all
# (scripts/size-report.sh: wasm -740, JS +70). shrink.mjs fails the build if the module still passes externrefs or
# returns several values.
# `-Z location-detail=none`: a `#[track_caller]` function (`RefCell::borrow_mut`, slice indexing, `expect`) still
# takes its caller's file, line and column as an argument, though with `panic=immediate-abort` nothing ever reads
# them; with this flag they are one empty location, so neither the file names nor the code passing them are linked
# (about 200 B gzipped).
# `-C llvm-args=-inline-threshold=52`: LLVM's inliner at `opt-level = "z"` inlines only calls it expects to cost
# almost nothing (its threshold there is 5); a higher one inlines more of the small helpers each decision calls, and
# wasm-opt then folds what the inlined copies share. A heuristic only, no change in meaning. Measured on the
# default entry (wasm gz, scripts/size-report.sh's pipeline): 5 (the default) 18,768; 10: 18,632; 25: 18,545;
# 35: 18,709; 40: 18,281; 45: 18,365; 48 and 50: 18,230; 52 and 55: 18,217; 60: 18,331; 75: 18,617; 100: 18,468;
# 200: 19,155. The figure is not smooth in the threshold (gzip and inlining interact), so 52 sits inside the
# 40-60 plateau rather than on a lone minimum; re-measure it when the code changes much. Re-measured after the
# claims and tab-sync closures went (18,217 -> 17,630 at 52): 44: 17,737; 48: 17,626; 52: 17,630; 56 and 60: 17,885.
# Everything else (tests, clippy, the Rust crate) uses stable. scripts/setup.sh installs this toolchain.
NPM_TOOLCHAIN=nightly-2026-05-20

# npm_cargo COMMAND...: runs `cargo build ...` or `wasm-pack build ... -- <cargo args>` with the npm build's compiler
# and flags: the toolchain and rustflags in the environment, `-Z build-std=core,alloc` appended to the cargo
# arguments (the end of either command line). A RUSTFLAGS of the caller's would replace these rustflags: unset it.
npm_cargo() {
  rustup run "$NPM_TOOLCHAIN" rustc --version >/dev/null 2>&1 || {
    echo "wasm-post: the npm build needs Rust $NPM_TOOLCHAIN with rust-src:" \
      "rustup toolchain install $NPM_TOOLCHAIN --profile minimal -c rust-src -t wasm32-unknown-unknown" >&2
    return 1
  }
  RUSTUP_TOOLCHAIN=$NPM_TOOLCHAIN \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Z unstable-options -C panic=immediate-abort -C target-feature=-reference-types,-multivalue -Z location-detail=none -C llvm-args=-inline-threshold=52" \
    "$@" -Z build-std=core,alloc
}

# optimise_wasm FILE: wasm-bindgen's output (after shrink.mjs), in place: wasm-opt -Oz. The feature flags match what npm_cargo's rustc
# enables for wasm32 (harmless when the target_features section is present, required when it is not); the optimised module
# needs neither that section nor `producers`, so both are stripped. --low-memory-unused (constant address parts
# folded into load/store offsets, -180 B gz) is true of rustc's memory layout; low-memory.mjs checks that it still
# is (memory not imported, every data segment at or above 1024) and fails the build otherwise.
optimise_wasm() {
  node "$TOOLS/low-memory.mjs" "$1" >&2
  "$WASM_OPT" -Oz --low-memory-unused \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals \
    --strip-producers --strip-target-features \
    -o "$1" "$1"
}

# shrink_package DIR web|bundler: short wasm import/export names (glue and .d.ts rewritten to match) and a minified
# glue; the public JS API is unchanged. See shrink.mjs's header.
shrink_package() {
  node "$TOOLS/shrink.mjs" "$1" "$2" >&2
}

# post_process DIR web|bundler: what follows wasm-bindgen, in this order: shrink.mjs first (it drops the exports the
# glue never uses), then wasm-opt, which removes what only those reached (-19 B gz against the other order).
post_process() {
  shrink_package "$1" "$2"
  optimise_wasm "$1/fauna_session_bg.wasm"
}

# compat_entry OUT_FILE: the `fauna-session/compat` entry, made from pkg-template/index.js (so both entries stay one
# text): the same code, importing and fetching the compat build (./compat/web/) instead of ./web/, and waiting for
# the module at import (the marked top-level await).
compat_entry() {
  sed -e 's#"\./web/fauna_session\(\.js\|_bg\.wasm\)"#"./compat/web/fauna_session\1"#g' \
    -e 's#^/\* compat: \(await ready;\) \*/$#\1#' "$ROOT/pkg-template/index.js" >"$1"
  grep -q '"./compat/web/fauna_session.js"' "$1" && grep -q '"./compat/web/fauna_session_bg.wasm"' "$1" \
    && grep -qx 'await ready;' "$1" && ! grep -q '"\./web/' "$1" \
    || { echo "wasm-post: pkg-template/index.js no longer imports \"./web/fauna_session.js\", fetches \"./web/fauna_session_bg.wasm\" and marks \"/* compat: await ready; */\"" >&2; return 1; }
}
