#!/usr/bin/env bash
# The browser library's tests (wasm-bindgen-test) against the real server binary, in one engine:
#   bash scripts/browser-test.sh chromium|firefox|webkit [extra cargo test arguments, e.g. --test browser_tabs]
# chromium drives chromedriver, firefox Firefox ESR through geckodriver, webkit WebKitWebDriver driving WebKitGTK's
# MiniBrowser on a virtual display. The test page is pinned to 127.0.0.1:8000, the origin the server allows; the
# server (127.0.0.1:3001) runs with 2-second access tokens and a Fauna token per session from the Fauna emulator (on
# a free port, passed to the tests at compile time as FAUNA_SESSION_TEST_FAUNA); tests/support/servers.py starts and
# kills extra servers for them (FAUNA_SESSION_TEST_SERVERS). The ports 8000 and 3001 are fixed: run one of
# these at a time. scripts/test.sh runs it for each engine; it expects scripts/setup.sh to have run.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
server_bin=$target_dir/debug/fauna-session-server
engine=${1:?usage: browser-test.sh chromium|firefox|webkit [cargo test args]}
shift

case $engine in
  chromium) driver=(env CHROMEDRIVER=/usr/bin/chromedriver) ;;
  firefox) driver=(env GECKODRIVER="$(command -v geckodriver)") ;;
  webkit) driver=(xvfb-run -a env SAFARIDRIVER=/usr/bin/WebKitWebDriver) ;;
  *) echo "unknown browser engine $engine"; exit 1 ;;
esac

# A free loopback TCP port.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

cargo build -p fauna-session-server -p fauna-emulator || exit 1
tmp=$(mktemp -d)
fauna_port=$(free_port)
fauna="http://127.0.0.1:$fauna_port"
FAUNA_EMULATOR_ROOT_KEY=secret "$target_dir/debug/fauna-emulator" --listen "127.0.0.1:$fauna_port" \
  --collection User --collection Note --token-role "Note:read,create" >"$tmp/fauna.log" 2>&1 &
emu=$!
FAUNA_ENDPOINT=$fauna FAUNA_SECRET=secret "$server_bin" --listen 127.0.0.1:3001 \
  --website-origin http://127.0.0.1:8000 --access-token-lifetime 2 --metrics --fauna-frontend-access \
  --database-url "sqlite://$tmp/sessions.sqlite?mode=rwc" >"$tmp/server.log" 2>&1 &
srv=$!
# Extra servers the failure tests start and kill (tests/support/servers.py), on free ports.
/usr/bin/python3 tests/support/servers.py --server-bin "$server_bin" --website-origin http://127.0.0.1:8000 \
  --dir "$tmp" >"$tmp/servers.out" 2>"$tmp/servers.log" &
ctl=$!
stop() { kill "$srv" "$emu" "$ctl" 2>/dev/null; wait "$srv" "$emu" "$ctl" 2>/dev/null; }
up=0
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:3001/health >/dev/null && curl -sf "$fauna/ping" >/dev/null \
    && grep -q '^listening ' "$tmp/servers.out" && { up=1; break; }
  sleep 0.2
done
if [ "$up" != 1 ]; then cat "$tmp/server.log" "$tmp/fauna.log" "$tmp/servers.log"; stop; exit 1; fi
servers="http://127.0.0.1:$(sed -n 's/^listening //p' "$tmp/servers.out")"
# The page server's starvation workaround (tests/support/page_server_warmer.py) is checked once, with the Chromium run.
if [ "$engine" = chromium ]; then
  cargo test -p fauna-session --target wasm32-unknown-unknown --features js,serde --no-run "$@" || { stop; exit 1; }
  page_wasm=$(ls -t "$target_dir"/wasm32-unknown-unknown/debug/deps/browser_*.wasm | head -n 1)
  /usr/bin/python3 tests/support/page_server_warmer.py --check "$page_wasm" || { stop; exit 1; }
fi
# scripts/wasm-test-runner.sh keeps the page server warm, bounds each test binary and runs one stopped by the bound once more (see there).
run_suite() {
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=$root/scripts/wasm-test-runner.sh \
  FAUNA_SESSION_TEST_SERVERS=$servers FAUNA_SESSION_TEST_FAUNA=$fauna WASM_BINDGEN_TEST_ADDRESS=127.0.0.1:8000 WASM_BINDGEN_TEST_TIMEOUT=180 \
    "${driver[@]}" cargo test -p fauna-session --target wasm32-unknown-unknown --features js,serde --no-fail-fast "$@"
}
run_suite "$@"
rc=$?
# Stopgap, WebKit only: tests/browser_fake_backend.rs has a known race there (a refresh counted in the next test,
# or `attempt_refreshing_session` answering false; seen about once in three full runs on a loaded 2-core machine,
# never in Chromium or Firefox). Until it is found and fixed, a failed WebKit run is run once more, and says so;
# a real failure fails twice.
if [ "$rc" != 0 ] && [ "$engine" = webkit ]; then
  echo "!! WebKit: the suite failed; running it once more (known race in tests/browser_fake_backend.rs)"
  run_suite "$@"
  rc=$?
  [ "$rc" = 0 ] && echo "!! WebKit: passed on the second run: the race above is still there"
fi
stop
[ "$rc" = 0 ] || tail -n 40 "$tmp"/*.log
rm -rf "$tmp"
exit "$rc"
