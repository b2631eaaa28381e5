#!/usr/bin/env python3
"""MCP figures for docs/BENCHMARKS.md: the cost of a tool call over MCP
against the same call over REST `execute`, in one script run.

Runs a release `toolshed serve` and, over one connection each:
- REST `execute` of a trivial workbench cell (urllib, keep-alive off, like
  the SDK's default client);
- MCP `tools/call` of the same cell with the `mcp` client, in the
  handshake era (legacy) and the stateless 2026-07-28 revision (auto);
- connect + list + one call for a fresh MCP client (what an agent host pays
  per connection).

Usage: <venv>/bin/python scripts/bench-mcp.py [--calls N] [--no-build]
(the venv is the one scripts/test.sh creates: it has `mcp`).
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from serverproc import start

ROOT = Path(__file__).resolve().parents[1]
KEY = "ts_bench_mcp_key"
CELL = {"code_to_execute": "1 + 1"}


def start_server(binary, data_dir):
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG="warn")
    proc, addr = start([str(binary), "serve", "--addr", "127.0.0.1:0", "--data-dir", data_dir,
                        "--toolkits", str(ROOT / "fixtures/toolkits"),
                        # Measured back to back, well past the default 200 requests/s.
                        "--requests-per-second-per-project", "1000000"], env=env)
    return proc, f"http://{addr}"


def rest(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"x-api-key": KEY, "content-type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def summary(name, samples):
    samples = sorted(samples)
    p50 = statistics.median(samples) * 1000
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000
    print(f"{name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({len(samples)} calls)")
    return p50


async def mcp_calls(url, mode, calls):
    http = create_mcp_http_client(headers={"x-api-key": KEY})
    async with http, Client(streamable_http_client(url, http_client=http), mode=mode) as c:
        samples = []
        for _ in range(calls):
            began = time.perf_counter()
            result = await c.call_tool("COMPOSIO_REMOTE_WORKBENCH", CELL)
            samples.append(time.perf_counter() - began)
            assert result.structured_content["results"] == "2"
        return c.protocol_version, samples


async def fresh_connection(url, mode):
    began = time.perf_counter()
    http = create_mcp_http_client(headers={"x-api-key": KEY})
    async with http, Client(streamable_http_client(url, http_client=http), mode=mode) as c:
        await c.list_tools()
        await c.call_tool("COMPOSIO_REMOTE_WORKBENCH", CELL)
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "toolshed-api"], cwd=ROOT, check=True)
    server, base = start_server(target / "release" / "toolshed", tempfile.mkdtemp(prefix="toolshed-bench-mcp-"))
    try:
        session = rest(base, "/api/v3.1/tool_router/session", {"user_id": "bench"})
        sid, url = session["session_id"], session["mcp"]["url"]
        path = f"/api/v3.1/tool_router/session/{sid}/execute"
        rest(base, path, {"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": CELL})  # warm the sandbox
        samples = []
        for _ in range(args.calls):
            began = time.perf_counter()
            out = rest(base, path, {"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": CELL})
            samples.append(time.perf_counter() - began)
            assert out["data"]["results"] == "2"
        rest_p50 = summary("REST execute of `1 + 1`", samples)
        for mode in ("legacy", "auto"):
            version, samples = asyncio.run(mcp_calls(url, mode, args.calls))
            p50 = summary(f"MCP tools/call of `1 + 1` ({mode}: {version})", samples)
            print(f"  ratio to REST: {p50 / rest_p50:.2f}x")
            connects = [asyncio.run(fresh_connection(url, mode)) for _ in range(20)]
            summary(f"MCP connect + list + one call ({mode})", connects)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
