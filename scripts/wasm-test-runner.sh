#!/usr/bin/env bash
# The wasm32 test runner scripts/browser-test.sh gives cargo: wasm-bindgen-test-runner, with its page server kept
# warm and a bound on one test binary.
#
# The page server (tiny_http) can leave one of a browser's first connections unread for as long as the others stay
# open, so the test page never loads and the runner's WASM_BINDGEN_TEST_TIMEOUT, which starts only once the page has
# loaded, never fires. tests/support/page_server_warmer.py explains the cause, keeps the server's thread pool ahead
# of the browser while the runner is up, and proves it works (`--check`, run by scripts/browser-test.sh).
# As a last resort, a binary that has not finished after WASM_TEST_BINARY_TIMEOUT seconds (default 300; the slowest
# suite takes about a minute) is stopped and run once more, saying so. A test that fails is never retried.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bound=${WASM_TEST_BINARY_TIMEOUT:-300}
# The page server's address: scripts/browser-test.sh pins it (the origin the test server allows).
address=${WASM_BINDGEN_TEST_ADDRESS:?set WASM_BINDGEN_TEST_ADDRESS (scripts/browser-test.sh does)}
for attempt in 1 2; do
  /usr/bin/python3 "$here/../tests/support/page_server_warmer.py" "$address" &
  warmer=$!
  timeout --kill-after=10 "$bound" wasm-bindgen-test-runner "$@"
  rc=$?
  kill "$warmer" 2>/dev/null; wait "$warmer" 2>/dev/null
  [ "$rc" = 124 ] || [ "$rc" = 137 ] || exit "$rc"
  echo "wasm-test-runner: $(basename "$1") did not finish within ${bound}s (attempt $attempt of 2)" >&2
  pkill -f -- "--user-data-dir=/tmp/org.chromium.Chromium.scoped_dir" 2>/dev/null || true
done
exit 124
