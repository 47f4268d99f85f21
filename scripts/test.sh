#!/usr/bin/env bash
# Runs the static checks (scripts/check.sh), then every test of the workspace: native Rust tests (server on SQLite and PostgreSQL, Fauna emulator and
# integration, browser-library logic), the browser library in Chromium, Firefox and WebKit against the real server,
# the npm package checks, and the end-to-end tests of the example app. Installs what is missing first (scripts/setup.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh || { echo "setup failed"; exit 1; }

failed=()
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
stages=0
stage() {
  local name=$1; shift
  stages=$((stages + 1))
  printf '\n======== %s ========\n' "$name"
  if "$@" 2>&1 | tee "$logs/$stages.log"; then
    echo "-- $name: ok"
  else
    echo "-- $name: FAILED"
    failed+=("$name")
    # What failed, repeated in the summary: a long run's output is often read from its end only.
    grep -aE '^test .* FAILED$|^---- .* ----$|panicked at|did not finish within|^not ok |^error(\[E[0-9]+\])?:' \
      "$logs/$stages.log" | tail -n 30 >"$logs/failed-${#failed[@]}.txt"
  fi
}

target_dir=${CARGO_TARGET_DIR:-$root/target}

# Native Rust tests: the server on SQLite and on its own PostgreSQL cluster, the Fauna emulator and the Fauna
# integration over loopback HTTP, the browser library's target-independent logic.
native_tests() {
  cargo test --workspace
}

# The browser library (wasm-bindgen-test) against the real server binary, in one engine (see the script).
browser_tests() {
  bash scripts/browser-test.sh "$1"
}

# The official fauna-js driver (v2, FQL v10) against the emulator: the emulator is faithful to what browsers send.
fauna_js_tests() {
  cargo build -p fauna-emulator || return 1
  (cd fauna-emulator/tests/js && npm ci --no-audit --no-fund --loglevel=error \
    && FAUNA_EMULATOR_BIN="$target_dir/debug/fauna-emulator" npm test)
}

# The npm package (contents, types) and the example apps end to end in Chromium (Playwright), against the demo
# (server on SQLite + Fauna emulator) started on free loopback ports with 4-second access tokens.
e2e_tests() {
  bash e2e/run.sh
}

# Static checks first: formatting, clippy with warnings denied (native; wasm32 in the browser crate's std, js and
# js+compat flavours) and rustdoc with warnings denied.
stage "checks (cargo fmt, clippy, doc: scripts/check.sh)" bash scripts/check.sh
stage "native tests (cargo test --workspace)" native_tests
stage "fauna-js driver against the emulator" fauna_js_tests
stage "browser library in headless Chromium" browser_tests chromium
stage "browser library in Firefox ESR" browser_tests firefox
stage "browser library in WebKit" browser_tests webkit
stage "npm package and end-to-end tests" e2e_tests

printf '\n======== summary ========\n'
if [ "${#failed[@]}" -gt 0 ]; then
  for i in "${!failed[@]}"; do
    printf 'failed stage: %s\n' "${failed[$i]}"
    sed 's/^/    /' "$logs/failed-$((i + 1)).txt"
  done
  exit 1
fi
echo "all stages passed"
