"""Floods against the release server, each against a fresh server on a fresh SQLite file; run by flood.sh.

Scenarios (all by default, or those named on the command line):
  signin    FLOOD_REQUESTS (500) concurrent sign-ins of unknown emails (each hashes against the dummy
            argon2id hash, as a credential-stuffing run would)
  signup    FLOOD_SIGNUPS (2000) sign-ups, FLOOD_SIGNUP_CONCURRENCY (8) at a time
  slowbody  FLOOD_SLOW_IPS (3) client addresses (127.0.0.2, .3, ...) each opening FLOOD_SLOW_CONNECTIONS
            (400) sign-ins that promise a 60,000-byte body and send a byte every 2 s
For each: the server's peak RSS, and /health and sign-in latency from another address (127.0.0.1) while it
lasts. The per-IP rate limits of sign-in and sign-up are off for the runs: the floods come from one address,
and the point is what the server does when the requests get through.
"""

import collections
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SERVER_BIN = os.environ["SERVER_BIN"]
EXTRA_ARGS = os.environ.get("FLOOD_SERVER_ARGS", "").split()
TIMEOUT = float(os.environ.get("FLOOD_TIMEOUT", "120"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self):
        self.dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        env = dict(os.environ, FAUNA_SESSION_RATE_LIMIT_SIGNIN="0", FAUNA_SESSION_RATE_LIMIT_SIGNUP="0",
                   FAUNA_SESSION_LOG="warn", DATABASE_URL=f"sqlite://{self.dir.name}/flood.sqlite?mode=rwc")
        self.log = open(os.path.join(self.dir.name, "server.log"), "w")
        self.proc = subprocess.Popen([SERVER_BIN, "--listen", f"127.0.0.1:{self.port}", *EXTRA_ARGS],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(400):
            if self.proc.poll() is not None:
                sys.exit(open(self.log.name).read())
            if request(self.port, "GET", "/health", timeout=1)[0] == 200:
                return
            time.sleep(0.05)
        sys.exit("the server did not start")

    def rss_kib(self, field):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()
        self.dir.cleanup()


def request(port, method, path, body=None, source="127.0.0.1", timeout=TIMEOUT):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
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


def form(email, password):
    return json.dumps({"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]})


class Probe:
    """Polls /health (and, with `sign_in`, a real sign-in) from 127.0.0.1 until stopped; samples RSS."""

    def __init__(self, server, sign_in=False):
        self.server, self.sign_in = server, sign_in
        self.health, self.signins, self.peak = [], [], 0
        self.running = True
        if sign_in:
            request(server.port, "POST", "/auth/signup", form("probe@example.com", "probe-secret-1"))
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def timed(self, method, path, body=None):
        t0 = time.monotonic()
        status, _ = request(self.server.port, method, path, body)
        return (time.monotonic() - t0) * 1000 if status == 200 else None

    def run(self):
        while self.running:
            self.health.append(self.timed("GET", "/health"))
            if self.sign_in:
                self.signins.append(self.timed("POST", "/auth/signin", form("probe@example.com", "probe-secret-1")))
            self.peak = max(self.peak, self.server.rss_kib("VmRSS"))
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join()

    @staticmethod
    def line(name, samples):
        ok = sorted(s for s in samples if s is not None)
        if not ok:
            return f"{name}: {len(samples)} probes, none answered"
        p95 = ok[min(len(ok) - 1, int(len(ok) * 0.95))]
        return (f"{name}: {len(samples)} probes, {len(samples) - len(ok)} failed, median {statistics.median(ok):.1f} ms, "
                f"p95 {p95:.1f} ms, max {ok[-1]:.1f} ms")

    def report(self, during):
        print("  " + self.line(f"/health during {during}", self.health))
        if self.sign_in:
            print("  " + self.line(f"sign-in during {during}", self.signins))


def peak_line(server, before_kib):
    return f"  peak RSS: {server.rss_kib('VmHWM') / 1024:.0f} MiB (idle before: {before_kib / 1024:.0f} MiB)"


def signin():
    n = int(os.environ.get("FLOOD_REQUESTS", "500"))
    print(f"signin: {n} concurrent sign-ins of unknown emails")
    server = Server()
    before = server.rss_kib("VmRSS")
    start = threading.Barrier(n + 1)
    results = [None] * n

    def one(i):
        body = form(f"flood-{i}@example.com", f"not-the-password-{i}")
        start.wait()
        results[i] = request(server.port, "POST", "/auth/signin", body)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    start.wait()
    probe = Probe(server)
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    probe.stop()
    counts = collections.Counter(str(s) for s, _ in results)
    retry_after = collections.Counter(ra for s, ra in results if s == 503)
    print("  sign-in answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"  503 answers: {counts.get('503', 0)} of {n} (Retry-After values: {dict(retry_after)})")
    print(peak_line(server, before))
    probe.report("the flood")
    print(f"  wall time: {wall:.1f} s")
    server.stop()


def signup():
    n = int(os.environ.get("FLOOD_SIGNUPS", "2000"))
    at_once = int(os.environ.get("FLOOD_SIGNUP_CONCURRENCY", "8"))
    print(f"signup: {n} sign-ups, {at_once} at a time")
    server = Server()
    before = server.rss_kib("VmRSS")
    counter = iter(range(n))
    lock = threading.Lock()
    counts = collections.Counter()

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            status, _ = request(server.port, "POST", "/auth/signup", form(f"new-{i}@example.com", f"pw-{i}-secret"))
            with lock:
                counts[str(status)] += 1

    t0 = time.monotonic()
    probe = Probe(server)
    workers = [threading.Thread(target=worker) for _ in range(at_once)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.monotonic() - t0
    probe.stop()
    time.sleep(2)
    print("  sign-up answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(peak_line(server, before) + f", 2 s after: {server.rss_kib('VmRSS') / 1024:.0f} MiB")
    probe.report("the sign-ups")
    print(f"  wall time: {wall:.1f} s")
    server.stop()


def slowbody():
    ips = [f"127.0.0.{2 + i}" for i in range(int(os.environ.get("FLOOD_SLOW_IPS", "3")))]
    per_ip = int(os.environ.get("FLOOD_SLOW_CONNECTIONS", "400"))
    seconds = float(os.environ.get("FLOOD_SLOW_SECONDS", "20"))
    print(f"slowbody: {len(ips)} client IPs x {per_ip} sign-ins promising 60,000 bytes, a byte every 2 s, "
          f"for {seconds:.0f} s")
    server = Server()
    before = server.rss_kib("VmRSS")
    outcomes = collections.Counter()
    lock = threading.Lock()
    stop = threading.Event()
    head = (f"POST /auth/signin HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\ncontent-type: application/json\r\n"
            f"rid: emailpassword\r\ncontent-length: 60000\r\n\r\n{{").encode()

    def attacker(source):
        while not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", server.port), timeout=2, source_address=(source, 0))
            except OSError as e:
                with lock:
                    outcomes[type(e).__name__] += 1
                time.sleep(0.5)
                continue
            try:
                s.sendall(head)
                answer = b""
                while not stop.is_set() and b"\r\n" not in answer:
                    try:
                        chunk = s.recv(256)
                        if not chunk:
                            answer = answer or b"closed"
                            break
                        answer += chunk
                    except socket.timeout:
                        s.sendall(b" ")
                status = answer.split(b"\r\n")[0].decode(errors="replace").removeprefix("HTTP/1.1 ")
                if status:
                    with lock:
                        outcomes[status] += 1
                if not status.startswith("408"):
                    time.sleep(0.2)  # refused: try again soon (a tight loop would measure this machine's CPU)
            except OSError as e:
                with lock:
                    outcomes[type(e).__name__] += 1
            finally:
                s.close()

    threads = [threading.Thread(target=attacker, args=(ip,), daemon=True) for ip in ips for _ in range(per_ip)]
    for t in threads:
        t.start()
    time.sleep(2)
    probe = Probe(server, sign_in=True)
    time.sleep(seconds)
    probe.stop()
    stop.set()
    for t in threads:
        t.join(5)
    print("  attack answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))
    print(peak_line(server, before))
    probe.report("the attack")
    server.stop()


SCENARIOS = {"signin": signin, "signup": signup, "slowbody": slowbody}
names = sys.argv[1:] or list(SCENARIOS)
print(f"server: {SERVER_BIN} {' '.join(EXTRA_ARGS)} ({os.cpu_count()} cores)")
for name in names:
    if name not in SCENARIOS:
        sys.exit(f"unknown scenario {name!r} (one of {', '.join(SCENARIOS)})")
    SCENARIOS[name]()
