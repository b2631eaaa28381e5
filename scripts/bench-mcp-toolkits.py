#!/usr/bin/env python3
"""MCP-toolkit figures for docs/BENCHMARKS.md: what a call to an MCP
server's tool costs through toolshed, against the same call made directly
with the `mcp` client, in one script run.

Starts fixtures/mcp/edge_server.py twice (stdio, spawned by each side; and
streamable HTTP, shared), the npm reference server (server-everything,
Node) over streamable HTTP, and a release `toolshed serve` with all three
as toolkits, then measures:

1. one call at a time (`add`, or `echo` on the reference server): the
   direct MCP client (baseline) against toolshed's REST execute, p50 and
   p99;
2. a bulk job: N calls from the workbench with run_composio_tools
   (max_concurrency 32) against the direct client with 32 calls in flight;
3. server start-up to the first answer with and without the two MCP
   toolkits (listing their tools at load).

Usage: <venv>/bin/python scripts/bench-mcp-toolkits.py [--calls N] [--bulk N] [--no-build]
(the venv is the one scripts/test.sh creates: it has `mcp` and `fastmcp`).
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import serverproc

ROOT = Path(__file__).resolve().parents[1]
EDGE = ROOT / "fixtures/mcp/edge_server.py"
EVERYTHING = ROOT / "tests/ts/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
# (label, toolkit slug, tool, arguments of call n)
TARGETS = [
    ("stdio, fastmcp fixture", "edge", "add", lambda n: {"a": n, "b": 1}),
    ("HTTP, fastmcp fixture (uvicorn)", "edge_http", "add", lambda n: {"a": n, "b": 1}),
    ("HTTP, server-everything (Node)", "everything_http", "echo", lambda n: {"message": f"m{n}"}),
]
KEY = "ts_bench_key"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def call(base, method, path, body=None):
    return serverproc.call(base, KEY, method, path, body)


def serverproc_free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_edge_http():
    proc = subprocess.Popen([sys.executable, str(EDGE), "http"], stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL)
    line = proc.stdout.readline()
    return proc, line.split("listening on ", 1)[1].strip()


async def direct(urls, calls, bulk):
    """The baseline: the `mcp` client straight to each server."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.client.streamable_http import streamable_http_client

    out = {}

    async def run(session, label, tool, arguments):
        await session.initialize()
        times = []
        for n in range(calls):
            t0 = time.perf_counter()
            result = await session.call_tool(tool, arguments(n))
            times.append((time.perf_counter() - t0) * 1000)
            assert not result.is_error
        limit = asyncio.Semaphore(32)

        async def one(n):
            async with limit:
                return await session.call_tool(tool, arguments(n))

        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(n) for n in range(bulk)))
        out[label] = (times, bulk / (time.perf_counter() - t0))
        assert all(not r.is_error for r in results)

    for label, slug, tool, arguments in TARGETS:
        if slug in urls:
            async with streamable_http_client(urls[slug]) as (read, write), \
                    ClientSession(read, write) as session:
                await run(session, label, tool, arguments)
        else:
            params = StdioServerParameters(command=sys.executable, args=[str(EDGE), "stdio"])
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await run(session, label, tool, arguments)
    return out


