#!/usr/bin/env bash
# A sign-in flood against the release server: N concurrent sign-in requests (unknown emails, so each
# one hashes against the dummy argon2id hash, as a credential-stuffing run would), while /health is
# polled. Prints the server's peak RSS, /health latency during the flood and how many requests were
# answered 503 (password hashing at capacity) or otherwise.
#
#   bash scripts/flood.sh                      (FLOOD_REQUESTS=500)
#
# Environment (all optional):
#   FLOOD_REQUESTS=500        concurrent sign-in requests
#   FLOOD_TIMEOUT=120         seconds each request may take (the whole run is bounded by it)
#   SERVER_BIN=path           use this server binary instead of building target/release's
#   FLOOD_SERVER_ARGS="..."   extra server flags (e.g. --password-hash-threads 1)
# The per-IP sign-in rate limit is turned off for the run (FAUNA_SESSION_RATE_LIMIT_SIGNIN=0): the
# flood comes from one address, and the point is what the server does when the requests get through.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
REQUESTS=${FLOOD_REQUESTS:-500}
TIMEOUT=${FLOOD_TIMEOUT:-120}
if [ -z "${SERVER_BIN:-}" ]; then
  cargo build --release -q -p fauna-session-server
  SERVER_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/fauna-session-server
fi
STATE=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# shellcheck disable=SC2086
FAUNA_SESSION_RATE_LIMIT_SIGNIN=0 FAUNA_SESSION_LOG=warn \
  DATABASE_URL="sqlite://$STATE/flood.sqlite?mode=rwc" \
  "$SERVER_BIN" --listen "127.0.0.1:$PORT" ${FLOOD_SERVER_ARGS:-} >"$STATE/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$STATE"' EXIT
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  kill -0 $PID 2>/dev/null || { cat "$STATE/server.log" >&2; exit 1; }
  sleep 0.05
done
echo "server: $SERVER_BIN ${FLOOD_SERVER_ARGS:-} (pid $PID, $(nproc) cores), $REQUESTS concurrent sign-ins"
python3 - "$PORT" "$PID" "$REQUESTS" "$TIMEOUT" <<'PY'
import collections, http.client, json, statistics, sys, threading, time

port, pid, n, timeout = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])

def rss_kib(field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

def request(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"content-type": "application/json", "rid": "emailpassword"} if body else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("retry-after")
    except Exception as e:  # a refused or reset connection counts as an outcome too
        return type(e).__name__, None
    finally:
        c.close()

rss_before = rss_kib("VmRSS")
start = threading.Barrier(n + 1)
results = [None] * n
def sign_in(i):
    body = json.dumps({"formFields": [{"id": "email", "value": f"flood-{i}@example.com"},
                                      {"id": "password", "value": f"not-the-password-{i}"}]})
    start.wait()
    results[i] = request("POST", "/auth/signin", body)
threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(n)]
for t in threads:
    t.start()

health = []
peak_sampled = 0
def watch():
    global peak_sampled
    while any(t.is_alive() for t in threads):
        t0 = time.monotonic()
        status, _ = request("GET", "/health")
        health.append((time.monotonic() - t0) * 1000 if status == 200 else None)
        peak_sampled = max(peak_sampled, rss_kib("VmRSS"))
        time.sleep(0.05)
t0 = time.monotonic()
start.wait()
watcher = threading.Thread(target=watch)
watcher.start()
for t in threads:
    t.join()
wall = time.monotonic() - t0
watcher.join()

counts = collections.Counter(str(s) for s, _ in results)
retry_after = collections.Counter(ra for s, ra in results if s == 503)
ok_health = sorted(h for h in health if h is not None)
print(f"sign-in answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
print(f"503 answers: {counts.get('503', 0)} of {n} (Retry-After values: {dict(retry_after)})")
print(f"peak RSS: {rss_kib('VmHWM') / 1024:.0f} MiB (idle before the flood: {rss_before / 1024:.0f} MiB)")
if ok_health:
    p95 = ok_health[min(len(ok_health) - 1, int(len(ok_health) * 0.95))]
    print(f"/health during the flood: {len(health)} probes, {len(health) - len(ok_health)} failed, "
          f"median {statistics.median(ok_health):.1f} ms, p95 {p95:.1f} ms, max {ok_health[-1]:.1f} ms")
else:
    print(f"/health during the flood: {len(health)} probes, none answered")
print(f"flood wall time: {wall:.1f} s")
PY
