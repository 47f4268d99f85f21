#!/usr/bin/env python3
"""Keeps the browser tests' page server from starving the browser's first connections.

wasm-bindgen-test-runner serves the test page with tiny_http, which gives each open connection a thread of its own
for the connection's whole life, from a pool that starts with four idle threads and adds one only when it counts no
idle thread. The count lags: a thread that has been handed a connection but has not woken yet still counts as idle.
So when a browser opens six connections at once to a fresh server (it does, for the page's modules), two of them
can be queued behind the four kept-alive ones and are never read. The request the page waits for sits unread, the
page never finishes loading, and the runner's own test timeout, which starts only once the page has loaded, never
fires. Reproduce it with `page_server_warmer.py --check WASM` (it prints how often a fresh server starves one of six
simultaneous connections, then asserts that it never does while this program runs).

What this program does, every half second while the runner is up: open eight connections to the page server one
after another, each answered before the next is opened (so the pool grows to eight threads that really are idle
after we close them), then close them all. A browser's six connections then each find a thread of their own, and a
connection that was queued before is picked up by the first of our threads to finish. Our requests ask for a path
the runner answers 404; they read nothing the tests use.

Usage: page_server_warmer.py HOST:PORT            (runs until killed; scripts/wasm-test-runner.sh starts it)
       page_server_warmer.py --check TEST.wasm    (the self-test described above; scripts/browser-test.sh runs it)
"""
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

CONNECTIONS = 8
INTERVAL = 0.5


def parse_addr(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def read_head(sock):
    """Reads until the end of a response's header block; False when the server did not answer in time."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


def send_get(sock, addr, path):
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path, addr[0].encode(), addr[1]))


def warm_once(addr, timeout=2.0):
    """One round: CONNECTIONS connections held open at once, each answered, then all closed."""
    socks = []
    try:
        for _ in range(CONNECTIONS):
            sock = socket.create_connection(addr, timeout=timeout)
            socks.append(sock)
            send_get(sock, addr, b"/__page_server_warmer")
            if not read_head(sock):
                return False
        return True
    except OSError:
        return False
    finally:
        for sock in socks:
            sock.close()


def warm_forever(addr, done=None):
    """Rounds until killed (or until `done`, a threading.Event, is set)."""
    done = done or threading.Event()
    while not done.is_set():
        # Until the runner listens, try again soon: its first round should come before the browser's connections.
        done.wait(INTERVAL if warm_once(addr) else 0.05)


def starved(addr, n=6, wait=2.0):
    """Opens n connections at once, each with a request; returns how many got no answer within `wait` seconds while
    all stay open."""
    # All connects leave in one burst (non-blocking), as a browser's do when a page's modules load.
    socks = []
    for _ in range(n):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(addr)
        socks.append(sock)
    for sock in socks:
        select.select([], [sock], [], wait)
        sock.setblocking(True)
        send_get(sock, addr, b"/")
    # All stay open until every one has been read: closing one frees its thread for a queued one.
    missing = 0
    for sock in socks:
        sock.settimeout(wait)
        try:
            if not read_head(sock):
                missing += 1
        except OSError:
            missing += 1
    for sock in socks:
        sock.close()
    return missing


def fresh_server(wasm):
    """A fresh runner serving the test page only (NO_HEADLESS: no browser) on a port it picks, and its address."""
    env = dict(os.environ, NO_HEADLESS="1", WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:0")
    for key in ("CHROMEDRIVER", "GECKODRIVER", "SAFARIDRIVER"):
        env.pop(key, None)
    proc = subprocess.Popen(["wasm-bindgen-test-runner", wasm], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True, text=True)
    # "Interactive browsers tests are now available at http://127.0.0.1:PORT", then a few lines, then nothing.
    for line in proc.stdout:
        if "available at http://" in line:
            addr = parse_addr(line.rsplit("http://", 1)[1].strip().rstrip("/"))
            break
    else:
        stop(proc)
        raise SystemExit("page_server_warmer --check: the runner stopped before serving the page")
    # As when a browser arrives: the runner has started (a first connection, closed unused, as a browser's
    # speculative one may be) and its pool's threads are parked.
    socket.create_connection(addr, timeout=2).close()
    time.sleep(1.5)
    return proc, addr


def stop(proc):
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def check(wasm, rounds=6):
    # Without the warmer: how often does a fresh page server starve one of six simultaneous connections? (A race:
    # printed, not asserted.)
    bare = 0
    for _ in range(rounds):
        proc, addr = fresh_server(wasm)
        try:
            bare += starved(addr) > 0
        finally:
            stop(proc)
    print("page server without the warmer: %d of %d fresh servers starved a connection" % (bare, rounds))
    # With it: a first round has run before the browser's connections arrive (warm_once), and it keeps running.
    warmed = 0
    for _ in range(rounds):
        proc, addr = fresh_server(wasm)
        try:
            assert warm_once(addr), "the warmer's own round was not answered"
            done = threading.Event()
            keeper = threading.Thread(target=warm_forever, args=(addr, done), daemon=True)
            keeper.start()
            warmed += starved(addr) > 0
            done.set()
            keeper.join()
        finally:
            stop(proc)
    print("page server with the warmer: %d of %d fresh servers starved a connection" % (warmed, rounds))
    if warmed:
        raise SystemExit("page_server_warmer --check: a connection was starved although the warmer ran")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) == 2:
        warm_forever(parse_addr(sys.argv[1]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
