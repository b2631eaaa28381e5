#!/usr/bin/env python3
"""Hibernation through the HTTP API, as a whole system.

Starts `toolshed serve` (the binary in $TOOLSHED_BIN, release build for the
figures) with room for only --live sandboxes per project, then creates
--sessions sessions through the API, each running one cell that leaves a
little state of its own (a few variables, a function, a list). Every new
sandbox past --live hibernates the least recently used one, so at the end
all but --live are checkpoints on disk. It prints:

- the server's resident memory with --live sandboxes live and the rest
  hibernated, and the checkpoints' disk use (`toolshed checkpoints`);
- for --resume random hibernated sessions: the first cell's time over
  HTTP (which restores the interpreter), with each session's variables
  checked;
- the same cell on a session whose sandbox is live, as the baseline.

With --typical N it then creates N sessions holding a typical state (a dict
of 20,000 records, a 200,000-element list, a function, a class and an
instance: the engine benchmark's typical session), pushes them out with
--live small sessions, and times each one's first cell after that
eviction, again with the state checked.

Usage: TOOLSHED_BIN=target/release/toolshed python3 scripts/bench-hibernation.py
       [--sessions 2000] [--live 20] [--resume 100] [--typical 0]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from serverproc import start

KEY = "ts_bench_hibernation_key"


def call(addr, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://{addr}{path}", data=data, method=method,
                                 headers={"x-api-key": KEY, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


def cell(addr, session, code):
    out = call(addr, "POST", f"/api/v3.1/tool_router/session/{session}/execute",
               {"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": code}})
    return out["data"]


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


TYPICAL = (
    "records = {i: {'id': i, 'name': f'user{i}', 'score': i * 0.5} for i in range(20000)}\n"
    "values = list(range(200000))\n"
    "def total(xs):\n    return sum(xs)\n"
    "class Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n"
    "p = Point(3, 4)\n"
)
CHECK = "(len(records), records[19999]['name'], len(values), values[-1], total(values[:10]), p.x + p.y)"
CHECKED = "(20000, 'user19999', 200000, 199999, 45, 7)"


def typical(addr, args):
    """Typical sessions' first cell after an eviction, over HTTP."""
    sessions = []
    for i in range(args.typical):
        sid = call(addr, "POST", "/api/v3.1/tool_router/session", {"user_id": f"t{i}"})["session_id"]
        assert cell(addr, sid, TYPICAL)["status"] == "ok"
        sessions.append(sid)
    for i in range(args.live):
        sid = call(addr, "POST", "/api/v3.1/tool_router/session", {"user_id": f"push{i}"})["session_id"]
        assert cell(addr, sid, "x = 1")["status"] == "ok"
    times = []
    for sid in sessions:
        t = time.perf_counter()
        out = cell(addr, sid, CHECK)
        times.append((time.perf_counter() - t) * 1000)
        assert out["results"] == CHECKED and out["state_reset"] is False, out
    live_ms = []
    for _ in range(args.typical):
        t = time.perf_counter()
        cell(addr, sessions[-1], CHECK)
        live_ms.append((time.perf_counter() - t) * 1000)
    p50, base = statistics.median(times), statistics.median(live_ms)
    print(f"typical sessions, first cell after eviction over HTTP, {len(times)} sessions (state checked): "
          f"p50 {p50:.1f} ms, p90 {statistics.quantiles(times, n=10)[-1]:.1f} ms")
    print(f"same cell on a live typical sandbox: p50 {base:.2f} ms; ratio {p50 / base:.1f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--live", type=int, default=20)
    ap.add_argument("--resume", type=int, default=100)
    ap.add_argument("--typical", type=int, default=0)
    args = ap.parse_args()
    binary = os.environ.get("TOOLSHED_BIN", "target/release/toolshed")
    data = tempfile.mkdtemp(prefix="toolshed-hib-")
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
    proc, addr = start([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", data,
                        "--max-sandboxes-per-project", str(args.live),
                        "--requests-per-second-per-project", "100000"], env=env)
    try:
        sessions = []
        began = time.perf_counter()
        for i in range(args.sessions):
            sid = call(addr, "POST", "/api/v3.1/tool_router/session", {"user_id": f"u{i}"})["session_id"]
            out = cell(addr, sid, f"n = {i}\nname = 'session-{i}'\nsquares = [k * k for k in range(200)]\n"
                                  f"def tag(x):\n    return name + ':' + str(x)\n")
            assert out["status"] == "ok", out
            sessions.append(sid)
        made = time.perf_counter() - began
        print(f"{args.sessions} sessions created, each with one cell, in {made:.1f} s "
              f"({made / args.sessions * 1000:.1f} ms each, including the hibernation of an older one)")
        print(f"server RSS with {args.live} live sandboxes and {args.sessions - args.live} hibernated: "
              f"{rss_mib(proc.pid):.0f} MiB")
        report = subprocess.run([binary, "checkpoints", "--data-dir", data], capture_output=True,
                                text=True, check=True).stdout.splitlines()[1].split("\t")
        print(f"checkpoints: {report[2]} sessions, {int(report[3]) / 2**20:.1f} MiB on disk "
              f"({int(report[3]) / max(1, int(report[2])) / 1024:.0f} KiB each)")

        hibernated = sessions[: -args.live]
        picked = random.Random(1).sample(hibernated, min(args.resume, len(hibernated)))
        index = {sid: i for i, sid in enumerate(sessions)}
        restore_ms = []
        for sid in picked:
            t = time.perf_counter()
            out = cell(addr, sid, "(n, tag(len(squares)))")
            restore_ms.append((time.perf_counter() - t) * 1000)
            i = index[sid]
            assert out["results"] == f"({i}, 'session-{i}:200')", out
            assert out["state_reset"] is False, out
        live = sessions[-1]
        live_ms = []
        for _ in range(args.resume):
            t = time.perf_counter()
            cell(addr, live, "(n, tag(len(squares)))")
            live_ms.append((time.perf_counter() - t) * 1000)
        p50 = statistics.median(restore_ms)
        base = statistics.median(live_ms)
        print(f"first cell after hibernation over HTTP, {len(picked)} random sessions (variables checked): "
              f"p50 {p50:.1f} ms, p90 {statistics.quantiles(restore_ms, n=10)[-1]:.1f} ms")
        print(f"same cell on a live sandbox: p50 {base:.2f} ms; ratio {p50 / base:.1f}x")
        if args.typical:
            typical(addr, args)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        subprocess.run(["rm", "-rf", data], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
