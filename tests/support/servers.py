#!/usr/bin/env python3
"""Extra fauna-session-server instances for the browser tests, started and killed at the test page's request.

The browser tests of failures that must not sign anyone out need a real server that stops (killed) and comes back
on the same address with the same database, and one whose refresh rate limit is tiny. This controller listens on a
free loopback port (printed on stdout as "listening <port>") and answers, for the test page's origin only:

    POST /servers/<profile>/start  -> {"url": "http://127.0.0.1:<port>"}  (started if not running; waits for /health)
    POST /servers/<profile>/kill   -> {"stopped": true}                    (SIGKILL, as a crash)

Profiles (a fixed list, no arguments from the page):
    restartable      like the tests' main server: 2 s access tokens, its own SQLite file, kept across restarts
    refresh-limited  the same with --rate-limit-refresh 1 (one refresh per minute per IP; the next one gets 429)
    verification-required  the same with --email-verification required (protected routes answer 403 until the
                     email is verified: the claims tests)

Each profile keeps its port from its first start. Everything listens on 127.0.0.1; every wait is bounded; the
servers are killed when the controller ends (SIGTERM or SIGINT).
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROFILES = {
    "restartable": [],
    "refresh-limited": ["--rate-limit-refresh", "1"],
    "verification-required": ["--email-verification", "required"],
}
START_TIMEOUT_S = 15.0
KILL_TIMEOUT_S = 5.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    def __init__(self, binary, origin, directory):
        self.binary = binary
        self.origin = origin
        self.directory = directory
        self.lock = threading.Lock()
        self.ports = {}
        self.procs = {}

    def url(self, name):
        return "http://127.0.0.1:%d" % self.ports[name]

    def start(self, name):
        with self.lock:
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                port = self.ports.setdefault(name, free_port())
                db = os.path.join(self.directory, name + ".sqlite")
                log = open(os.path.join(self.directory, name + ".log"), "ab")
                args = [
                    self.binary, "--listen", "127.0.0.1:%d" % port, "--website-origin", self.origin,
                    "--access-token-lifetime", "2", "--metrics", "--database-url", "sqlite://" + db,
                ] + PROFILES[name]
                self.procs[name] = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            url = self.url(name)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return url
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(name + " did not answer /health in time")

    def kill(self, name):
        with self.lock:
            proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=KILL_TIMEOUT_S)

    def kill_all(self):
        for name in list(self.procs):
            self.kill(name)


def handler(servers):
    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("access-control-allow-origin", servers.origin)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            parts = self.path.split("?")[0].strip("/").split("/")
            if self.headers.get("origin") not in (None, servers.origin):
                return self.reply(403, {"error": "origin not allowed"})
            if len(parts) != 3 or parts[0] != "servers" or parts[1] not in PROFILES:
                return self.reply(404, {"error": "POST /servers/<profile>/start|kill", "profiles": list(PROFILES)})
            name, action = parts[1], parts[2]
            try:
                if action == "start":
                    return self.reply(200, {"url": servers.start(name)})
                if action == "kill":
                    servers.kill(name)
                    return self.reply(200, {"stopped": True})
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                return self.reply(500, {"error": str(e)})
            return self.reply(404, {"error": "unknown action"})

        def log_message(self, format, *args):
            sys.stderr.write("servers.py: " + (format % args) + "\n")

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server-bin", required=True)
    p.add_argument("--website-origin", required=True)
    p.add_argument("--dir", required=True, help="where the SQLite files and logs go")
    a = p.parse_args()
    servers = Servers(a.server_bin, a.website_origin, a.dir)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler(servers))
    httpd.daemon_threads = True

    def stop(*_):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening %d" % httpd.server_address[1], flush=True)
    try:
        httpd.serve_forever()
    finally:
        servers.kill_all()


if __name__ == "__main__":
    main()
