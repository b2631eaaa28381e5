#!/usr/bin/env python3
"""A trivial cell through the HTTP API, for two or more toolshed builds side
by side (docs/BENCHMARKS.md, "A cell through the HTTP API").

Starts one `toolshed serve` per build, makes a session on each, and sends
`execute_meta` COMPOSIO_REMOTE_WORKBENCH `x = 1` over one kept-alive
connection, rounds interleaved across the builds. Prints, per build, the
client's median latency and the server's CPU time per request (from
/proc/PID/stat), medians over the rounds. With --first N it also times, in
each round, N new sessions to their first cell's result (create the session,
then run `1` in it): the start of an interpreter through the API.

Usage: scripts/bench-http-cell.py NAME=BINARY [NAME=BINARY ...] [--rounds N] [--requests N] [--first N]
"""

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serverproc  # noqa: E402

KEY = "ts_bench_key"
HEADERS = {"x-api-key": KEY, "content-type": "application/json"}
CELL = {"slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "x = 1"}}
FIRST_CELL = {"slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "1"}}


class Server:
    def __init__(self, binary):
        self.data = tempfile.mkdtemp(prefix="toolshed-bench-")
        env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG="warn")
        self.proc, addr = serverproc.start(
            [binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", self.data,
             "--requests-per-second-per-project", "100000"], env=env)
        host, port = addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port))
        self.session = self.call("POST", "/api/v3.1/tool_router/session", {"user_id": "bench"})["session_id"]

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=HEADERS)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status >= 300:
            raise SystemExit(f"{path}: HTTP {resp.status}: {data[:300]!r}")
        return json.loads(data) if data else None

    def cell(self, session=None, cell=CELL):
        self.call("POST", f"/api/v3.1/tool_router/session/{session or self.session}/execute_meta", cell)

    def new_session_to_first_result(self):
        began = time.perf_counter()
        session = self.call("POST", "/api/v3.1/tool_router/session", {"user_id": "bench"})["session_id"]
        self.cell(session, FIRST_CELL)
        elapsed = time.perf_counter() - began
        self.call("DELETE", f"/api/v3.1/tool_router/session/{session}")
        return elapsed

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("builds", nargs="+", metavar="NAME=BINARY")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--first", type=int, default=0, metavar="N",
                        help="also time N new sessions to their first result per round")
    args = parser.parse_args()
    if args.rounds < 1 or args.requests < 1 or args.first < 0:
        parser.error("--rounds and --requests must be at least 1, --first at least 0")
    if any("=" not in b for b in args.builds):
        parser.error("each build is NAME=BINARY")
    builds = dict(b.split("=", 1) for b in args.builds)
    servers = {}
    try:
        for name, binary in builds.items():
            servers[name] = Server(binary)
        latency = {name: [] for name in servers}
        cpu = {name: [] for name in servers}
        firsts = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name, server in servers.items():
                for _ in range(args.first):
                    firsts[name].append(server.new_session_to_first_result() * 1e3)
                for _ in range(50):  # warm the connection and the sandbox
                    server.cell()
                began_cpu = server.cpu_seconds()
                times = []
                for _ in range(args.requests):
                    began = time.perf_counter()
                    server.cell()
                    times.append(time.perf_counter() - began)
                cpu[name].append((server.cpu_seconds() - began_cpu) / args.requests * 1e6)
                latency[name].append(statistics.median(times) * 1e3)
        first = next(iter(servers))
        for name in servers:
            ratio = statistics.median(latency[name]) / statistics.median(latency[first])
            print(f"{name}: client median {statistics.median(latency[name]):.3f} ms ({ratio:.2f}x {first}), "
                  f"server CPU {statistics.median(cpu[name]):.0f} µs per request")
        if args.first:
            for name in servers:
                ratio = statistics.median(firsts[name]) / statistics.median(firsts[first])
                print(f"{name}: new session to first result, median of {len(firsts[name])}: "
                      f"{statistics.median(firsts[name]):.2f} ms ({ratio:.2f}x {first})")
    finally:
        for server in servers.values():
            server.close()


if __name__ == "__main__":
    main()
