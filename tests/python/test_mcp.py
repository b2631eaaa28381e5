"""Every session is an MCP server: the real `mcp` (2.3.0) and `fastmcp`
(4.1.6) clients against `toolshed serve`, in each protocol era they speak.

`mode="legacy"` is the handshake era (initialize, 2025-11-25); `"auto"`
probes `server/discover` and lands on 2026-07-28; `"2026-07-28"` skips the
probe. Each test asserts the negotiated version, so a silent fallback shows.
"""

import asyncio
import json
import urllib.error
import urllib.request

import pytest

from conftest import KEY

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
MODES = [("legacy", LEGACY), ("auto", MODERN), (MODERN, MODERN)]


def new_session(server, **config):
    return server.request("POST", "/api/v3.1/tool_router/session", {"user_id": "mcp-user", **config})


def mcp_client(url, mode, key=KEY):
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    http = create_mcp_http_client(headers={"x-api-key": key})
    return http, Client(streamable_http_client(url, http_client=http), mode=mode)


async def call(url, mode, steps):
    http, client = mcp_client(url, mode)
    async with http, client as c:
        return c.protocol_version, [await step(c) for step in steps]


@pytest.mark.parametrize("mode,version", MODES)
def test_state_persists_across_connections_and_failures_are_results(server, mode, version):
    session = new_session(server)
    url = session["mcp"]["url"]
    assert url.startswith(server.base_url) and url.endswith(f"/tool_router/{session['session_id']}/mcp")

    async def scenario():
        async def list_names(c):
            return sorted(t.name for t in (await c.list_tools()).tools)

        async def define(c):
            return await c.call_tool(
                "COMPOSIO_REMOTE_WORKBENCH",
                {"code_to_execute": "base = 40\ndef bump(n):\n    return base + n\nbump(1)"},
            )

        negotiated, (names, defined) = await call(url, mode, [list_names, define])
        assert negotiated == version
        assert "COMPOSIO_REMOTE_WORKBENCH" in names and "COMPOSIO_SEARCH_TOOLS" in names
        assert not defined.is_error
        assert defined.structured_content["results"] == "41"

        # A second, new connection sees the variable and the function.
        async def use(c):
            return await c.call_tool("COMPOSIO_REMOTE_WORKBENCH", {"code_to_execute": "bump(2)"})

        async def fail(c):
            return await c.call_tool("COMPOSIO_REMOTE_WORKBENCH", {"code_to_execute": "1 / 0"})

        _, (used, failed) = await call(url, mode, [use, fail])
        assert not used.is_error and used.structured_content["results"] == "42"
        assert failed.is_error
        assert "ZeroDivisionError" in failed.content[0].text
        assert failed.structured_content["status"] == "error"

    asyncio.run(scenario())


