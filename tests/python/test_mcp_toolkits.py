"""MCP servers as toolkits: `@modelcontextprotocol/server-everything` (npm,
installed by scripts/test.sh into tests/ts) over stdio and streamable HTTP,
and fixtures/mcp/edge_server.py (fastmcp) for the edge cases, behind a real
toolshed serve, through the real composio SDK."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, Server

EVERYTHING = ROOT / "tests/ts/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
EDGE = ROOT / "fixtures/mcp/edge_server.py"
SECRET = "host-secret-never-passed-on"


def toolkit_file(folder, slug, mcp, auth='schemes = ["NO_AUTH"]'):
    (folder / slug).mkdir()
    lines = [f'slug = "{slug}"', f'name = "{slug.title()}"',
             f'description = "The {slug} MCP server."', "[auth]", auth, "[mcp]"]
    lines += [f"{key} = {value}" for key, value in mcp.items()]
    (folder / slug / "toolkit.toml").write_text("\n".join(lines) + "\n")


def toml_list(items):
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def start_reading(proc, stream, marker):
    """Waits for `marker` on `stream`, then drains the stream in the
    background; returns the line with the marker."""
    for line in stream:
        if marker in line:
            threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()
            return line
    raise RuntimeError(f"the process exited before printing {marker!r}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Everything:
    """server-everything over streamable HTTP."""

    def __init__(self):
        assert EVERYTHING.is_file(), f"{EVERYTHING} is missing: run `npm ci` in tests/ts"
        self.port = free_port()
        self.proc = subprocess.Popen(["node", str(EVERYTHING), "streamableHttp"],
                                     env={**os.environ, "PORT": str(self.port)},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        start_reading(self.proc, self.proc.stderr, "listening on port")
        self.url = f"http://127.0.0.1:{self.port}/mcp"

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def control(upstream, path, body=None):
    """The upstream fixture's control and OAuth endpoints."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://{upstream}{path}", data=data,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as resp:
        return json.loads(resp.read() or b"null")


