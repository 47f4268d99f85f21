#!/usr/bin/env bash
# Static checks, before any test (scripts/test.sh's first stage; fast to run alone):
#   cargo fmt --check; cargo deny (licences, bans, sources); cargo clippy -D warnings natively (every target, and
#   the server library without its `cli` feature) and for wasm32 in each flavour of the
#   browser crate: std (the Rust API, with compat), js (the npm default entry, no_std) and js+compat (the npm
#   compat entry); cargo doc with warnings denied, natively and for wasm32.
# The no_std flavours are checked as libraries (--lib): their tests and examples need std.
# Also the npm build's wasm post-processing tests (pkg-template/build-tools/test: shrink.mjs and low-memory.mjs fail
# loudly when wasm-bindgen or rustc name things differently), which need only node and the build tools' esbuild,
# and tests/js (src/wasm/driver.js's browser calls that hold logic of their own, in node).
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()
run() {
  echo "+ $*"
  "$@" || failed+=("$*")
}
wasm=(--target wasm32-unknown-unknown)
run cargo fmt --all --check
run cargo clippy --workspace --all-targets -- -D warnings
# The server library as an embedder compiles it: without the binary's `cli` feature.
run cargo clippy -p fauna-session-server --lib --no-default-features -- -D warnings
# Licences and sources of every dependency (deny.toml says which are accepted and why).
run cargo deny check licenses bans sources
run cargo clippy -p fauna-session --all-targets --features serde -- -D warnings
run cargo clippy -p fauna-session -p fauna-session-protocol "${wasm[@]}" --all-targets --features js,serde -- -D warnings
run cargo clippy -p fauna-session -p fauna-session-protocol "${wasm[@]}" --lib --no-default-features --features js -- -D warnings
run cargo clippy -p fauna-session "${wasm[@]}" --lib --no-default-features --features js,compat -- -D warnings
run env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
run env RUSTDOCFLAGS="-D warnings" cargo doc -p fauna-session "${wasm[@]}" --no-deps --features js,serde --quiet
tools=pkg-template/build-tools
[ -d "$tools/node_modules/esbuild" ] || (cd "$tools" && npm ci --no-audit --no-fund --silent)
run node --test "$tools/test/"
run node --test tests/js/
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'check failed: %s\n' "${failed[@]}"
  exit 1
fi
echo "checks passed"
