#!/usr/bin/python3
"""CPU time per operation of the server's `sessions` bench (numbers only, no assertions).

    cargo bench -p fauna-session-server --bench sessions --no-run   # prints "Executable ... (target/release/deps/sessions-<hash>)"
    /usr/bin/python3 scripts/bench-cpu.py target/release/deps/sessions-<hash>

Runs the bench binary and appends to each of its result lines the CPU time (user + system, from /proc) that the
bench process and its PostgreSQL cluster (the postmaster, its backends and reaped children) spent since the
previous line, and that time per operation. On a shared machine throughput follows the other load; CPU time per
operation follows it much less, so compare two builds with this, interleaving their runs.
"""
import os
import re
import subprocess
import sys

TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    """(ppid, own ticks, reaped children's ticks) of `pid`, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2 :].split()
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_ms(bench_pid):
    """CPU time so far of the bench and of the cluster it started (its directory names the bench's pid)."""
    ticks = 0
    own = stat(bench_pid)
    if own:
        ticks += own[1]
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    masters = [
        p
        for p in pids
        if cmdline(p).split(" ")[0].endswith("/postgres") and f"fauna-session-pg-{bench_pid}-" in cmdline(p)
    ]
    for m in masters:
        st = stat(m)
        if st:
            ticks += st[1] + st[2]
        for p in pids:
            st = stat(p)
            if st and st[0] == m:
                ticks += st[1]
    return ticks * 1000.0 / TICK


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    proc = subprocess.Popen([sys.argv[1], "--bench"], stdout=subprocess.PIPE, text=True)
    last = cpu_ms(proc.pid)
    for line in proc.stdout:
        now = cpu_ms(proc.pid)
        m = re.search(r"\((\d+) in ", line)
        extra = ""
        if m:
            n = int(m.group(1))
            extra = f"  cpu {now - last:8.0f} ms = {1000.0 * (now - last) / n:7.1f} us/op"
        print(line.rstrip() + extra, flush=True)
        last = now
    sys.exit(proc.wait())


if __name__ == "__main__":
    main()
