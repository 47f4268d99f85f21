#!/usr/bin/env bash
# Floods against the release server, each on a fresh server and SQLite file (scripts/flood.py):
#   signin    500 concurrent sign-ins of unknown emails: peak RSS, 503s, /health latency
#   signup    2,000 sign-ups, 8 at a time: peak RSS and RSS after, /health latency
#   slowbody  3 client IPs x 400 trickled bodies (more than the 1,024 global slots): /health and sign-in latency from another IP meanwhile
#
#   bash scripts/flood.sh                  (every scenario)
#   bash scripts/flood.sh slowbody         (just that one)
#
# Environment (all optional):
#   FLOOD_REQUESTS=500 FLOOD_SIGNUPS=2000 FLOOD_SIGNUP_CONCURRENCY=8
#   FLOOD_SLOW_IPS=3 FLOOD_SLOW_CONNECTIONS=400 FLOOD_SLOW_SECONDS=20
#   FLOOD_TIMEOUT=120         seconds each request may take
#   SERVER_BIN=path           use this server binary instead of building target/release's
#   FLOOD_SERVER_ARGS="..."   extra server flags (e.g. --password-hash-threads 1)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${SERVER_BIN:-}" ]; then
  cargo build --release -q -p fauna-session-server
  SERVER_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/fauna-session-server
fi
export SERVER_BIN
exec python3 scripts/flood.py "$@"
