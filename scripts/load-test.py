#!/usr/bin/env python3
"""Load test for docs/BENCHMARKS.md (stdlib only).

Starts the fast upstream fixture (fixtures/fast-upstream, Rust) or the
Python one, and a release `toolshed serve`, then:

load mode (default):
  N sessions, spread over projects of 20 sessions each (the per-project
  limits' defaults hold 20 comfortably), each running workbench cells in a
  loop for D seconds. Every cell makes --calls tool calls in one
  run_composio_tools batch and writes a file with a fresh token. The script
  records each request's latency, the server's peak RSS, and every write
  the server acknowledged (a 200 whose cell ran). At the deadline it sends
  kill -9 while requests are still in flight, restarts the server on the
  same data directory and checks every acknowledged write: each session
  exists, each acknowledged file holds its token, and the log_ids returned
  (all of the last 2 s before the kill, a sample of the rest) can be read.

fairness mode (--fairness):
  Project B makes single tool executes one after another, first alone, then
  while project A's N sessions run bulk cells (--calls tool calls each) as
  fast as they can. Prints B's p50/p99 in both phases.

Usage:
  scripts/load-test.py [--sessions 50] [--duration 30] [--calls 20]
                       [--upstream fast|python] [--fairness] [--no-build] [--debug]
                       [--binary PATH]
Exits non-zero if an acknowledged write is missing after the restart.
"""

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from serverproc import start

ROOT = Path(__file__).resolve().parents[1]
KEY = "ts_load_test_key"
SESSIONS_PER_PROJECT = 20
SANDBOX_MEMORY_MB = 128


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))


def build(profile):
    if profile == "release":
        cmd = ["cargo", "build", "--release", "--locked", "-q", "-p", "toolshed-api", "-p", "toolshed-fast-upstream"]
    else:
        # As scripts/test.sh builds it (a -p build would resolve other
        # features and recompile wasmtime).
        cmd = ["cargo", "build", "--workspace", "--locked", "-q"]
    subprocess.run(cmd, cwd=ROOT, check=True)


class Client:
    def __init__(self, base, key):
        self.base, self.key = base, key
        self.retries_429 = 0

    def call(self, method, path, body=None, timeout=120):
        """(status, json) with 429s retried after their Retry-After."""
        data = None if body is None else json.dumps(body).encode()
        for _ in range(100):
            req = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"x-api-key": self.key, "content-type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as err:
                if err.code == 429:
                    Stats.retries_429 += 1
                    self.retries_429 += 1
                    time.sleep(float(err.headers.get("retry-after", "1")))
                    continue
                return err.code, json.loads(err.read() or b"null")
        raise RuntimeError("still 429 after 100 tries")

    def execute(self, session, slug, arguments):
        return self.call("POST", f"/api/v3.1/tool_router/session/{session}/execute",
                         {"tool_slug": slug, "arguments": arguments})


class Stats:
    retries_429 = 0


def new_project_key(binary, data_dir, name):
    out = subprocess.run([str(binary), "keys", "create", "--new-project", name, "--data-dir", data_dir],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def percentile(samples, q):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * q))] if samples else float("nan")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve(binary, data_dir, up_addr, sessions):
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG="warn",
               TOOLSHED_BASE_URL_ALL=f"http://{up_addr}/{{slug}}")
    cmd = [str(binary), "serve", "--addr", "127.0.0.1:0", "--data-dir", data_dir,
           "--toolkits", str(ROOT / "fixtures/toolkits"), "--sandbox-memory-mb", str(SANDBOX_MEMORY_MB)]
    # Older builds (for a before/after figure) have no memory budget.
    help_text = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True).stdout
    if "--max-sandbox-memory-mb" in help_text:
        cmd += ["--max-sandbox-memory-mb", str((sessions + 10) * SANDBOX_MEMORY_MB)]
    proc, addr = start(cmd, env=env)
    return proc, f"http://{addr}"


def cell_code(calls, first_id, path, token):
    return (f"r = run_composio_tools([{{'tool_slug': 'HACKERNEWS_GET_ITEM', 'arguments': {{'id': i}}}} "
            f"for i in range({first_id}, {first_id + calls})])\n"
            f"open({path!r}, 'w').write({token!r})\n"
            f"sum(1 for _, e in r if not e)")


