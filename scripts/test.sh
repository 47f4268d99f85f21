#!/usr/bin/env bash
# Runs the static checks (scripts/check.sh), then every test of the workspace: native Rust tests (server on SQLite and PostgreSQL, Fauna emulator and
# integration, browser-library logic), the browser library in Chromium, Firefox and WebKit against the real server,
# the npm package checks, and the end-to-end tests of the example app. Installs what is missing first (scripts/setup.sh).
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

target_dir=${CARGO_TARGET_DIR:-$root/target}
server_bin=$target_dir/debug/fauna-session-server

# Native Rust tests: the server on SQLite and on its own PostgreSQL cluster, the Fauna emulator and the Fauna
# integration over loopback HTTP, the browser library's target-independent logic.
native_tests() {
  cargo test --workspace
}

# The browser library (wasm-bindgen-test) against the real server binary, in one engine: chromium (chromedriver),
# firefox (Firefox ESR through geckodriver) or webkit (WebKitWebDriver driving WebKitGTK's MiniBrowser, on a virtual
# display). The test page is pinned to 127.0.0.1:8000, the origin the server allows; the server runs with 2-second
# access tokens and a Fauna token per session from the Fauna emulator (on a free port, passed to the tests at compile
# time as FAUNA_SESSION_TEST_FAUNA).
browser_tests() {
  local driver
  case $1 in
    chromium) driver=(env CHROMEDRIVER=/usr/bin/chromedriver) ;;
    firefox) driver=(env GECKODRIVER="$(command -v geckodriver)") ;;
    webkit) driver=(xvfb-run -a env SAFARIDRIVER=/usr/bin/WebKitWebDriver) ;;
    *) echo "unknown browser engine $1"; return 1 ;;
  esac
  cargo build -p fauna-session-server -p fauna-emulator || return 1
  local tmp; tmp=$(mktemp -d)
  local fauna_port; fauna_port=$(free_port)
  local fauna="http://127.0.0.1:$fauna_port"
  FAUNA_EMULATOR_ROOT_KEY=secret "$target_dir/debug/fauna-emulator" --listen "127.0.0.1:$fauna_port" \
    --collection User --collection Note --token-role "Note:read,create" >"$tmp/fauna.log" 2>&1 &
  local emu=$!
  FAUNA_ENDPOINT=$fauna FAUNA_SECRET=secret "$server_bin" --listen 127.0.0.1:3001 \
    --website-origin http://127.0.0.1:8000 --access-token-lifetime 2 --metrics --fauna-frontend-access \
    --database-url "sqlite://$tmp/sessions.sqlite?mode=rwc" >"$tmp/server.log" 2>&1 &
  local srv=$!
  local up=0
  for _ in $(seq 100); do
    curl -sf http://127.0.0.1:3001/health >/dev/null && curl -sf "$fauna/ping" >/dev/null && { up=1; break; }
    sleep 0.2
  done
  if [ "$up" != 1 ]; then cat "$tmp/server.log" "$tmp/fauna.log"; kill "$srv" "$emu" 2>/dev/null; return 1; fi
  FAUNA_SESSION_TEST_FAUNA=$fauna WASM_BINDGEN_TEST_ADDRESS=127.0.0.1:8000 WASM_BINDGEN_TEST_TIMEOUT=180 \
    "${driver[@]}" cargo test -p fauna-session --target wasm32-unknown-unknown --features js,serde --no-fail-fast
  local rc=$?
  kill "$srv" "$emu" 2>/dev/null; wait "$srv" "$emu" 2>/dev/null
  [ "$rc" = 0 ] || tail -n 40 "$tmp/server.log" "$tmp/fauna.log"
  return "$rc"
}

# A free loopback TCP port.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

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
  printf 'failed stage: %s\n' "${failed[@]}"
  exit 1
fi
echo "all stages passed"
