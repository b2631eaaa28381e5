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

Usage: TOOLSHED_BIN=target/release/toolshed python3 scripts/bench-hibernation.py
       [--sessions 2000] [--live 20] [--resume 100]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--live", type=int, default=20)
    ap.add_argument("--resume", type=int, default=100)
    args = ap.parse_args()
    binary = os.environ.get("TOOLSHED_BIN", "target/release/toolshed")
    data = tempfile.mkdtemp(prefix="toolshed-hib-")
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG="warn")
    proc, addr = start([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", data,
                        "--max-sandboxes-per-project", str(args.live),
                        "--requests-per-second-per-project", "100000",
                        "--checkpoint-after-secs", "0"], env=env)
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
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        subprocess.run(["rm", "-rf", data], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
