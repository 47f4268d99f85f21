#!/usr/bin/env bash
# Build the npm package `fauna-session` into pkg/ (or $PKG_OUT).
#
#   pkg/package.json   merged: wasm-pack's output + pkg-template/package.json
#   pkg/index.js       entry that initialises the web build (pkg-template/index.js)
#   pkg/web/           wasm-pack --target web      (native ESM, Vite, webpack 5)
#   pkg/bundler/       wasm-pack --target bundler  (bundlers with wasm-ESM support)
#   pkg/compat.js      the `fauna-session/compat` entry (pkg-template/index.js on the compat build): same API, cargo
#   pkg/compat/web/    feature `compat` (XMLHttpRequest interception, the localStorage lock), --target web
#
# Needs, no downloads outside the registries: wasm-pack (cargo install wasm-pack
# --locked), wasm-bindgen on PATH at exactly the version in Cargo.lock, the pinned
# nightly of scripts/wasm-post.sh with rust-src and the wasm32-unknown-unknown target
# (scripts/setup.sh installs it), node/npm (wasm-opt comes from the npm `binaryen`
# package, esbuild for pkg-template/build-tools/shrink.mjs from npm too, both installed
# there on first use; WASM_OPT=/path/to/wasm-opt overrides).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${PKG_OUT:-$ROOT/pkg}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/web}
export PATH="$HOME/.cargo/bin:$PATH"

die() { echo "build-npm: $*" >&2; exit 1; }

command -v wasm-pack >/dev/null || die "wasm-pack not found: cargo install wasm-pack --locked"
command -v node >/dev/null || die "node not found"

# wasm-pack only uses the wasm-bindgen on PATH when its version equals Cargo.lock's;
# otherwise it tries to download one from GitHub, which fails offline. Check first.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$ROOT/Cargo.lock")
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')
[ -n "$want" ] || die "wasm-bindgen is not in Cargo.lock"
[ "$have" = "$want" ] || die "wasm-bindgen CLI is '${have:-missing}', Cargo.lock wants $want: cargo install wasm-bindgen-cli --version $want"

# The npm build's compiler and flags (npm_cargo), shrink.mjs and wasm-opt (post_process), shared
# with size-report.sh.
. "$ROOT/scripts/wasm-post.sh"

rm -rf "$OUT"
mkdir -p "$OUT"

# target, output directory, cargo features (the default entry: fetch + Web Locks; compat: + XHR, localStorage lock)
for build in "bundler bundler js" "web web js" "web compat/web js,compat"; do
  set -- $build
  target=$1 dir=$OUT/$2 features=$3
  echo "== wasm-pack build --target $target (features $features) -> $dir"
  # --no-opt: we run wasm-opt ourselves below, with flags we choose, never a download.
  npm_cargo wasm-pack build "$ROOT" \
    --target "$target" \
    --out-dir "$dir" \
    --out-name fauna_session \
    --profile wasm-release \
    --no-opt \
    -- --no-default-features --features "$features"
  wasm="$dir/fauna_session_bg.wasm"
  before=$(stat -c %s "$wasm")
  post_process "$dir" "$target"
  echo "   shrink.mjs, wasm-opt ($("$WASM_OPT" --version)): $before -> $(stat -c %s "$wasm") bytes"
done

node "$ROOT/pkg-template/merge-package-json.mjs" \
  "$OUT/web/package.json" "$ROOT/pkg-template/package.json" "$OUT/package.json"
for dir in bundler web compat/web; do
  rm -f "$OUT/$dir/package.json" "$OUT/$dir/README.md" "$OUT/$dir/.gitignore" "$OUT/$dir"/LICENSE*
done
cp "$ROOT"/pkg-template/{index.js,index.d.ts,compat.d.ts,README.md} "$OUT/"
compat_entry "$OUT/compat.js"
for f in "$ROOT"/LICENSE*; do [ -e "$f" ] && cp "$f" "$OUT/"; done

echo "== package ready: $OUT"
(cd "$OUT" && npm pack --dry-run 2>&1 | sed -n '/Tarball Contents/,/Tarball Details/p')
