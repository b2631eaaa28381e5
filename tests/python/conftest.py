"""Fixtures: the local upstream service and a real `toolshed serve`.

The binary comes from $TOOLSHED_BIN (scripts/test.sh builds it); every
server gets a fresh data directory and free ports. Nothing sleeps: each
process is ready once it prints its address.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "ts_python_suite_key"


def _start(cmd, env=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:
        if "http://" in line:
            addr = line.split("http://", 1)[1].strip()
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, addr
    raise RuntimeError(f"{cmd[0]} exited before printing its address")


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def upstream():
    proc, addr = _start([sys.executable, str(ROOT / "fixtures/upstream/server.py"), "--port", "0"])
    yield addr
    _stop(proc)


class Server:
    def __init__(self, upstream, data_dir, toolkits=None, env=None, args=()):
        self.upstream = upstream
        self.args = list(args)
        self.data_dir = data_dir
        self.toolkits = toolkits or ROOT / "fixtures/toolkits"
        self.extra_env = env or {}
        self.proc = None
        self.base_url = None
        self.start()

    def start(self):
        binary = os.environ.get("TOOLSHED_BIN") or str(ROOT / "target/debug/toolshed")
        env = dict(os.environ)
        env["TOOLSHED_API_KEY"] = KEY
        env.setdefault("RUST_LOG", "warn")
        env["TOOLSHED_BASE_URL_ALL"] = f"http://{self.upstream}/{{slug}}"
        env.update(self.extra_env)
        self.proc, addr = _start(
            [binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", str(self.data_dir),
             "--toolkits", str(self.toolkits), *self.args],
            env=env,
        )
        self.base_url = f"http://{addr}"

    def restart(self):
        _stop(self.proc)
        self.start()

    def stop(self):
        _stop(self.proc)

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"x-api-key": KEY, "content-type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read() or b"null")


@pytest.fixture()
def server(upstream):
    with tempfile.TemporaryDirectory() as data_dir:
        srv = Server(upstream, Path(data_dir))
        yield srv
        srv.stop()


@pytest.fixture()
def composio(server):
    from composio import Composio

    return Composio(api_key=KEY, base_url=server.base_url, allow_tracking=False)
