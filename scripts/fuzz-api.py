#!/usr/bin/env python3
"""Fuzz the running API with schemathesis against its own OpenAPI document.

Starts the upstream fixture and `toolshed serve` (debug build from
$TOOLSHED_BIN), then runs schemathesis for a bounded time with every check
but `positive_data_acceptance` (the document does not yet say which fields
are required; see issue 8's note). Fails on any 5xx, any response that
violates the document, or a crash.

Usage: <venv>/bin/python scripts/fuzz-api.py [--seconds 60]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from serverproc import start

ROOT = Path(__file__).resolve().parents[1]
KEY = "ts_fuzz_key"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    binary = os.environ.get("TOOLSHED_BIN") or str(ROOT / "target/debug/toolshed")
    upstream, up_addr = start([sys.executable, str(ROOT / "fixtures/upstream/server.py"), "--port", "0"])
    env = dict(os.environ, TOOLSHED_API_KEY=KEY, RUST_LOG="error",
               TOOLSHED_BASE_URL_ALL=f"http://{up_addr}/{{slug}}")
    with tempfile.TemporaryDirectory(prefix="toolshed-fuzz-") as data_dir, \
            tempfile.TemporaryDirectory(prefix="toolshed-fuzz-cache-") as cache_dir:
        server, addr = start([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", data_dir,
                              "--toolkits", str(ROOT / "fixtures/toolkits"),
                              "--requests-per-second-per-project", "1000000",
                              "--cell-timeout-ms", "5000"], env=env)
        try:
            st = Path(sys.executable).with_name("schemathesis")
            result = subprocess.run([
                str(st), "run", f"http://{addr}/api/v3.1/openapi.json",
                "-H", f"x-api-key: {KEY}",
                "--max-time", str(args.seconds),
                "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--seed", "1",
            ], cwd=cache_dir)  # its cache (.schemathesis/) stays out of the checkout
            alive = server.poll() is None
        finally:
            server.terminate()
            server.wait()
            upstream.terminate()
            upstream.wait()
    if not alive:
        print("toolshed serve died during the run", file=sys.stderr)
        sys.exit(1)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
