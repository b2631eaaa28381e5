#!/usr/bin/env python3
"""Catalog-at-scale figures for docs/BENCHMARKS.md (stdlib only).

Runs a release `toolshed serve` twice, on the shipped catalog (1,910 tools:
GitHub, Stripe, Asana and GIPHY imported from OpenAPI documents plus the
hand-written toolkits) and, as the baseline in the same run, on the
hand-written toolkits alone (98 tools), and measures over real HTTP:

1. `toolshed toolkits import` of GitHub's document (wall time and peak
   RSS of the process), start-up to the first answer with the import cache
   warm, and the server's resident memory once up;
2. COMPOSIO_SEARCH_TOOLS through execute_meta: p50/p99 over every query of
   the relevance sets (fixtures/search-*.tsv), each asked --rounds times;
3. session create with every toolkit, and GET /api/v3.1/tools?limit=100.

Usage: scripts/bench-catalog.py [--rounds N]   (builds the release binary,
fetches the documents with scripts/fetch-specs.sh)
"""

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import serverproc
from serverproc import start

ROOT = Path(__file__).resolve().parents[1]
KEY = "ts_bench_key"


def call(base, method, path, body=None):
    return serverproc.call(base, KEY, method, path, body)


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def queries():
    out = []
    for tsv in sorted((ROOT / "fixtures").glob("search-*.tsv")):
        for line in tsv.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                out.append(line.split("\t", 1)[0])
    return out


def measure(binary, toolkits, cache, rounds):
    """Start twice (the first fills the import cache and compiles the
    runtime); time the second start and searches on it."""
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, TOOLSHED_CACHE_DIR=cache, RUST_LOG="warn")
    result = {}
    for label in ("cold", "warm"):
        data = tempfile.mkdtemp(prefix="toolshed-bench-")
        result["started"] = time.perf_counter()
        proc, addr = start([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", data,
                            "--toolkits", str(toolkits), "--requests-per-second-per-project", "100000"], env=env)
        try:
            measure_one(proc, addr, label, result, rounds)
        finally:
            proc.terminate()
            proc.wait()
            shutil.rmtree(data, ignore_errors=True)
    return result


def measure_one(proc, addr, label, result, rounds):
    """Figures of one running server into `result`."""
    base = f"http://{addr}"
    call(base, "GET", "/api/v3.1/toolkits?limit=1")
    result[f"start_{label}_ms"] = (time.perf_counter() - result.pop("started")) * 1000
    result["rss_mib"] = rss_mib(proc.pid)
    if label == "warm":
        slugs = [t["slug"] for t in call(base, "GET", "/api/v3.1/toolkits?limit=100")["items"]]
        t0 = time.perf_counter()
        session = call(base, "POST", "/api/v3.1/tool_router/session",
                       {"user_id": "bench", "toolkits": slugs})["session_id"]
        result["session_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        page = call(base, "GET", "/api/v3.1/tools?limit=100")
        result["tools_page_ms"] = (time.perf_counter() - t0) * 1000
        result["tools_total"] = page.get("total_items") or len(page["items"])
        times = []
        for _ in range(rounds):
            for query in queries():
                t0 = time.perf_counter()
                call(base, "POST", f"/api/v3.1/tool_router/session/{session}/execute_meta",
                     {"slug": "COMPOSIO_SEARCH_TOOLS",
                      "arguments": {"queries": [{"use_case": query}]}})
                times.append((time.perf_counter() - t0) * 1000)
        result["search_p50_ms"] = pct(times, 50)
        result["search_p99_ms"] = pct(times, 99)
        result["searches"] = len(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    subprocess.run([str(ROOT / "scripts/fetch-specs.sh")], check=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "toolshed-api"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    binary = str(Path(target) / "release/toolshed")
    work = Path(tempfile.mkdtemp(prefix="toolshed-catalog-"))
    handwritten = work / "handwritten"
    handwritten.mkdir()
    for folder in sorted((ROOT / "fixtures/toolkits").iterdir()):
        text = (folder / "toolkit.toml").read_text()
        if "\n[openapi]" not in text:
            shutil.copytree(folder, handwritten / folder.name)
    imports = []
    for _ in range(3):
        t0 = time.perf_counter()
        proc = subprocess.Popen([binary, "toolkits", "import", str(ROOT / "fixtures/toolkits/github/toolkit.toml")],
                                stdout=subprocess.DEVNULL, env=dict(os.environ, TOOLSHED_CACHE_DIR=str(work / "none")))
        _, status, usage = os.wait4(proc.pid, 0)
        assert status == 0, status
        imports.append(((time.perf_counter() - t0) * 1000, usage.ru_maxrss / 1024))
    wall, rss = sorted(imports)[1]
    print(f"GitHub document import (13 MB, 1,223 operations): {wall:.0f} ms, peak RSS {rss:.0f} MiB (median of 3)\n")
    rows = [
        ("hand-written toolkits (baseline)", measure(binary, handwritten, str(work / "c1"), args.rounds)),
        ("shipped catalog", measure(binary, ROOT / "fixtures/toolkits", str(work / "c2"), args.rounds)),
    ]
    shutil.rmtree(work, ignore_errors=True)
    print("| catalog | tools | start, import cached | RSS once up | session with every toolkit | GET /tools?limit=100 | SEARCH_TOOLS p50 | p99 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['tools_total']} | {r['start_warm_ms']:.0f} ms | "
              f"{r['rss_mib']:.0f} MiB | {r['session_ms']:.1f} ms | {r['tools_page_ms']:.1f} ms | "
              f"{r['search_p50_ms']:.2f} ms | {r['search_p99_ms']:.2f} ms |")
    base, big = rows[0][1], rows[1][1]
    print(f"\nratios (shipped / hand-written): search p50 {big['search_p50_ms'] / base['search_p50_ms']:.1f}x, "
          f"p99 {big['search_p99_ms'] / base['search_p99_ms']:.1f}x, "
          f"tools page {big['tools_page_ms'] / base['tools_page_ms']:.1f}x, "
          f"session {big['session_ms'] / base['session_ms']:.1f}x; {base['searches']} searches each")


if __name__ == "__main__":
    main()
