#!/usr/bin/env python3
"""Fuzz the running API with schemathesis against its own OpenAPI document.

Starts the upstream fixture and `toolshed serve` (debug build from
$TOOLSHED_BIN), seeds a session, an account, a log entry and file URLs so
that path parameters usually name something that exists, then runs
schemathesis for a bounded time with every check. Fails on any 5xx, any
response that violates the document, a schema-valid request refused, or a
crash.

`positive_data_acceptance` is off for operations whose validity the
document cannot state: account_create and auth_config_create (which schemes
and credential fields a toolkit takes is the catalog's to say), account_link
and session_link (the auth config's state and scheme, the session's
toolkits), account_update (credentials in the account's own scheme),
account_refresh (whether the account's auth config can make links, and a
`redirect_url` that is an absolute http(s) URL), account_revoke (only
OAuth2 accounts of providers with a revocation endpoint can be revoked),
and execute / execute_meta (`arguments` must match the input schema of the
tool the body names, which the tools endpoint gives).

Usage: <venv>/bin/python scripts/fuzz-api.py [--seconds 60]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from serverproc import start

ROOT = Path(__file__).resolve().parents[1]
KEY = "ts_fuzz_key"


def call(addr, method, path, body=None):
    request = urllib.request.Request(
        f"http://{addr}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"x-api-key": KEY, "content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def seed(addr):
    """Creates what the path parameters should usually name; returns the
    schemathesis configuration that points them there."""
    base = "/api/v3.1/tool_router/session"
    session = call(addr, "POST", base, {"user_id": "fuzz", "toolkits": ["hackernews", "github"]})["session_id"]
    doomed = call(addr, "POST", base, {"user_id": "fuzz"})["session_id"]
    account, doomed_account = [call(addr, "POST", "/api/v3.1/connected_accounts", {
        "user_id": "fuzz", "toolkit": "github", "auth_scheme": "BEARER_TOKEN",
        "credentials": {"token": "fuzz-token"}})["id"] for _ in range(2)]
    configs = [call(addr, "POST", "/api/v3.1/auth_configs", {
        "toolkit": {"slug": "linear"}, "auth_config": {"type": kind, "authScheme": "API_KEY"}})["auth_config"]["id"]
        for kind in ("use_composio_managed_auth", "use_custom_auth")]
    log = call(addr, "POST", f"{base}/{session}/execute", {
        "tool_slug": "HACKERNEWS_GET_USER", "arguments": {"username": "pg"}})["log_id"]
    call(addr, "POST", f"{base}/{session}/execute_meta", {
        "slug": "COMPOSIO_REMOTE_WORKBENCH",
        "arguments": {"code_to_execute": "open('/mnt/files/a.txt', 'w').write('fuzz')"}})
    mount = f"{base}/{session}/mounts/files"
    tokens = [call(addr, "POST", f"{mount}/{verb}_url", {"mount_relative_path": "a.txt"})
              for verb in ("upload", "download")]
    tokens = [t.get("upload_url") or t.get("download_url") for t in tokens]
    tokens = [t.rsplit("/", 1)[1] for t in tokens if t]
    tools = [t["slug"] for t in call(addr, "GET", f"{base}/{session}/tools")["items"]]
    dictionaries = {
        "sessions": [session], "doomed": [doomed], "accounts": [account], "doomed_accounts": [doomed_account], "logs": [log],
        "tokens": tokens, "tools": tools + ["HACKERNEWS_GET_USER", "GITHUB_GET_REPO"],
        "configs": configs[:1], "doomed_configs": configs[1:], "statuses": ["ENABLED", "DISABLED"],
    }
    # Every check runs (the default); the operations below turn one off
    # where the document cannot say what is valid.
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]

    def operations(ids, parameters=None, checks_off=()):
        lines.append("[[operations]]")
        lines.append(f"include-operation-id = {json.dumps(ids)}")
        for key, (dictionary, probability) in (parameters or {}).items():
            lines.append(f'parameters."{key}" = {{ dictionary = "{dictionary}", probability = {probability} }}')
        for check in checks_off:
            lines.append(f"checks.{check}.enabled = false")
        lines.append("")

    session_ops = ["session_retrieve", "session_update", "session_config_history", "session_memory",
                   "session_list_tools", "session_list_toolkits", "session_search",
                   "session_rotate_mcp_token", "file_list", "file_upload_url",
                   "file_download_url", "file_delete"]
    operations(session_ops, {"path.id": ("sessions", 0.9), "path.mount": ("mount", 1.0)})
    operations(["session_execute", "session_execute_meta", "session_proxy_execute"],
               {"path.id": ("sessions", 0.9), "body.tool_slug": ("tools", 0.8)},
               checks_off=["positive_data_acceptance"])
    operations(["session_delete"], {"path.id": ("doomed", 0.5)})
    operations(["account_retrieve", "account_set_status"], {"path.id": ("accounts", 0.9)})
    operations(["account_delete"], {"path.id": ("doomed_accounts", 0.5)})
    # New credentials must be in the account's own scheme.
    operations(["account_update"], {"path.id": ("accounts", 0.9)},
               checks_off=["positive_data_acceptance"])
    operations(["account_create"], checks_off=["positive_data_acceptance"])
    operations(["account_refresh", "account_revoke"], {"path.id": ("accounts", 0.9)},
               checks_off=["positive_data_acceptance"])
    operations(["auth_config_retrieve", "auth_config_update"], {"path.id": ("configs", 0.9)})
    operations(["auth_config_set_status"], {"path.id": ("configs", 0.9), "path.status": ("statuses", 0.9)})
    operations(["auth_config_delete"], {"path.id": ("doomed_configs", 0.5)})
    # Whether a toolkit takes a scheme is the catalog's to say; whether a
    # link can be made depends on the auth config's state and scheme and on
    # the session's toolkits.
    operations(["auth_config_create"], checks_off=["positive_data_acceptance"])
    operations(["account_link"], {"body.auth_config_id": ("configs", 0.9)},
               checks_off=["positive_data_acceptance"])
    operations(["session_link"], {"path.id": ("sessions", 0.9)},
               checks_off=["positive_data_acceptance"])
    operations(["log_log"], {"path.id": ("logs", 0.9)})
    operations(["file_download", "file_upload"], {"path.token": ("tokens", 0.9)})
    operations(["tool_tool"], {"path.slug": ("tools", 0.9)})
    # A tool's arguments are its own input schema's; an Idempotency-Key
    # reused with another request is a 422 however valid the request; the
    # proxy needs an active account.
    operations(["tools_execute"], {"path.slug": ("tools", 0.9)},
               checks_off=["positive_data_acceptance"])
    operations(["tools_proxy"], {"body.connected_account_id": ("accounts", 0.9)},
               checks_off=["positive_data_acceptance"])
    # Writing arguments needs the operator's model ([llm]), which this
    # server has not: a 400 that says so.
    operations(["tools_input"], {"path.slug": ("tools", 0.9)},
               checks_off=["positive_data_acceptance"])
    operations(["session_list"], {"query.user_id": ("users", 0.9)})
    operations(["account_list"], {"query.user_ids": ("users", 0.5)})
    lines += ["[dictionaries.mount]", 'values = ["files"]', "",
              "[dictionaries.users]", 'values = ["fuzz"]', ""]
    return "\n".join(lines)


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
            config = Path(cache_dir) / "schemathesis.toml"
            config.write_text(seed(addr))
            st = Path(sys.executable).with_name("schemathesis")
            result = subprocess.run([
                str(st), "--config-file", str(config), "run", f"http://{addr}/api/v3.1/openapi.json",
                "-H", f"x-api-key: {KEY}",
                "--max-time", str(args.seconds),
                "--seed", os.environ.get("FUZZ_SEED", "1"),
                *os.environ.get("FUZZ_EXTRA", "").split(),
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