class Edge:
    """The fastmcp edge-case server over streamable HTTP (with `guard`, an
    (introspection URL, client) pair: only bearer tokens the OAuth server
    says are active get in)."""

    def __init__(self, port=0, guard=()):
        self.proc = subprocess.Popen([sys.executable, str(EDGE), "http", str(port), *guard],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = start_reading(self.proc, self.proc.stdout, "listening on ")
        self.url = line.split("listening on ", 1)[1].strip()
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def stop(self):
        self.proc.kill()
        self.proc.wait()


CLIENT, CLIENT_SECRET = "mcp-edge", "mcp-edge-secret"


@pytest.fixture(scope="module")
def remote(upstream):
    control(upstream, "/_control/oauth/clients", {"client_id": CLIENT, "client_secret": CLIENT_SECRET})
    everything, edge = Everything(), Edge()
    guarded = Edge(guard=(f"http://{upstream}/_oauth/introspect", f"{CLIENT}:{CLIENT_SECRET}"))
    yield everything, edge, guarded
    for server in (everything, edge, guarded):
        server.stop()


@pytest.fixture(scope="module")
def mcp_server(upstream, remote):
    everything, edge, guarded = remote
    # The operator's own token, for listing the guarded server's tools.
    listing = control(upstream, "/_control/oauth/tokens", {"client_id": CLIENT})["access_token"]
    with tempfile.TemporaryDirectory() as toolkits, tempfile.TemporaryDirectory() as data:
        toolkits = Path(toolkits)
        provider = f"http://{upstream}/_oauth"
        toolkit_file(toolkits, "edge_oauth", {
            "url": f'"{guarded.url}"',
            "listing_headers": '{ Authorization = "Bearer ${EDGE_LISTING_TOKEN}" }',
        }, auth='schemes = ["OAUTH2"]\n'
                 'inject = { in = "header", name = "Authorization", format = "Bearer {token}" }\n'
                 f'[auth.oauth2]\nauthorize_url = "{provider}/authorize"\ntoken_url = "{provider}/token"')
        config = Path(data) / "toolshed.toml"
        config.write_text(f'[oauth_apps.edge_oauth]\nclient_id = "{CLIENT}"\nclient_secret = "{CLIENT_SECRET}"\n')
        toolkit_file(toolkits, "everything", {"command": toml_list(["node", EVERYTHING, "stdio"])})
        toolkit_file(toolkits, "everything_http", {"url": f'"{everything.url}"'})
        toolkit_file(toolkits, "edge", {
            "command": toml_list([sys.executable, EDGE, "stdio"]),
            "env": '{ EDGE_TOKEN = "${EDGE_TOKEN_FROM_HOST}" }',
            "timeout_secs": "3",
        })
        toolkit_file(toolkits, "edge_http", {"url": f'"{edge.url}"', "timeout_secs": "3"},
                     auth='schemes = ["API_KEY"]\ninject = { in = "header", name = "X-Api-Key", format = "{api_key}" }')
        toolkit_file(toolkits, "edge_once", {
            "command": toml_list([sys.executable, EDGE, "stdio"]),
            "env": f'{{ EDGE_HANG_AFTER_FIRST_START = "{Path(data) / "started-once"}" }}',
            "connect_timeout_secs": "2",
        })
        toolkit_file(toolkits, "broken", {"command": toml_list(["/nonexistent/mcp-server"]),
                                          "connect_timeout_secs": "5"})
        srv = Server(upstream, Path(data), toolkits=toolkits, args=["--config", str(config)],
                     env={"EDGE_TOKEN_FROM_HOST": "token-from-config", "HOST_SECRET": SECRET,
                          "EDGE_LISTING_TOKEN": listing})
        yield srv
        srv.stop()


@pytest.fixture()
def sdk(mcp_server):
    from composio import Composio

    from conftest import KEY
    return Composio(api_key=KEY, base_url=mcp_server.base_url, allow_tracking=False)


def run(session, slug, **arguments):
    return session.execute(slug, arguments=arguments)


def test_the_servers_tools_are_listed_with_schemas_and_hints(mcp_server):
    listed = mcp_server.request("GET", "/api/v3.1/tools?toolkit_slug=everything&limit=100")["items"]
    slugs = {tool["slug"] for tool in listed}
    assert {"EVERYTHING_ECHO", "EVERYTHING_GET_SUM", "EVERYTHING_GET_TINY_IMAGE"} <= slugs, slugs
    echo = next(t for t in listed if t["slug"] == "EVERYTHING_ECHO")
    assert echo["input_parameters"]["properties"]["message"]["type"] == "string"
    assert "message" in echo["input_parameters"]["required"]
    edge = {t["slug"]: t for t in mcp_server.request("GET", "/api/v3.1/tools?toolkit_slug=edge")["items"]}
    assert "readOnlyHint" in edge["EDGE_ADD"]["tags"] and "destructiveHint" in edge["EDGE_CRASH"]["tags"]
    assert edge["EDGE_ADD"]["output_parameters"]["type"] == "object"
    # The toolkit whose server cannot start is loaded, empty; the rest works.
    broken = mcp_server.request("GET", "/api/v3.1/toolkits/broken")
    assert broken["meta"]["tools_count"] == 0, broken
    detail = mcp_server.request("GET", "/api/v3.1/toolkits/everything")
    assert "nonexistent" not in str(detail) and str(EVERYTHING) not in str(detail)


def test_search_and_execute_over_stdio(sdk):
    session = sdk.create(user_id="ann", toolkits=["everything", "edge"])
    found = session.search(query="echo back a message")
    assert "EVERYTHING_ECHO" in found.results[0].primary_tool_slugs, found.results[0]
    echoed = run(session, "EVERYTHING_ECHO", message="hello over stdio")
    assert echoed.data == {"text": "Echo: hello over stdio"}, echoed
    assert run(session, "EDGE_ADD", a=2, b=40).data == {"sum": 42}
    # The schema is checked before the server is asked.
    wrong = run(session, "EDGE_ADD", a="two", b=40)
    assert wrong.error and "arguments.a" in wrong.error, wrong
    # Non-text content comes back as MCP content blocks.
    image = run(session, "EVERYTHING_GET_TINY_IMAGE")
    kinds = [block["type"] for block in image.data["content"]]
    assert "image" in kinds, image.data


def test_a_stdio_server_gets_only_the_environment_its_toolkit_gives(sdk):
    session = sdk.create(user_id="ben", toolkits=["edge"])
    seen = run(session, "EDGE_WHOAMI").data
    assert seen["env"] == "token-from-config"
    assert "HOST_SECRET" not in seen["environment"] and "TOOLSHED_API_KEY" not in seen["environment"]
    assert set(seen["environment"]) <= {"PATH", "HOME", "LANG", "TMPDIR", "EDGE_TOKEN", "LC_CTYPE"}, seen
    env = run(sdk.create(user_id="ben", toolkits=["everything"]), "EVERYTHING_GET_ENV")
    assert SECRET not in str(env.data) and "ts_python_suite_key" not in str(env.data)


def test_multi_execute_and_bulk_calls_from_the_workbench_over_http(sdk):
    session = sdk.create(user_id="cal", toolkits=["everything_http", "edge"])
    multi = session.execute("COMPOSIO_MULTI_EXECUTE_TOOL", arguments={
        "sync_response_to_workbench": False,
        "tools": [{"tool_slug": "EVERYTHING_HTTP_GET_SUM", "arguments": {"a": n, "b": 1}} for n in range(3)]
               + [{"tool_slug": "EDGE_ADD", "arguments": {"a": 1, "b": 1}}],
    })
    results = multi.data["results"]
    assert all(r["response"]["successful"] for r in results), results
    assert "1" in str(results[0]["response"]["data"]) and results[3]["response"]["data"] == {"sum": 2}
    code = """
calls = [{"tool_slug": "EVERYTHING_HTTP_ECHO", "arguments": {"message": f"m{n}"}} for n in range(300)]
calls += [{"tool_slug": "EDGE_ADD", "arguments": {"a": n, "b": n}} for n in range(100)]
results = run_composio_tools(calls, max_concurrency=32)
errors = [err for _, err in results if err]
echoes = [r["data"]["text"] for r, err in results[:300] if not err]
sums = [r["data"]["sum"] for r, err in results[300:] if not err]
(len(errors), echoes[:2], sum(sums))
"""
    cell = session.execute("COMPOSIO_REMOTE_WORKBENCH", arguments={"code_to_execute": code})
    assert cell.data["results"] == "(0, ['Echo: m0', 'Echo: m1'], 9900)", cell


def test_session_filters_apply_to_mcp_tools(sdk):
    session = sdk.create(user_id="dee", toolkits=["edge"], tools={"edge": {"tags": ["readOnlyHint"]}})
    assert run(session, "EDGE_ADD", a=1, b=2).data == {"sum": 3}
    refused = run(session, "EDGE_CRASH")
    assert refused.error and "disabled" in refused.error, refused
    other = sdk.create(user_id="dee", toolkits=["everything"])
    outside = run(other, "EDGE_ADD", a=1, b=2)
    assert outside.error and "disabled" in outside.error, outside


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_call_that_times_out_retires_its_server_and_a_noisy_stderr_is_read(sdk):
    session = sdk.create(user_id="iva", toolkits=["edge"])
    before = run(session, "EDGE_PID").data["pid"]
    slow = run(session, "EDGE_SLOW", seconds=30)
    assert slow.error and "did not answer within 3 s" in slow.error, slow
    after = run(session, "EDGE_PID").data["pid"]
    assert after != before
    assert not alive(before), "the stuck server's process was left running"
    # 200 KiB of 10,000-byte stderr lines (past the pipe's 64 KiB), twice:
    # the server is never blocked or killed by its stderr.
    assert run(session, "EDGE_NOISY", kib=200).data == {"result": "written"}
    assert run(session, "EDGE_NOISY", kib=200).data == {"result": "written"}
    assert run(session, "EDGE_PID").data["pid"] == after


def test_each_project_gets_its_own_server(sdk, mcp_server):
    """Sessions of one project share a NO_AUTH server's process; another
    project (tenant) never shares it."""
    from composio import Composio

    first = run(sdk.create(user_id="ola", toolkits=["edge"]), "EDGE_PID").data["pid"]
    assert run(sdk.create(user_id="ola2", toolkits=["edge"]), "EDGE_PID").data["pid"] == first
    binary = os.environ.get("TOOLSHED_BIN") or str(ROOT / "target/debug/toolshed")
    key = subprocess.run([binary, "keys", "--data-dir", str(mcp_server.data_dir), "create",
                          "--new-project", "other"], capture_output=True, text=True, check=True).stdout.strip()
    other = Composio(api_key=key, base_url=mcp_server.base_url, allow_tracking=False)
    theirs = run(other.create(user_id="ola", toolkits=["edge"]), "EDGE_PID").data["pid"]
    assert theirs != first


def test_slow_failing_and_large_results(sdk):
    session = sdk.create(user_id="eve", toolkits=["edge"])
    started = time.monotonic()
    slow = run(session, "EDGE_SLOW", seconds=30)
    assert slow.error and "did not answer within 3 s" in slow.error, slow
    assert time.monotonic() - started < 20
    assert run(session, "EDGE_SLOW", seconds=0.01).data == {"result": "slept 0.01"}
    failed = run(session, "EDGE_FAIL", message="the widget is broken")
    assert failed.error == "the widget is broken", failed
    big = run(session, "EDGE_LARGE", size=3_000_000)
    assert len(big.data["result"]) == 3_000_000
    # One message over rmcp's 16 MiB bound is dropped: a clear error at the
    # deadline, and the connection still serves the next call.
    too_big = run(session, "EDGE_LARGE", size=20_000_000)
    assert too_big.error and "16 MiB" in too_big.error, too_big.error
    assert run(session, "EDGE_ADD", a=1, b=1).data == {"sum": 2}


def test_concurrent_calls_to_a_server_that_hangs_share_one_wait(sdk):
    """edge_once's server listed its tools, then every new process hangs
    before its handshake: the calls waiting on one connection attempt all
    get its error when it times out, instead of each trying in turn."""
    session = sdk.create(user_id="hank", toolkits=["edge_once"])
    started = time.monotonic()
    multi = session.execute("COMPOSIO_MULTI_EXECUTE_TOOL", arguments={
        "sync_response_to_workbench": False,
        "tools": [{"tool_slug": "EDGE_ONCE_ADD", "arguments": {"a": n, "b": n}} for n in range(8)],
    })
    errors = [r["response"]["error"] for r in multi.data["results"]]
    assert all(e and "did not answer within 2 s" in e for e in errors), errors
    # One 2 s attempt, not eight in a row.
    assert time.monotonic() - started < 10


def test_a_stdio_server_that_dies_is_started_again(sdk):
    session = sdk.create(user_id="fay", toolkits=["edge"])
    first = run(session, "EDGE_COUNT").data
    assert run(session, "EDGE_COUNT").data == {"count": first["count"] + 1, "pid": first["pid"]}
    crashed = run(session, "EDGE_CRASH")
    assert crashed.error and "closed the connection" in crashed.error, crashed
    again = run(session, "EDGE_COUNT").data
    assert again["pid"] != first["pid"] and again["count"] == 1, again


def test_http_credentials_per_account_and_a_server_restart(sdk, mcp_server, remote):
    _, edge, _ = remote
    for user, key in (("gus", "key-of-gus"), ("hal", "key-of-hal")):
        mcp_server.request("POST", "/api/v3.1/connected_accounts", {
            "user_id": user, "toolkit": "edge_http", "auth_scheme": "API_KEY",
            "credentials": {"api_key": key},
        })
    gus = sdk.create(user_id="gus", toolkits=["edge_http"])
    hal = sdk.create(user_id="hal", toolkits=["edge_http"])
    assert run(gus, "EDGE_HTTP_WHOAMI").data["header"] == "key-of-gus"
    assert run(hal, "EDGE_HTTP_WHOAMI").data["header"] == "key-of-hal"
    nobody = run(sdk.create(user_id="ida", toolkits=["edge_http"]), "EDGE_HTTP_WHOAMI")
    assert nobody.error and "no connected edge_http account" in nobody.error, nobody
    # The server goes away: a clear error, quickly.
    edge.stop()
    started = time.monotonic()
    down = run(gus, "EDGE_HTTP_ADD", a=1, b=1)
    assert down.error and "edge_http" in down.error, down
    assert str(edge.port) not in down.error
    assert time.monotonic() - started < 15
    # It comes back on the same address: the next call reconnects.
    edge.proc = Edge(edge.port).proc
    assert run(gus, "EDGE_HTTP_ADD", a=2, b=2).data == {"sum": 4}
    assert run(hal, "EDGE_HTTP_WHOAMI").data["header"] == "key-of-hal"


def test_oauth_accounts_reach_a_server_that_checks_tokens_and_refresh_on_refusal(sdk, mcp_server, upstream):
    listed = mcp_server.request("GET", "/api/v3.1/tools?toolkit_slug=edge_oauth")["items"]
    assert "EDGE_OAUTH_WHOAMI" in {tool["slug"] for tool in listed}
    pair = control(upstream, "/_control/oauth/tokens", {"client_id": CLIENT})
    mcp_server.request("POST", "/api/v3.1/connected_accounts", {
        "user_id": "jo", "toolkit": "edge_oauth", "auth_scheme": "OAUTH2",
        "credentials": {"access_token": pair["access_token"], "refresh_token": pair["refresh_token"]},
    })
    session = sdk.create(user_id="jo", toolkits=["edge_oauth"])
    first = run(session, "EDGE_OAUTH_WHOAMI")
    assert first.data["authorization"] == f"Bearer {pair['access_token']}", first
    # The provider stops honouring the access token: the server answers 401,
    # toolshed refreshes the token once and makes the call again.
    before = control(upstream, f"/_control/oauth/clients/{CLIENT}")["token_requests"]["refresh_token"]
    control(upstream, f"/_control/oauth/clients/{CLIENT}/invalidate", {"tokens": "access"})
    again = run(session, "EDGE_OAUTH_WHOAMI")
    assert again.data and again.data["authorization"] not in (None, first.data["authorization"]), again
    after = control(upstream, f"/_control/oauth/clients/{CLIENT}")["token_requests"]["refresh_token"]
    assert after == before + 1
    # Refresh tokens revoked too: a clear error, no loop.
    control(upstream, f"/_control/oauth/clients/{CLIENT}/invalidate", {"tokens": "all"})
    refused = run(session, "EDGE_OAUTH_WHOAMI")
    assert refused.error and "edge_oauth" in refused.error, refused