def through_toolshed(binary, toolkits, calls, bulk):
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG="warn")
    data = tempfile.mkdtemp(prefix="toolshed-bench-")
    proc, addr = serverproc.start([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", data,
                                   "--toolkits", str(toolkits),
                                   "--requests-per-second-per-project", "100000"], env=env)
    base = f"http://{addr}"
    out = {}
    try:
        session = call(base, "POST", "/api/v3.1/tool_router/session",
                       {"user_id": "bench", "toolkits": [t[1] for t in TARGETS]})["session_id"]
        for label, toolkit, tool, arguments in TARGETS:
            slug = f"{toolkit}_{tool}".upper()
            call(base, "POST", f"/api/v3.1/tools/execute/{slug}",
                 {"user_id": "bench", "arguments": arguments(0)})  # opens the connection
            times = []
            for n in range(calls):
                t0 = time.perf_counter()
                result = call(base, "POST", f"/api/v3.1/tools/execute/{slug}",
                              {"user_id": "bench", "arguments": arguments(n)})
                times.append((time.perf_counter() - t0) * 1000)
                assert result["successful"], result
            code = (f"calls = [{{'tool_slug': '{slug}', 'arguments': a}} for a in {[arguments(n) for n in range(bulk)]!r}]\n"
                    "import time\nt0 = time.perf_counter()\n"
                    "results = run_composio_tools(calls, max_concurrency=32)\n"
                    "elapsed = time.perf_counter() - t0\n"
                    "assert not [e for _, e in results if e], [e for _, e in results if e][:3]\n"
                    "elapsed")
            cell = call(base, "POST", f"/api/v3.1/tool_router/session/{session}/execute_meta",
                        {"slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": code}})
            assert cell["data"].get("error") in (None, ""), cell
            out[label] = (times, bulk / float(cell["data"]["results"]))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)
    return out


def start_up(binary, toolkits, rounds=3):
    """Median wall time from exec to the first answer."""
    times = []
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG="warn")
    for _ in range(rounds):
        data = tempfile.mkdtemp(prefix="toolshed-bench-")
        t0 = time.perf_counter()
        proc, addr = serverproc.start([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", data,
                                       "--toolkits", str(toolkits)], env=env)
        call(f"http://{addr}", "GET", "/api/v3.1/toolkits?limit=1")
        times.append((time.perf_counter() - t0) * 1000)
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)
    return sorted(times)[len(times) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--bulk", type=int, default=2000)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "toolshed-api"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    binary = str(Path(target) / "release/toolshed")
    edge_http, url = start_edge_http()
    port = serverproc_free_port()
    everything = subprocess.Popen(["node", str(EVERYTHING), "streamableHttp"], env=dict(os.environ, PORT=str(port)),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in everything.stderr:
        if "listening on port" in line:
            break
    urls = {"edge_http": url, "everything_http": f"http://127.0.0.1:{port}/mcp"}
    work = Path(tempfile.mkdtemp(prefix="toolshed-mcp-bench-"))
    try:
        plain = work / "plain"
        shutil.copytree(ROOT / "fixtures/toolkits/hackernews", plain / "hackernews")
        with_mcp = work / "with_mcp"
        shutil.copytree(plain, with_mcp)
        for slug, table in (("edge", f'command = ["{sys.executable}", "{EDGE}", "stdio"]'),
                            ("edge_http", f'url = "{url}"'),
                            ("everything_http", f'url = "{urls["everything_http"]}"')):
            (with_mcp / slug).mkdir()
            (with_mcp / slug / "toolkit.toml").write_text(
                f'slug = "{slug}"\nname = "{slug}"\ndescription = "bench"\n[auth]\nschemes = ["NO_AUTH"]\n'
                f"[mcp]\n{table}\n")
        baseline = asyncio.run(direct(urls, args.calls, args.bulk))
        ours = through_toolshed(binary, with_mcp, args.calls, args.bulk)
        start_plain, start_mcp = start_up(binary, plain), start_up(binary, with_mcp)
    finally:
        for proc in (edge_http, everything):
            proc.terminate()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"| transport | direct `mcp` client p50 / p99 | toolshed REST execute p50 / p99 | "
          f"bulk {args.bulk}, 32 in flight: direct | toolshed workbench |")
    print("|---|---:|---:|---:|---:|")
    for label, *_ in TARGETS:
        d_times, d_rate = baseline[label]
        t_times, t_rate = ours[label]
        print(f"| {label} | {pct(d_times, 50):.2f} / {pct(d_times, 99):.2f} ms | "
              f"{pct(t_times, 50):.2f} / {pct(t_times, 99):.2f} ms | {d_rate:,.0f} calls/s | {t_rate:,.0f} calls/s |")
    print(f"\nstart-up to the first answer: {start_plain:.0f} ms without MCP toolkits, "
          f"{start_mcp:.0f} ms with the three (median of 3)")


if __name__ == "__main__":
    main()
