"""The real `composio` SDK (0.30.0) against a real toolshed server."""

import json
import urllib.error
from types import SimpleNamespace

import pytest
from composio import SESSION_PRESET_DIRECT_TOOLS

from conftest import KEY


def connect(server, user, toolkit="github"):
    return server.request("POST", "/api/v3.1/connected_accounts", {
        "user_id": user, "toolkit": toolkit, "auth_scheme": "BEARER_TOKEN",
        "credentials": {"token": "sdk-token"},
    })["id"]


def workbench(session, code):
    result = session.execute("COMPOSIO_REMOTE_WORKBENCH", arguments={"code_to_execute": code})
    return result


def test_create_use_and_mcp(composio, server):
    session = composio.create(user_id="alice", toolkits=["github", "hackernews"])
    assert session.session_id.startswith("trs_")
    assert session.config_version == 1
    again = composio.use(session.session_id)
    assert again.session_id == session.session_id

    with_mcp = composio.create(user_id="alice", toolkits=["hackernews"], mcp=True)
    assert with_mcp.mcp.url.startswith(server.base_url)
    assert with_mcp.mcp.headers.get("x-api-key") == KEY


def test_meta_tools_are_listed_and_search_works(composio):
    session = composio.create(user_id="bob", toolkits=["github", "hackernews"])
    tools = session.tools()
    names = {t["function"]["name"] for t in tools}
    assert {"COMPOSIO_SEARCH_TOOLS", "COMPOSIO_MULTI_EXECUTE_TOOL", "COMPOSIO_REMOTE_WORKBENCH"} <= names

    found = session.search(query="get the top stories on hacker news")
    data = found.model_dump() if hasattr(found, "model_dump") else dict(found)
    assert "HACKERNEWS_GET_TOP_STORIES" in json.dumps(data)


def test_direct_tools_preset_lists_app_tools(composio):
    session = composio.create(user_id="bob", toolkits=["hackernews"], session_preset=SESSION_PRESET_DIRECT_TOOLS)
    names = {t["function"]["name"] for t in session.tools()}
    assert names and all(n.startswith("HACKERNEWS_") for n in names)
    result = session.execute("HACKERNEWS_GET_ITEM", arguments={"id": 8863})
    assert result.result_type == "completed", result
    assert result.data["id"] == 8863


