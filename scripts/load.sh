#!/usr/bin/env bash
# Load test of the release server binary with wrk on loopback (numbers only, no pass/fail):
#   req/s of GET /sessioninfo (verified session) vs GET /health (unprotected) on the same server, their ratio,
#   and the server's RSS idle and under load.
# Usage: scripts/load.sh [duration_s=10] [connections=64]; DATABASE_URL=postgres://… to load PostgreSQL instead
# of a temp SQLite file (sessions are only verified statelessly here, so the database barely matters).
# LOAD_BIN=path/to/fauna-session-server loads that binary instead of building this tree's (e.g. an older build,
# to compare before and after); the release build goes to $CARGO_TARGET_DIR (default target/).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
conns=${2:-64}
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 1; }

if [ -n "${LOAD_BIN:-}" ]; then
  bin=$LOAD_BIN
else
  cargo build --release -p fauna-session-server --bin fauna-session-server >/dev/null 2>&1 \
    || cargo build --release -p fauna-session-server --bin fauna-session-server
  bin=${CARGO_TARGET_DIR:-target}/release/fauna-session-server
fi
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
db=${DATABASE_URL:-sqlite://$tmp/load.sqlite?mode=rwc}
"$bin" --listen "127.0.0.1:$port" --database-url "$db" --log warn >"$tmp/server.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
email="load$RANDOM$RANDOM@example.com"
at=$(curl -fs -D - -o /dev/null -H 'st-auth-mode: header' -H 'content-type: application/json' \
  -d "{\"formFields\":[{\"id\":\"email\",\"value\":\"$email\"},{\"id\":\"password\",\"value\":\"load12345\"}]}" \
  "http://127.0.0.1:$port/auth/signup" | awk 'tolower($1)=="st-access-token:" {print $2}' | tr -d '\r')
[ -n "$at" ] || { echo "could not create a session"; cat "$tmp/server.log"; exit 1; }
curl -fs -H "authorization: Bearer $at" "http://127.0.0.1:$port/sessioninfo" >/dev/null

idle=$(rss_kb)
peak=$idle
sample_rss() { while kill -0 "$1" 2>/dev/null; do r=$(rss_kb); [ "$r" -gt "$(cat "$tmp/peak")" ] && echo "$r" >"$tmp/peak"; sleep 0.2; done; }
echo "$idle" >"$tmp/peak"

run_wrk() { # path, extra header → req/s
  local out
  if [ -n "${2:-}" ]; then
    out=$(wrk -t2 -c"$conns" -d"${duration}s" -H "$2" "http://127.0.0.1:$port$1")
  else
    out=$(wrk -t2 -c"$conns" -d"${duration}s" "http://127.0.0.1:$port$1")
  fi
  echo "$out" >>"$tmp/wrk.txt"
  if echo "$out" | grep -q 'Non-2xx'; then echo "non-2xx responses on $1:"; echo "$out"; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}

# Both routes get the same request headers: a browser sends its session (the `sAccessToken` cookie has Path=/)
# to every route, so the difference measured is the cost of verifying the session, not bytes on the wire.
# The routes alternate in short rounds so that background load on the machine hits both alike.
auth="authorization: Bearer $at"
rounds=${ROUNDS:-4}
per=$(( duration / rounds > 0 ? duration / rounds : 1 ))
wrk -t2 -c"$conns" -d2s -H "$auth" "http://127.0.0.1:$port/health" >/dev/null
(
  for _ in $(seq "$rounds"); do
    duration=$per run_wrk /health "$auth" >>"$tmp/h"
    duration=$per run_wrk /sessioninfo "$auth" >>"$tmp/s"
  done
) &
load=$!
sample_rss $load &
wait $load
peak=$(cat "$tmp/peak")
h=$(python3 -c "import sys; v=[float(x) for x in open('$tmp/h')]; print(round(sum(v)/len(v)))")
s=$(python3 -c "import sys; v=[float(x) for x in open('$tmp/s')]; print(round(sum(v)/len(v)))")
ratio=$(python3 -c "print(f'{$s/$h:.3f}')")
echo "load: ${rounds} alternating rounds of ${per}s per route, $conns connections, 2 wrk threads, $(nproc) cores, database ${db%%:*}"
echo "GET /health       (unprotected) : $h req/s"
echo "GET /sessioninfo  (verified)    : $s req/s"
echo "ratio sessioninfo/health        : $ratio (goal >= 0.9)"
echo "RSS idle                        : $((idle / 1024)) MiB ($idle kB)"
echo "RSS peak under load             : $((peak / 1024)) MiB ($peak kB)"
