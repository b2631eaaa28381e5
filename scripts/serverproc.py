"""Starting the servers the scripts measure (stdlib only).

Each server prints `... http://ADDR` once it listens; `start` waits for
that line (no sleeping) and keeps draining its output so it never blocks.
"""

import json
import subprocess
import threading
import urllib.request


def start(cmd, env=None):
    """Starts `cmd`; returns (process, "host:port")."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:
        if "http://" in line:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, line.split("http://", 1)[1].strip().split()[0]
    raise SystemExit(f"{cmd[0]} did not start")


def call(base, key, method, path, body=None):
    """One JSON request to the API with `key`; the decoded answer."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"x-api-key": key, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as resp:
        return json.loads(resp.read())
