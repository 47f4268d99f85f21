#!/usr/bin/env bash
# End-to-end tests, one command:  bash e2e/run.sh
#
#  1. starts the demo (scripts/demo.sh builds pkg/ and the examples, then runs the
#     Fauna emulator, an SMTP server with its inbox + fauna-session-server serving the example) on free
#     loopback ports with 4-second access tokens;
#  2. checks the npm package (tests/npm-package.test.mjs: npm pack contents, tsc; tests/ssr.test.mjs: node
#     imports the packed tarball without a browser);
#  3. drives the demo with Playwright in the Debian Chromium (tests/*.browser.test.mjs):
#     the Vite example end to end, its account panels (verify email, forgot password, devices) with
#     the real emails from the demo inbox, two tabs sharing one refresh, the Yew and Leptos apps, the fauna
#     driver with the session-managed token, and the packed tarball built with Vite, webpack 5, Rollup
#     and as native ES modules;
#  4. stops everything it started; exits non-zero if anything failed.
#
# Screenshots go to artifacts/ (ARTIFACTS_DIR) at the repository root; logs to $DEMO_STATE_DIR.
# E2E_SKIP_BUILD=1 reuses the last build; E2E_SKIP_SETUP=0 runs scripts/setup.sh first;
# E2E_TESTS="tests/accounts.browser.test.mjs" runs only those test files (paths relative to e2e/).
# Honours CARGO_TARGET_DIR. Tests run one file at a time (they read global server counters).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$HERE"

# Installed as the lock file says (again when a newer lock file added a package, e.g. the bundlers).
for dep in playwright-core typescript vite webpack rollup @rollup/plugin-node-resolve; do
  [ -d "node_modules/$dep" ] || { npm ci --no-audit --no-fund; break; }
done

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
export DEMO_PORT=${DEMO_PORT:-$(free_port)}
export FAUNA_PORT=${FAUNA_PORT:-$(free_port)}
export ACCESS_TOKEN_LIFETIME=${ACCESS_TOKEN_LIFETIME:-4}
export DEMO_STATE_DIR=${DEMO_STATE_DIR:-$(mktemp -d /tmp/fauna-session-e2e.XXXXXX)}
export DEMO_SKIP_SETUP=${E2E_SKIP_SETUP:-1}
export DEMO_SKIP_BUILD=${E2E_SKIP_BUILD:-0}

DEMO_PID=
stop_demo() {
  if [ -n "$DEMO_PID" ]; then kill "$DEMO_PID" 2>/dev/null || true; wait "$DEMO_PID" 2>/dev/null || true; fi
}
trap stop_demo EXIT

# demo.sh builds pkg/, the examples and the binaries, then starts the servers.
bash "$ROOT/scripts/demo.sh" >"$DEMO_STATE_DIR/demo.out" 2>&1 &
DEMO_PID=$!
deadline=$((SECONDS + ${E2E_START_TIMEOUT:-2400})) # the first build on a fresh machine is slow
while [ "$SECONDS" -lt "$deadline" ]; do
  grep -qs '^READY ' "$DEMO_STATE_DIR/demo.out" && break
  kill -0 "$DEMO_PID" 2>/dev/null || { cat "$DEMO_STATE_DIR/demo.out"; echo "e2e: the demo did not start"; exit 1; }
  sleep 0.5
done
grep -q '^READY ' "$DEMO_STATE_DIR/demo.out" || { cat "$DEMO_STATE_DIR/demo.out"; echo "e2e: timed out"; exit 1; }

export DEMO_URL="http://127.0.0.1:$DEMO_PORT"
export FAUNA_ENDPOINT=${FAUNA_ENDPOINT:-"http://127.0.0.1:$FAUNA_PORT"}
export ARTIFACTS_DIR=${ARTIFACTS_DIR:-$ROOT/artifacts}
mkdir -p "$ARTIFACTS_DIR"
status=0
# shellcheck disable=SC2086 # E2E_TESTS is a list of paths
node --test --test-concurrency=1 ${E2E_TESTS:-tests/npm-package.test.mjs tests/ssr.test.mjs tests/*.browser.test.mjs} || status=1

if [ "$status" != 0 ]; then
  echo "e2e: FAILED; logs in $DEMO_STATE_DIR"
  tail -n 30 "$DEMO_STATE_DIR"/*.log || true
fi
exit "$status"
