#!/usr/bin/env bash
# Throughput and latency of the emulator (release build) under wrk, for the queries
# fauna-session sends: a trivial query, a token mint (the per-sign-in/refresh query) and a
# browser token's read. Prints wrk's numbers.
#
#   bash fauna-emulator/bench/run.sh        (DURATION=10s CONNECTIONS=8 THREADS=2 PORT=18443)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PORT=${PORT:-18443}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
cargo build --release -q -p fauna-emulator
"$TARGET/release/fauna-emulator" --listen "127.0.0.1:$PORT" --collection User --token-role User:read &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/ping" >/dev/null && break; sleep 0.05; done
q() { curl -sf -H "authorization: Bearer $1" -d "$2" "http://127.0.0.1:$PORT/query/1"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['data']['$1'])"; }
SERVER=$(q secret '{"query":"Key.create({ role: \"server\" })"}' | field secret)
UID_=$(q "$SERVER" '{"query":"User.create({ name: \"bench\" })"}' | field id)
TOKEN=$(q "$SERVER" "{\"query\":\"Token.create({ document: User.byId(\\\"$UID_\\\") })\"}" | field secret)
MINT="{\"query\":\"let u = coll.byId(uid)!\\nlet t = Token.create({ document: u, ttl: Time.now().add(ttl_ms, \\\"milliseconds\\\"), data: { session: s } })\\n{ id: t.id, secret: t.secret }\",\"arguments\":{\"coll\":{\"@mod\":\"User\"},\"uid\":\"$UID_\",\"ttl_ms\":{\"@long\":\"3630000\"},\"s\":\"bench\"}}"
run() {
  echo "== $1"
  SECRET=$2 BODY=$3 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s fauna-emulator/bench/query.lua \
    "http://127.0.0.1:$PORT/query/1" | grep -E 'Requests/sec|Latency|50%|99%'
}
run "trivial query (1), root key" secret '{"query":"1"}'
run "token mint (sign-in/refresh query), server key" "$SERVER" "$MINT"
run "user token reads its identity" "$TOKEN" '{"query":"Query.identity()!.name"}'
echo "== live tokens after the run: $(curl -s -H 'authorization: Bearer secret' "http://127.0.0.1:$PORT/_emulator/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["live_tokens"])')"
