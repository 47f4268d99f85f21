#!/usr/bin/env bash
# Per-request cost of the session libraries in headless Chromium, numbers only (asserts nothing):
# N sequential `fetch("/sessioninfo")` calls (a protected route, cookie-mode session) on one page each for the
# native fetch, supertokens-website 20.1.6 and fauna-session (the npm package's default entry), in R interleaved
# rounds against one fauna-session-server; prints each library's overhead per request over the native fetch, the
# time from `import()` to `init` returning, and to a first request answered (fauna-session's init returns before its
# module is in; requests wait for it). Medians over rounds. Then, on each library's page, N more requests
# alternate between its fetch and the native fetch saved before it loaded: that paired overhead sees the same
# machine load on both sides, so it is the steadier figure on a busy machine. Last, each library's own work per
# request with the network taken out (`fetch` answered at once), the steadiest figure of all.
#
# Usage: scripts/bench-requests.sh [N=200] [ROUNDS=7]
# Builds what scripts/size-report.sh builds (into target/bench-requests/build), and the server (release build, as
# an app would deploy it; either build answers in about 1 ms to curl, while one fetch in headless Chromium takes ~5);
# BENCH_SKIP_BUILD=1 reuses both.
# Chromium: /usr/bin/chromium (CHROMIUM overrides) through e2e/'s playwright-core. Free loopback ports only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-200}
ROUNDS=${2:-7}
OUT=target/bench-requests
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TOOLS=$ROOT/pkg-template/build-tools

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/size-report.sh "$OUT/build" >&2
  cargo build -q --release -p fauna-session-server >&2
fi
[ -d e2e/node_modules/playwright-core ] || (cd e2e && npm ci --no-audit --no-fund --silent) >&2

WWW=$OUT/www
rm -rf "$WWW" && mkdir -p "$WWW"
# The libraries as an app bundles them (esbuild --bundle --minify --format=esm), exporting their API to the page.
printf 'export * from "./build/pkg/index.js";\n' >"$OUT/ours-entry.mjs"
printf 'export { default } from "supertokens-website";\n' >"$OUT/st-entry.mjs"
for lib in ours st; do
  NODE_PATH=$TOOLS/node_modules "$TOOLS/node_modules/.bin/esbuild" "$OUT/$lib-entry.mjs" --bundle --minify \
    --format=esm --platform=browser --log-level=warning --outfile="$WWW/$lib.js"
done
mkdir -p "$WWW/web" # the bundle's new URL("./web/fauna_session_bg.wasm", import.meta.url)
cp "$OUT/build/pkg/web/fauna_session_bg.wasm" "$WWW/web/"
printf '<!doctype html><meta charset="utf-8"><title>bench</title>\n' >"$WWW/index.html"

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
STATE=$(mktemp -d)
"$TARGET_DIR/release/fauna-session-server" --listen "127.0.0.1:$PORT" --website-origin "http://127.0.0.1:$PORT" \
  --static-dir "$WWW" --log warn --database-url "sqlite://$STATE/sessions.sqlite?mode=rwc" >"$STATE/server.log" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null || true; wait $SRV 2>/dev/null || true; rm -rf "$STATE"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
BENCH_URL="http://127.0.0.1:$PORT" N=$N ROUNDS=$ROUNDS timeout 900 node scripts/bench-requests.mjs