@pytest.mark.parametrize("mode,version", MODES)
def test_search_and_an_app_tool_against_the_upstream(server, mode, version):
    url = new_session(server)["mcp"]["url"]

    async def search(c):
        return await c.call_tool(
            "COMPOSIO_SEARCH_TOOLS", {"queries": [{"use_case": "get a hacker news item by id"}]}
        )

    async def app_tool(c):
        return await c.call_tool(
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            {"tools": [{"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}],
             "sync_response_to_workbench": False},
        )

    negotiated, (found, ran) = asyncio.run(call(url, mode, [search, app_tool]))
    assert negotiated == version
    assert "HACKERNEWS_GET_ITEM" in found.structured_content["results"][0]["primary_tool_slugs"]
    assert not ran.is_error, ran.content
    item = ran.structured_content["results"][0]["response"]["data"]
    assert item["id"] == 1 and item["type"] in ("story", "job", "poll")


@pytest.mark.parametrize("mode,version", MODES)
def test_unknown_tools_are_protocol_errors_and_bad_arguments_are_results(server, mode, version):
    """SEP-1303: input errors are tool errors the model can read and fix;
    only an unknown tool is a JSON-RPC error."""
    from mcp.shared.exceptions import MCPError

    url = new_session(server)["mcp"]["url"]

    async def scenario():
        http, client = mcp_client(url, mode)
        async with http, client as c:
            assert c.protocol_version == version
            with pytest.raises(MCPError, match="NOPE_TOOL not found"):
                await c.call_tool("NOPE_TOOL", {})
            bad_meta = await c.call_tool("COMPOSIO_REMOTE_WORKBENCH", {"code_to_execute": 7})
            assert bad_meta.is_error
            assert "arguments.code_to_execute" in bad_meta.content[0].text
            bad_app = await c.call_tool("HACKERNEWS_GET_ITEM", {"id": "not a number"})
            assert bad_app.is_error
            assert "invalid arguments for HACKERNEWS_GET_ITEM" in bad_app.content[0].text

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_a_wrong_key_or_another_session_is_refused(server, mode):
    session = new_session(server)
    url = session["mcp"]["url"]

    async def attempt(target, key):
        http, client = mcp_client(target, mode, key=key)
        async with http, client as c:
            await c.list_tools()

    with pytest.raises(Exception):
        asyncio.run(attempt(url, "ts_wrong_key"))
    with pytest.raises(Exception):
        asyncio.run(attempt(url.replace(session["session_id"], "trs_nope"), KEY))
    # Over plain HTTP the statuses are 401 and 404, in the API's envelope.
    for target, key, status in [(url, "ts_wrong_key", 401), (url.replace(session["session_id"], "trs_nope"), KEY, 404)]:
        req = urllib.request.Request(
            target, method="POST",
            data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(),
            headers={"x-api-key": key, "content-type": "application/json",
                     "accept": "application/json, text/event-stream"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req)
        assert err.value.code == status
        assert json.loads(err.value.read())["error"]["status"] == status


def test_a_preload_session_lists_its_app_tools(server):
    url = new_session(server, preload={"tools": ["HACKERNEWS_GET_ITEM", "HACKERNEWS_GET_USER"]})["mcp"]["url"]

    async def tools(c):
        return (await c.list_tools()).tools

    _, (listed,) = asyncio.run(call(url, "auto", [tools]))
    by_name = {t.name: t for t in listed}
    item = by_name["HACKERNEWS_GET_ITEM"]
    assert item.input_schema["required"] == ["id"]
    assert item.annotations.read_only_hint is True
    assert "HACKERNEWS_GET_USER" in by_name


@pytest.mark.parametrize("mode,version", [("legacy", LEGACY), ("auto", MODERN)])
def test_fastmcp_client_with_headers(server, mode, version):
    from fastmcp import Client
    from fastmcp.client.transports import StreamableHttpTransport

    url = new_session(server)["mcp"]["url"]

    async def scenario():
        transport = StreamableHttpTransport(url, headers={"x-api-key": KEY})
        async with Client(transport, mode=mode) as c:
            assert c.protocol_version == version
            names = {t.name for t in await c.list_tools()}
            assert "COMPOSIO_REMOTE_BASH_TOOL" in names
            ran = await c.call_tool("COMPOSIO_REMOTE_BASH_TOOL", {"command": "echo hello | tr a-z A-Z"})
            assert ran.structured_content["stdout"] == "HELLO\n"

    asyncio.run(scenario())


def test_the_session_mcp_token_works_there_only_and_rotates(server):
    session = new_session(server)
    mcp = session["mcp"]
    assert KEY not in json.dumps(session), "the project key is never echoed"
    token = mcp["headers"]["x-api-key"]
    assert token.startswith("tsm_")
    other = new_session(server)

    async def tools(c):
        return len((await c.list_tools()).tools)

    async def connect(url, key, mode="auto"):
        http, client = mcp_client(url, mode, key=key)
        async with http, client as c:
            return await tools(c)

    # The token from mcp.headers is all a client needs, in both eras.
    assert asyncio.run(connect(mcp["url"], token)) > 0
    assert asyncio.run(connect(mcp["url"], token, "legacy")) > 0
    # It opens nothing else: another session's endpoint, or the REST API.
    with pytest.raises(Exception):
        asyncio.run(connect(other["mcp"]["url"], token))
    req = urllib.request.Request(server.base_url + "/api/v3.1/tool_router/session?user_id=mcp-user",
                                 headers={"x-api-key": token})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 401
    # Rotating it: the old token stops working, the new one works, and the
    # retrieve response carries the new one.
    rotated = server.request("POST", f"/api/v3.1/tool_router/session/{session['session_id']}/mcp/rotate_token")
    new_token = rotated["mcp"]["headers"]["x-api-key"]
    assert new_token != token
    with pytest.raises(Exception):
        asyncio.run(connect(mcp["url"], token))
    assert asyncio.run(connect(mcp["url"], new_token)) > 0
    again = server.request("GET", f"/api/v3.1/tool_router/session/{session['session_id']}")
    assert again["mcp"]["headers"]["x-api-key"] == new_token


@pytest.mark.parametrize("mode,version", [("legacy", LEGACY), ("auto", MODERN)])
def test_a_long_cell_reports_progress_and_is_not_cut(server, mode, version):
    url = new_session(server)["mcp"]["url"]
    seen = []

    async def progress(value, total, message):
        seen.append((value, message))

    async def scenario():
        http, client = mcp_client(url, mode)
        async with http, client as c:
            assert c.protocol_version == version
            return await c.call_tool(
                "COMPOSIO_REMOTE_WORKBENCH",
                {"code_to_execute": "import time\ntime.sleep(5)\n'slept'"},
                progress_callback=progress,
            )

    result = asyncio.run(scenario())
    assert not result.is_error and result.structured_content["results"] == "'slept'"
    assert seen, "no progress notification arrived"
    assert all("COMPOSIO_REMOTE_WORKBENCH running for" in m for _, m in seen)
    assert [v for v, _ in seen] == sorted(v for v, _ in seen)


def _binary():
    import os
    from conftest import ROOT

    return os.environ.get("TOOLSHED_BIN") or str(ROOT / "target/debug/toolshed")


def test_stdio_mode_serves_one_session_and_keeps_its_state(upstream, tmp_path):
    """`toolshed mcp --user U` (then `--session ID`) over stdio, with the real
    client spawning it the way desktop clients do."""
    import os
    from conftest import ROOT
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = dict(os.environ, TOOLSHED_BASE_URL_ALL=f"http://{upstream}/{{slug}}", RUST_LOG="warn")
    common = ["--data-dir", str(tmp_path), "--toolkits", str(ROOT / "fixtures/toolkits")]

    async def run(args, steps):
        params = StdioServerParameters(command=_binary(), args=["mcp", *args, *common], env=env)
        async with Client(stdio_client(params), mode="legacy") as c:
            return [await step(c) for step in steps]

    async def define(c):
        return await c.call_tool("COMPOSIO_REMOTE_WORKBENCH", {"code_to_execute": "kept = 'yes'\nkept"})

    async def app_tool(c):
        return await c.call_tool(
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            {"tools": [{"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}],
             "sync_response_to_workbench": False})

    defined, ran = asyncio.run(run(["--user", "desk"], [define, app_tool]))
    assert defined.structured_content["results"] == "'yes'"
    assert not ran.is_error and ran.structured_content["success_count"] == 1
    sessions = [p.name for p in (tmp_path / "sessions").iterdir()]
    assert len(sessions) == 1

    # `--user` again serves the same (newest) session: a new process, so a
    # new interpreter (state_reset), but the session and its files persist.
    async def reset(c):
        return await c.call_tool("COMPOSIO_REMOTE_WORKBENCH", {"code_to_execute": "'kept' in globals()"})

    (again,) = asyncio.run(run(["--user", "desk"], [reset]))
    assert again.structured_content["state_reset"] is True
    assert [p.name for p in (tmp_path / "sessions").iterdir()] == sessions

    # The same session again, by id.
    async def files(c):
        return await c.call_tool(
            "COMPOSIO_REMOTE_WORKBENCH",
            {"code_to_execute": "open('/mnt/files/note.txt', 'w').write('x')\n'kept' in globals()"})

    (result,) = asyncio.run(run(["--session", sessions[0]], [files]))
    assert result.structured_content["results"] == "False"
    assert result.structured_content["state_reset"] is True
    assert (tmp_path / "sessions" / sessions[0] / "files" / "note.txt").read_text() == "x"


def test_stdio_mode_refuses_a_data_directory_a_server_is_using(server):
    import subprocess

    out = subprocess.run(
        [_binary(), "mcp", "--user", "u", "--data-dir", str(server.data_dir)],
        input="", capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "in use by another toolshed process" in out.stderr
    assert "`toolshed serve`" in out.stderr


@pytest.mark.parametrize("mode,version", MODES[:1] + MODES[2:])
def test_a_tool_needing_approval_follows_the_no_elicitation_fallback(server, mode, version):
    """toolshed does not ask over MCP yet: a call needing approval fails
    with the reason under the default fallback (deny), and runs under
    `no_elicitation_support_fallback: allow`."""
    strict = new_session(server, toolkits=["hackernews"],
                         tools={"hackernews": {"require_approval": ["HACKERNEWS_GET_ITEM"]}})
    lenient = new_session(server, toolkits=["hackernews"],
                          tools={"hackernews": {"require_approval": ["HACKERNEWS_GET_ITEM"]}},
                          experimental={"no_elicitation_support_fallback": "allow"})
    assert lenient["experimental"]["no_elicitation_support_fallback"] == "allow"

    async def item(c):
        return await c.call_tool("COMPOSIO_MULTI_EXECUTE_TOOL", {
            "tools": [{"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}],
            "sync_response_to_workbench": False})

    _, (refused,) = asyncio.run(call(strict["mcp"]["url"], mode, [item]))
    response = refused.structured_content["results"][0]["response"]
    assert response["successful"] is False and "approval" in response["error"]
    _, (ran,) = asyncio.run(call(lenient["mcp"]["url"], mode, [item]))
    assert ran.structured_content["results"][0]["response"]["successful"] is True, ran.content


def test_a_modern_client_is_asked_through_input_required_and_its_answer_decides(server):
    """On 2026-07-28 a client that can elicit gets the approval as an
    InputRequiredResult (SEP-2322): the `mcp` client asks its elicitation
    callback and retries; deny fails the call, approve runs it."""
    from mcp import types
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    session = new_session(server, toolkits=["hackernews"],
                          tools={"hackernews": {"require_approval": ["HACKERNEWS_GET_ITEM"]}})
    asked = []

    def answering(decision):
        async def elicit(context, params):
            asked.append(params.message)
            return types.ElicitResult(action="accept", content={"decision": decision})
        return elicit

    async def call_with(decision):
        http = create_mcp_http_client(headers={"x-api-key": KEY})
        client = Client(streamable_http_client(session["mcp"]["url"], http_client=http), mode=MODERN,
                        elicitation_callback=answering(decision))
        async with http, client as c:
            return await c.call_tool("COMPOSIO_MULTI_EXECUTE_TOOL", {
                "tools": [{"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}],
                "sync_response_to_workbench": False})

    denied = asyncio.run(call_with("deny"))
    response = denied.structured_content["results"][0]["response"]
    assert response["successful"] is False and "did not approve" in response["error"], denied
    ran = asyncio.run(call_with("approve"))
    assert ran.structured_content["results"][0]["response"]["successful"] is True, ran.content
    assert len(asked) == 2 and "HACKERNEWS_GET_ITEM" in asked[0]