def load(args, binary, up_addr):
    data_dir = tempfile.mkdtemp(prefix="toolshed-load-")
    server, base = serve(binary, data_dir, up_addr, args.sessions)
    projects = max(1, -(-args.sessions // SESSIONS_PER_PROJECT))
    keys = [KEY] + [new_project_key(binary, data_dir, f"load{p}") for p in range(1, projects)]
    sessions = []
    for i in range(args.sessions):
        client = Client(base, keys[i % projects])
        status, body = client.call("POST", "/api/v3.1/tool_router/session", {"user_id": f"u{i}"})
        assert status == 200, body
        sessions.append((client, body["session_id"]))
    # Warm every sandbox once, so the figures are about steady state.
    warm = [threading.Thread(target=lambda c=c, s=s: c.execute(s, "COMPOSIO_REMOTE_WORKBENCH",
                                                                {"code_to_execute": "import os; os.makedirs('/mnt/files/load', exist_ok=True)"}))
            for c, s in sessions]
    [t.start() for t in warm]
    [t.join() for t in warm]

    lock = threading.Lock()
    latencies, acked, errors = [], [], []
    deadline = time.monotonic() + args.duration
    killed = threading.Event()

    def worker(index, client, session):
        n = 0
        while time.monotonic() < deadline:
            token = uuid.uuid4().hex
            path = f"/mnt/files/load/{n}.txt"
            began = time.monotonic()
            try:
                status, body = client.execute(session, "COMPOSIO_REMOTE_WORKBENCH",
                                              {"code_to_execute": cell_code(args.calls, (index * 997 + n * args.calls) % 90_000 + 1, path, token)})
            except Exception as err:  # noqa: BLE001 - counted, not fatal
                if not killed.is_set():
                    with lock:
                        errors.append(repr(err))
                return
            elapsed = time.monotonic() - began
            ok = status == 200 and body["data"]["status"] == "ok" and body["data"]["results"] == str(args.calls)
            with lock:
                if ok:
                    latencies.append(elapsed)
                    acked.append((session, n, token, body["log_id"], time.monotonic()))
                else:
                    errors.append(f"{status}: {json.dumps(body)[:300]}")
            n += 1

    threads = [threading.Thread(target=worker, args=(i, c, s)) for i, (c, s) in enumerate(sessions)]
    started = time.monotonic()
    server_cpu, client_cpu = cpu_seconds(server.pid), sum(os.times()[:2])
    [t.start() for t in threads]
    time.sleep(max(0.0, deadline - time.monotonic()))
    rss = peak_rss_mib(server.pid)
    server_cpu = cpu_seconds(server.pid) - server_cpu
    client_cpu = sum(os.times()[:2]) - client_cpu
    killed.set()
    kill_time = time.monotonic()
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    [t.join() for t in threads]
    window = kill_time - started
    with lock:
        done = [a for a in acked if a[4] <= kill_time]
        lat = [l for l in latencies]
    cells = len(done)
    print(f"{args.sessions} sessions in {projects} projects, {args.duration} s, {args.calls} tool calls per cell, "
          f"{args.upstream} upstream:")
    print(f"  cells: {cells} ({cells / window:.1f}/s), tool calls {cells * args.calls / window:.0f}/s; "
          f"latency p50 {statistics.median(lat) * 1000:.0f} ms, p99 {percentile(lat, 0.99) * 1000:.0f} ms, "
          f"max {max(lat) * 1000:.0f} ms; errors {len(errors)}; 429 retries {Stats.retries_429}; "
          f"server peak RSS {rss:.0f} MiB")
    print(f"  CPU: server {server_cpu / window:.2f} cores, this client {client_cpu / window:.2f} cores "
          f"(of {os.cpu_count()})")
    for e in errors[:5]:
        print("  error:", e)

    # Restart on the same data directory and check every acknowledged write.
    server, base = serve(binary, data_dir, up_addr, args.sessions)
    missing = []
    try:
        by_session = {}
        for c, s in sessions:
            c = Client(base, c.key)
            status, body = c.call("GET", f"/api/v3.1/tool_router/session/{s}")
            if status != 200:
                missing.append(f"session {s}: {status}")
            by_session[s] = c
        for session, n, token, _, _ in done:
            f = Path(data_dir) / "sessions" / session / "files" / "load" / f"{n}.txt"
            if not f.exists() or f.read_text() != token:
                missing.append(f"file {session}/{n}")
        recent = [a for a in done if a[4] >= kill_time - 2]
        older = [a for a in done if a[4] < kill_time - 2]
        checked = recent + random.sample(older, min(300, len(older)))
        for session, n, _, log_id, _ in checked:
            status, body = by_session[session].call("GET", f"/api/v3.1/logs/tool_execution/{log_id}")
            if status != 200:
                missing.append(f"log {log_id}: {status}")
        print(f"  after kill -9 and restart: {len(sessions)} sessions, {cells} acknowledged files, "
              f"{len(checked)} log ids ({len(recent)} from the last 2 s) checked; missing {len(missing)}")
        for m in missing[:10]:
            print("  MISSING:", m)
    finally:
        server.terminate()
        server.wait()
    return 1 if missing else 0


def fairness(args, binary, up_addr):
    data_dir = tempfile.mkdtemp(prefix="toolshed-fair-")
    server, base = serve(binary, data_dir, up_addr, args.sessions + 1)
    try:
        a = Client(base, KEY)
        b = Client(base, new_project_key(binary, data_dir, "bystander"))
        status, body = b.call("POST", "/api/v3.1/tool_router/session", {"user_id": "b"})
        b_session = body["session_id"]
        a_sessions = [a.call("POST", "/api/v3.1/tool_router/session", {"user_id": f"a{i}"})[1]["session_id"]
                      for i in range(args.sessions)]

        def b_phase(seconds):
            samples = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                began = time.monotonic()
                status, body = b.execute(b_session, "HACKERNEWS_GET_ITEM", {"id": 42})
                assert status == 200 and body["data"]["id"] == 42, body
                samples.append(time.monotonic() - began)
            return samples

        alone = b_phase(args.duration / 2)
        stop = threading.Event()
        a_cells = []

        def a_worker(session):
            while not stop.is_set():
                status, body = a.execute(session, "COMPOSIO_REMOTE_WORKBENCH",
                                         {"code_to_execute": cell_code(args.calls, 1, "/tmp/x", "x")})
                a_cells.append(status)

        threads = [threading.Thread(target=a_worker, args=(s,)) for s in a_sessions]
        [t.start() for t in threads]
        time.sleep(2)  # let A reach its limits
        loaded = b_phase(args.duration / 2)
        stop.set()
        [t.join() for t in threads]
        print(f"fairness: project A runs {args.sessions} sessions of bulk cells ({args.calls} tool calls each; "
              f"{a_cells.count(200)} cells done, {a.retries_429} 429 retries); project B makes single executes "
              f"({b.retries_429} 429 retries):")
        for name, s in (("B alone", alone), ("B beside A", loaded)):
            print(f"  {name}: {len(s)} calls, p50 {statistics.median(s) * 1000:.1f} ms, "
                  f"p99 {percentile(s, 0.99) * 1000:.1f} ms")
        print(f"  server peak RSS {peak_rss_mib(server.pid):.0f} MiB")
    finally:
        server.terminate()
        server.wait()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--upstream", choices=["fast", "python"], default="fast")
    parser.add_argument("--fairness", action="store_true")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--binary", type=Path,
                        help="the toolshed binary to measure (e.g. an older build, for a before/after figure)")
    parser.add_argument("--debug", action="store_true",
                        help="use the debug build (a quick check of the kill -9 durability, not figures)")
    args = parser.parse_args()
    profile = "debug" if args.debug else "release"
    if not args.no_build:
        build(profile)
    binary = args.binary or target_dir() / profile / "toolshed"
    if args.upstream == "fast":
        upstream, up_addr = start([str(target_dir() / profile / "toolshed-fast-upstream")])
    else:
        # The Python fixture serves item ids 1-100,000 (the cells stay below).
        upstream, up_addr = start([sys.executable, str(ROOT / "fixtures/upstream/server.py"), "--port", "0"])
    try:
        code = fairness(args, binary, up_addr) if args.fairness else load(args, binary, up_addr)
    finally:
        upstream.terminate()
        upstream.wait()
    sys.exit(code)


if __name__ == "__main__":
    main()