def test_execute_and_execute_meta_of_every_meta_tool(composio, server):
    session = composio.create(user_id="carol", toolkits=["github", "hackernews"])
    connect(server, "carol")

    searched = session.execute("COMPOSIO_SEARCH_TOOLS", arguments={"queries": [{"use_case": "list repository issues"}]})
    assert searched.result_type == "completed"
    assert searched.data["results"][0]["primary_tool_slugs"]

    schemas = session.execute_meta("COMPOSIO_GET_TOOL_SCHEMAS", arguments={"tool_slugs": ["GITHUB_GET_ISSUE", "GITHUB_NOPE"]})
    assert "GITHUB_GET_ISSUE" in schemas.data["tool_schemas"]
    assert schemas.data["not_found"] == ["GITHUB_NOPE"]

    multi = session.execute("COMPOSIO_MULTI_EXECUTE_TOOL", arguments={
        "sync_response_to_workbench": False,
        "tools": [{"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "issue_number": n}}
                  for n in (5, 6, 7)],
    })
    assert [r["response"]["data"]["number"] for r in multi.data["results"]] == [5, 6, 7]

    cell = workbench(session, "x = 20\nx * 2")
    assert cell.result_type == "completed" and cell.data["results"] == "40"
    assert workbench(session, "x + 1").data["results"] == "21"

    bash = session.execute_meta("COMPOSIO_REMOTE_BASH_TOOL", arguments={"command": "echo hello && pwd"})
    assert bash.data["stdout"] == "hello\n/home/user\n", bash


def test_provider_handle_tool_calls(composio):
    session = composio.create(user_id="dave", toolkits=["hackernews"])
    session.tools()  # the provider wraps the session's tools
    call = SimpleNamespace(
        id="call_1", type="function",
        function=SimpleNamespace(name="COMPOSIO_REMOTE_WORKBENCH", arguments=json.dumps({"code_to_execute": "6 * 7"})),
    )
    response = SimpleNamespace(choices=[SimpleNamespace(message=SimpleNamespace(tool_calls=[call]))])
    outputs = composio.provider.handle_tool_calls(session=session, response=response)
    assert len(outputs) == 1
    out = outputs[0]
    out = out if isinstance(out, dict) else out.__dict__
    assert out["successful"] is True
    assert out["data"]["results"] == "42"


def test_update_with_config_version(composio):
    session = composio.create(user_id="erin", toolkits=["github"])
    config = session.update(toolkits=["hackernews"], expected_config_version=session.config_version)
    assert session.config_version == 2
    with pytest.raises(Exception):
        session.update(toolkits=["github"], expected_config_version=1)


def test_use_after_a_restart_keeps_workbench_files_and_the_interpreter(composio, server):
    """A graceful restart (SIGTERM) hibernates the interpreter: files and
    variables are both there afterwards."""
    session = composio.create(user_id="frank")
    workbench(session, "open('/mnt/files/kept.txt', 'w').write('still here')\ny = 1")
    server.restart()
    from composio import Composio

    fresh = Composio(api_key=KEY, base_url=server.base_url, allow_tracking=False)
    again = fresh.use(session.session_id)
    cell = workbench(again, "(open('/mnt/files/kept.txt').read(), y + 1)")
    assert cell.data["results"] == "('still here', 2)"
    assert cell.data["state_reset"] is False


def test_delete(composio, server):
    session = composio.create(user_id="gina")
    composio.sessions.delete(session.session_id)
    with pytest.raises(urllib.error.HTTPError) as err:
        server.request("GET", f"/api/v3.1/tool_router/session/{session.session_id}")
    assert err.value.code == 404


def test_bulk_job_writes_a_csv(composio, server):
    session = composio.create(user_id="hank", toolkits=["github"])
    connect(server, "hank")
    code = """
calls = [{"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "issue_number": n}}
         for n in range(1, 1001)]
results = run_composio_tools(calls, max_concurrency=50)
rows = [r["data"] for r, err in results if not err]
import csv
with open("/mnt/files/issues.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["number", "state"])
    for row in rows:
        writer.writerow([row["number"], row["state"]])
(len(rows), sum(1 for r in rows if r["state"] == "open"))
"""
    cell = workbench(session, code)
    assert cell.result_type == "completed", cell
    assert cell.data["results"] == "(1000, 500)"
    csv_path = server.data_dir / "sessions" / session.session_id / "files" / "issues.csv"
    assert len(csv_path.read_text().splitlines()) == 1001


def test_files_upload_list_download_delete(composio, server):
    import urllib.request

    session = composio.create(user_id="ivan")
    base = f"/api/v3.1/tool_router/session/{session.session_id}/mounts/files"
    # The SDK refuses presigned URLs on loopback (SSRF guard), so the bytes
    # go through the endpoints it would call.
    grant = server.request("POST", f"{base}/upload_url", {"mount_relative_path": "reports/q1.csv", "mimetype": "text/csv"})
    put = urllib.request.Request(grant["upload_url"], data=b"month,total\njan,3\n", method="PUT")
    with urllib.request.urlopen(put) as resp:
        assert resp.status == 200

    listed = session.experimental.files.list()
    paths = [item.mount_relative_path for item in listed.items]
    assert paths == ["reports/q1.csv"]
    assert listed.items[0].sandbox_mount_prefix == "/mnt/files"
    assert [i.mount_relative_path for i in session.experimental.files.list(path="/reports/").items] == ["reports/q1.csv"]

    cell = workbench(session, "open('/mnt/files/reports/q1.csv').read().splitlines()[1]")
    assert cell.data["results"] == "'jan,3'"

    grant = server.request("POST", f"{base}/download_url", {"mount_relative_path": "reports/q1.csv"})
    with urllib.request.urlopen(grant["download_url"]) as resp:
        assert resp.read() == b"month,total\njan,3\n"

    session.experimental.files.delete("reports/q1.csv")
    assert session.experimental.files.list().items == []


def test_manage_connections_through_the_sdk(composio, server):
    session = composio.create(user_id="jane", toolkits=["github", "hackernews"])
    before = session.execute("COMPOSIO_MANAGE_CONNECTIONS", arguments={"toolkits": ["github", "hackernews"]})
    assert before.data["results"]["github"]["status"] == "initiated"
    assert "/link/lt_" in before.data["results"]["github"]["redirect_url"]
    assert before.data["results"]["hackernews"]["status"] == "active"
    connect(server, "jane")
    after = session.execute_meta("COMPOSIO_MANAGE_CONNECTIONS", arguments={"toolkits": ["github"]})
    assert after.data["results"]["github"]["status"] == "active"
    toolkits = session.toolkits()
    state = {t.slug: (t.is_no_auth, t.connection.is_active if t.connection else None) for t in toolkits.items}
    assert state == {"github": (False, True), "hackernews": (True, None)}


def test_auth_configs_and_initiate_through_the_sdk(composio, server):
    from composio.core.models.connected_accounts import auth_scheme

    ours = composio.auth_configs.create("linear", {
        "type": "use_custom_auth", "auth_scheme": "API_KEY", "name": "ours"})
    assert ours.id.startswith("ac_") and ours.auth_scheme == "API_KEY"
    oauth = composio.auth_configs.create("gmail", {
        "type": "use_custom_auth", "auth_scheme": "OAUTH2",
        "credentials": {"client_id": "cid", "client_secret": "sdk-secret-canary", "scopes": ["mail"]}})
    listed = composio.auth_configs.list(toolkit_slug="linear")
    assert [item.id for item in listed.items] == [ours.id]
    got = composio.auth_configs.get(oauth.id)
    assert got.toolkit.slug == "gmail" and got.type == "custom"
    assert "sdk-secret-canary" not in json.dumps(got.model_dump(), default=str)
    composio.auth_configs.update(oauth.id, options={"type": "custom", "credentials": {"client_id": "cid2"}})
    assert composio.auth_configs.get(oauth.id).credentials["client_id"] == "cid2"

    request = composio.connected_accounts.initiate(
        "kim", ours.id, config=auth_scheme.api_key({"api_key": "kim-key"}), alias="work")
    assert request.status == "ACTIVE"
    account = composio.connected_accounts.get(request.id)
    assert account.status == "ACTIVE" and account.auth_config.id == ours.id
    # A second one is refused by the SDK itself (it lists ACTIVE accounts first).
    with pytest.raises(Exception, match="(?i)multiple"):
        composio.connected_accounts.initiate("kim", ours.id, config=auth_scheme.api_key({"api_key": "k2"}))
    mine = composio.connected_accounts.list(user_ids=["kim"], auth_config_ids=[ours.id], statuses=["ACTIVE"])
    assert [item.id for item in mine.items] == [request.id]

    # The account works: a session runs a linear tool with it.
    session = composio.create(user_id="kim", toolkits=["linear"])
    result = session.execute("LINEAR_LIST_TEAMS", arguments={})
    assert result.error in (None, ""), result

    composio.auth_configs.disable(ours.id)
    assert composio.auth_configs.get(ours.id).status == "DISABLED"
    composio.auth_configs.enable(ours.id)
    composio.auth_configs.delete(ours.id)
    with pytest.raises(Exception):
        composio.connected_accounts.get(request.id)


def test_session_authorize_and_wait_for_connection(composio, server):
    """session.authorize gives a link; the hosted form (submitted over
    HTTP, as a browser would) completes it; wait_for_connection sees it."""
    import urllib.parse
    import urllib.request

    session = composio.create(user_id="pia", toolkits=["slack"])
    request = session.authorize("slack", callback_url="https://app.example/done")
    assert request.id.startswith("ca_") and request.redirect_url
    page = urllib.request.urlopen(request.redirect_url).read().decode()
    assert 'for="token"' in page

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    form = urllib.parse.urlencode({"token": "pia-slack-token"}).encode()
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(urllib.request.Request(request.redirect_url, data=form, method="POST"))
    assert answer.value.code == 303
    location = answer.value.headers["Location"]
    assert location.startswith("https://app.example/done?status=success&connected_account_id=ca_")

    account = request.wait_for_connection(timeout=10)
    assert account.status == "ACTIVE"
    toolkits = {t.slug: t for t in session.toolkits().items}
    assert toolkits["slack"].connection.is_active


def test_proxy_execute_through_the_sdk(composio, server):
    connect(server, "quin")
    session = composio.create(user_id="quin", toolkits=["github"])
    out = session.proxy_execute(
        toolkit="github", endpoint="/user", method="GET",
        parameters=[{"name": "per_page", "in": "query", "value": 5}])
    status = out["status"] if isinstance(out, dict) else out.status
    assert status == 200
    with pytest.raises(Exception, match="outside"):
        session.proxy_execute(toolkit="github", endpoint="/../gmail/x", method="GET")


def test_connected_accounts_link_and_toolkits_authorize(composio, server):
    """Both SDK ways to start a hosted connection give a link toolshed
    serves; completing it makes the account ACTIVE."""
    import urllib.parse
    import urllib.request

    config = composio.auth_configs.create("notion", {"type": "use_composio_managed_auth"})
    request = composio.connected_accounts.link("ria", config.id, callback_url="https://app.example/cb")
    assert request.id.startswith("ca_") and "/link/lt_" in request.redirect_url
    assert composio.connected_accounts.get(request.id).status == "INITIATED"
    form = urllib.parse.urlencode({"token": "ria-notion"}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(
            urllib.request.Request(request.redirect_url, data=form, method="POST"))
    assert answer.value.code == 303
    assert request.wait_for_connection(timeout=10).status == "ACTIVE"

    # toolkits.authorize finds (or makes) the toolkit's auth config and
    # initiates without credentials: a link, INITIATED.
    started = composio.toolkits.authorize(user_id="sol", toolkit="slack")
    assert started.status == "INITIATED" and "/link/lt_" in started.redirect_url


def test_connected_accounts_refresh_and_revoke_through_the_sdk(composio, server):
    """refresh gives an existing account a new link (the SDK's reconnect);
    revoke is refused for an API-key account, which has nothing to revoke
    at a provider."""
    import urllib.parse
    import urllib.request
    import warnings

    from composio import exceptions

    account = connect(server, "tia")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refreshed = composio.connected_accounts.refresh(account, body_redirect_url="https://app.example/again")
    assert refreshed.id == account and refreshed.status == "INITIATED"
    assert "/link/lt_" in refreshed.redirect_url
    assert composio.connected_accounts.get(account).status == "INITIATED"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    form = urllib.parse.urlencode({"token": "tia-new-token"}).encode()
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(
            urllib.request.Request(refreshed.redirect_url, data=form, method="POST"))
    assert answer.value.headers["Location"].startswith("https://app.example/again?status=success")
    assert composio.connected_accounts.get(account).status == "ACTIVE"

    with pytest.raises(exceptions.ComposioConnectedAccountRevocationNotSupportedError):
        composio.connected_accounts.revoke(account)


def test_project_level_tools_and_toolkits(composio, server):
    """composio.tools.* and composio.toolkits.* outside any session."""
    schemas = composio.tools.get_raw_composio_tools(tools=["HACKERNEWS_GET_ITEM", "GITHUB_GET_REPOSITORY"])
    assert sorted(t.slug for t in schemas) == ["GITHUB_GET_REPOSITORY", "HACKERNEWS_GET_ITEM"]
    listed = composio.tools.get_raw_composio_tools(toolkits=["hackernews"])
    assert listed and all(t.toolkit.slug == "hackernews" for t in listed)
    # GitHub is imported whole (1,187 tools): the first page holds its main
    # tools before the rest.
    github = [t.slug for t in composio.tools.get_raw_composio_tools(toolkits=["github"])]
    assert "GITHUB_GET_REPOSITORY" in github and "GITHUB_CREATE_ISSUE" in github, github[:10]

    out = composio.tools.execute("HACKERNEWS_GET_ITEM", {"id": 1}, user_id="rita",
                                 dangerously_skip_version_check=True)
    assert out["successful"] is True and out["error"] is None, out
    account = connect(server, "rita")
    out = composio.tools.execute("GITHUB_GET_REPOSITORY", {"owner": "acme", "repo": "widgets"},
                                 connected_account_id=account, dangerously_skip_version_check=True)
    assert out["successful"] is True, out
    failed = composio.tools.execute("GITHUB_GET_REPOSITORY", {"owner": "acme", "repo": "widgets"},
                                    user_id="nobody", dangerously_skip_version_check=True)
    assert failed["successful"] is False and failed["error"]

    proxied = composio.tools.proxy(endpoint="/user", method="GET", connected_account_id=account)
    assert (proxied["status"] if isinstance(proxied, dict) else proxied.status) == 200

    toolkit = composio.toolkits.get("github")
    assert toolkit.slug == "github" and toolkit.meta.tools_count > 0
    fields = composio.toolkits.get_connected_account_initiation_fields("github", "BEARER_TOKEN")
    assert [f.name for f in fields] == ["token"]
    assert any(t.slug == "slack" for t in composio.toolkits.get())
    assert any(c.id == "developer-tools" for c in composio.toolkits.list_categories())


def test_submit_feedback_through_session_update(composio, server):
    session = composio.create(user_id="fern")
    assert "COMPOSIO_SUBMIT_FEEDBACK" not in json.dumps(session.tools(), default=str)
    session.update(experimental={"submit_feedback": {"enable": True}})
    out = session.execute("COMPOSIO_SUBMIT_FEEDBACK", arguments={"feedback": "empty list from GITHUB_LIST_BRANCHES", "kind": "empty_result"})
    data = out["data"] if isinstance(out, dict) else out.data
    assert data["feedback_id"].startswith("fb_")
    assert "COMPOSIO_SUBMIT_FEEDBACK" in json.dumps(session.tools(), default=str)


def test_file_arguments_upload_through_the_sdk(server, tmp_path, monkeypatch):
    """`dangerously_allow_auto_upload_download_files`: the SDK turns a local
    path into a staged file (files/upload/request + presigned PUT) and the
    tool sends its bytes upstream."""
    from composio import Composio
    from composio.utils import url_safety

    # The SDK refuses presigned URLs on private addresses; this test's
    # server is on loopback (a deployment's --public-url is public).
    blocked = url_safety.is_blocked_ip
    monkeypatch.setattr(url_safety, "is_blocked_ip", lambda a: a != "127.0.0.1" and blocked(a))
    connect(server, "uma", toolkit="slack")
    report = tmp_path / "report.csv"
    report.write_text("region,total\nnorth,12\nsouth,30\n")
    composio = Composio(api_key=KEY, base_url=server.base_url, allow_tracking=False,
                        dangerously_allow_auto_upload_download_files=True,
                        file_upload_dirs=[str(tmp_path)])
    [tool] = composio.tools.get_raw_composio_tools(tools=["SLACK_UPLOAD_FILE"])
    assert tool.input_parameters["properties"]["file"]["file_uploadable"] is True
    out = composio.tools.execute("SLACK_UPLOAD_FILE", {"file": str(report), "channels": "C0003"},
                                 user_id="uma", dangerously_skip_version_check=True)
    assert out["successful"] is True, out
    sent = out["data"]["file"]
    assert sent["name"] == "report.csv" and sent["preview"] == report.read_text(), sent
    assert sent["channels"] == ["C0003"]
    staged = server.request("GET", "/api/v3.1/files/list?toolkit_slug=slack")
    assert [i["filename"] for i in staged["items"]] == ["report.csv"]


def test_tool_memory_survives_a_restart_and_comes_back_with_searches(composio, server):
    from composio import Composio

    session = composio.create(user_id="milo", toolkits=["github", "hackernews"])
    multi = session.execute("COMPOSIO_MULTI_EXECUTE_TOOL", arguments={
        "sync_response_to_workbench": False,
        "tools": [{"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}],
        "memory": {"github": ["The user's main repo is acme/widgets"]},
    })
    assert multi.data["memory"] == {"saved": 1, "already_known": 0}
    server.restart()
    fresh = Composio(api_key=KEY, base_url=server.base_url, allow_tracking=False)
    again = fresh.use(session.session_id)
    found = again.search(query="list the open issues of the repository")
    [result] = found.results
    assert result.memory == {"github": ["The user's main repo is acme/widgets"]}
    assert "GITHUB_LIST_REPOSITORY_ISSUES" in result.primary_tool_slugs


def test_approval_required_denied_then_approved_across_a_restart(composio, server):
    """require_approval: session.execute raises ToolInputRequiredError;
    repeating the call with input_responses runs it (approved) or fails
    it (denied); the question and the approval outlive a restart."""
    from composio import Composio
    from composio.exceptions import ToolInputRequiredError

    connect(server, "pia")
    session = composio.create(user_id="pia", toolkits=["github"],
                              tools={"github": {"require_approval": ["GITHUB_CREATE_ISSUE"]}})
    args = {"owner": "acme", "repo": "widgets", "title": "Needs a yes"}
    with pytest.raises(ToolInputRequiredError) as asked:
        session.execute("GITHUB_CREATE_ISSUE", arguments=args)
    [(request_id, request)] = asked.value.input_requests.items()
    assert request["type"] == "elicitation" and "GITHUB_CREATE_ISSUE" in request["message"]

    server.restart()
    fresh = Composio(api_key=KEY, base_url=server.base_url, allow_tracking=False)
    again = fresh.use(session.session_id)
    denied = again.execute("GITHUB_CREATE_ISSUE", arguments=args,
                           input_responses={request_id: {"action": "accept", "content": {"decision": "deny"}}},
                           request_state=asked.value.request_state)
    assert denied.result_type == "failed" and "did not approve" in denied.error

    with pytest.raises(ToolInputRequiredError) as asked:
        again.execute("GITHUB_CREATE_ISSUE", arguments=args)
    [request_id] = asked.value.input_requests
    done = again.execute("GITHUB_CREATE_ISSUE", arguments=args,
                         input_responses={request_id: {"action": "accept", "content": {"decision": "approve"}}},
                         request_state=asked.value.request_state)
    assert done.result_type == "completed", done
    assert done.data["title"] == "Needs a yes"


def test_custom_tools_and_toolkits_run_in_process_and_extend_github(composio, server):
    """`composio.experimental.tool` / `Toolkit`: the server names and echoes
    them, search finds them, the SDK runs them in this process, and a tool
    extending github reaches the upstream through the session's account."""
    from pydantic import BaseModel

    class GrepInput(BaseModel):
        pattern: str

    class RepoInput(BaseModel):
        owner: str
        repo: str

    dev = composio.experimental.Toolkit(slug="DEV_TOOLS", name="Dev tools",
                                        description="Local developer utilities.")

    @dev.tool()
    def grep(input: GrepInput, ctx):
        """Search the app's local codebase for a regular expression and return matching lines."""
        return {"matches": [f"src/main.rs: {input.pattern}"]}

    @composio.experimental.tool(extends_toolkit="github")
    def repo_summary(input: RepoInput, ctx):
        """Summarize a GitHub repository: its full name and default branch."""
        out = ctx.execute("GITHUB_GET_REPOSITORY", {"owner": input.owner, "repo": input.repo})
        branches = ctx.proxy_execute(toolkit="github", endpoint=f"/repos/{input.owner}/{input.repo}/branches",
                                     method="GET")
        return {"full_name": out.data["full_name"], "default_branch": out.data["default_branch"],
                "branch_status": branches["status"], "branches": [b["name"] for b in branches["data"]]}

    connect(server, "cora")
    session = composio.create(user_id="cora", toolkits=["github"],
                              experimental={"custom_tools": [repo_summary], "custom_toolkits": [dev]})
    found = session.search(query="grep the codebase for a regular expression")
    assert found.results[0].primary_tool_slugs[0] == "LOCAL_DEV_TOOLS_GREP", found.results[0]
    ran = session.execute("LOCAL_DEV_TOOLS_GREP", arguments={"pattern": "fn main"})
    assert ran.result_type == "completed" and ran.data == {"matches": ["src/main.rs: fn main"]}
    summary = session.execute("REPO_SUMMARY", arguments={"owner": "acme", "repo": "widgets"})
    assert summary.result_type == "completed", summary
    assert summary.data["full_name"] == "acme/widgets"
    assert summary.data["branch_status"] == 200 and "main" in summary.data["branches"], summary.data
