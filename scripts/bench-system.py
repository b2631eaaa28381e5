#!/usr/bin/env python3
"""Whole-system figures for docs/BENCHMARKS.md (stdlib only).

Starts the upstream fixture with 20 ms of latency on every call and a
release `toolshed serve`, then measures over real HTTP:

1. session create + first workbench cell (p50/p99 of N runs);
2. COMPOSIO_MULTI_EXECUTE_TOOL of 50 tools (ratio to the ideal 20 ms);
3. 1,000 tool calls from one cell at concurrency 50 (ratio to the ideal
   1000 / 50 * 20 ms = 400 ms);
4. offload of a ~20 MB upstream response (time, and the server's peak RSS);
5. the same for ~100 MB (streamed to disk, parsed once for the preview).

Usage: scripts/bench-system.py [--runs N]   (builds the release binary first)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import serverproc
from serverproc import start

ROOT = Path(__file__).resolve().parents[1]
KEY = "ts_bench_key"
LATENCY_MS = 20


def call(base, method, path, body=None):
    return serverproc.call(base, KEY, method, path, body)


def execute(base, session, slug, arguments):
    return call(base, "POST", f"/api/v3.1/tool_router/session/{session}/execute",
                {"tool_slug": slug, "arguments": arguments})


def peak_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "toolshed-api"], cwd=ROOT, check=True)
    binary = Path(target) / "release" / "toolshed"

    upstream, up_addr = start([sys.executable, str(ROOT / "fixtures/upstream/server.py"), "--port", "0"])
    data_dir = tempfile.mkdtemp(prefix="toolshed-bench-")
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG="warn",
               TOOLSHED_BASE_URL_ALL=f"http://{up_addr}/_latency/{LATENCY_MS}/{{slug}}")
    server, addr = start([str(binary), "serve", "--addr", "127.0.0.1:0", "--data-dir", data_dir,
                          "--toolkits", str(ROOT / "fixtures/toolkits")], env=env)
    base = f"http://{addr}"
    try:
        # 1. create + first cell.
        samples = []
        for i in range(args.runs):
            began = time.perf_counter()
            session = call(base, "POST", "/api/v3.1/tool_router/session", {"user_id": f"u{i}"})["session_id"]
            out = execute(base, session, "COMPOSIO_REMOTE_WORKBENCH", {"code_to_execute": "1 + 1"})
            samples.append((time.perf_counter() - began) * 1000)
            assert out["data"]["results"] == "2", out
        samples.sort()
        p50 = statistics.median(samples)
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(f"session create + first cell over HTTP: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({args.runs} runs); "
              f"server peak RSS so far {peak_rss_mib(server.pid):.0f} MiB")

        session = call(base, "POST", "/api/v3.1/tool_router/session",
                       {"user_id": "bench", "toolkits": {"enable": ["github"]}})["session_id"]
        call(base, "POST", "/api/v3.1/connected_accounts",
             {"user_id": "bench", "toolkit": "github", "auth_scheme": "BEARER_TOKEN", "credentials": {"token": "t"}})

        # The fixture's own speed at the same concurrency, for comparison:
        # 50 concurrent requests straight to it (no toolshed in between).
        import concurrent.futures
        def direct(n):
            req = urllib.request.Request(
                f"http://{up_addr}/_latency/{LATENCY_MS}/github/repos/acme/widgets/issues/{n}",
                headers={"authorization": "Bearer t"})
            with urllib.request.urlopen(req) as resp:
                resp.read()
        direct_times = []
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            for _ in range(10):
                began = time.perf_counter()
                list(pool.map(direct, range(1, 51)))
                direct_times.append((time.perf_counter() - began) * 1000)
        fixture_50 = statistics.median(direct_times)
        print(f"fixture alone, 50 concurrent requests from Python threads: median {fixture_50:.1f} ms")

        # 2. MULTI_EXECUTE of 50 tools.
        tools = [{"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "issue_number": n}}
                 for n in range(1, 51)]
        times = []
        for _ in range(10):
            began = time.perf_counter()
            out = execute(base, session, "COMPOSIO_MULTI_EXECUTE_TOOL",
                          {"tools": tools, "sync_response_to_workbench": False})
            times.append((time.perf_counter() - began) * 1000)
            assert out["data"]["success_count"] == 50, out["data"]["error_count"]
        m = statistics.median(times)
        print(f"MULTI_EXECUTE of 50 tools at {LATENCY_MS} ms upstream latency: median {m:.1f} ms "
              f"({m / LATENCY_MS:.2f}x the ideal {LATENCY_MS} ms; {m / fixture_50:.2f}x the fixture alone)")

        # 3. 1,000 calls from a cell at concurrency 50.
        code = ("calls = [{'tool_slug': 'GITHUB_GET_ISSUE', 'arguments': {'owner': 'acme', 'repo': 'widgets', "
                "'issue_number': n}} for n in range(1, 1001)]\n"
                "r = run_composio_tools(calls, max_concurrency=50)\nsum(1 for _, e in r if not e)")
        times = []
        for _ in range(3):
            began = time.perf_counter()
            out = execute(base, session, "COMPOSIO_REMOTE_WORKBENCH", {"code_to_execute": code})
            times.append((time.perf_counter() - began) * 1000)
            assert out["data"]["results"] == "1000", out
        ideal = 1000 / 50 * LATENCY_MS
        m = statistics.median(times)
        print(f"1,000 calls from one cell at concurrency 50: median {m:.0f} ms ({m / ideal:.2f}x the ideal {ideal:.0f} ms); "
              f"server peak RSS so far {peak_rss_mib(server.pid):.0f} MiB")

        # 4. Offload of a ~20 MB response.
        began = time.perf_counter()
        out = execute(base, session, "COMPOSIO_MULTI_EXECUTE_TOOL", {
            "tools": [{"tool_slug": "GITHUB_EXPORT_REPOSITORY_ISSUES", "arguments": {"owner": "acme", "repo": "widgets"}}],
            "sync_response_to_workbench": False})
        elapsed = (time.perf_counter() - began) * 1000
        info = out["data"]["results"][0]["response"]["remote_file_info"]
        print(f"offload of a {info['size_bytes'] / 1e6:.1f} MB response: {elapsed:.0f} ms; "
              f"server peak RSS {peak_rss_mib(server.pid):.0f} MiB")

        # 5. Offload of a ~100 MB response (streamed to disk).
        began = time.perf_counter()
        out = execute(base, session, "COMPOSIO_MULTI_EXECUTE_TOOL", {
            "tools": [{"tool_slug": "GITHUB_EXPORT_REPOSITORY_ISSUES",
                       "arguments": {"owner": "acme", "repo": "widgets", "limit": 5000, "body_bytes": 20000}}],
            "sync_response_to_workbench": False})
        elapsed = (time.perf_counter() - began) * 1000
        info = out["data"]["results"][0]["response"]["remote_file_info"]
        print(f"offload of a {info['size_bytes'] / 1e6:.1f} MB response: {elapsed:.0f} ms; "
              f"server peak RSS {peak_rss_mib(server.pid):.0f} MiB")
    finally:
        server.terminate()
        upstream.terminate()
        server.wait()
        upstream.wait()


if __name__ == "__main__":
    main()
