//! The session API end to end: the real `toolshed serve` binary on a free
//! port, talking over real HTTP to the local upstream service in
//! `fixtures/upstream` (started here too).

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

#[tokio::test]
async fn sessions_lifecycle_and_errors() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);

    // Auth.
    let (status, body) = server
        .call(
            "POST",
            "/api/v3.1/tool_router/session",
            Some(json!({"user_id": "a"})),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("API key")
    );
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let (status, _) = server
        .call(
            "POST",
            "/api/v3.1/tool_router/session",
            Some(json!({"user_id": "a"})),
            Some("wrong"),
        )
        .await;
    assert_eq!(status, 401);

    // Bad input names the field.
    for (body, field) in [
        (json!({}), "user_id"),
        (
            json!({"user_id": "a", "toolkits": {"enabled": ["github"]}}),
            "toolkits: `enabled`",
        ),
        (
            json!({"user_id": "a", "workbench": {"auto_offload_threshold": "big"}}),
            "workbench.auto_offload_threshold",
        ),
    ] {
        let (status, err) = server
            .call(
                "POST",
                "/api/v3.1/tool_router/session",
                Some(body),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400);
        assert!(
            err["error"]["message"].as_str().unwrap().contains(field),
            "{err}"
        );
    }
    let (status, _) = server
        .client
        .post(format!("{}/api/v3.1/tool_router/session", server.base))
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 400);

    // Create, retrieve, patch with config_version, history, list, delete.
    let created = server
        .ok(
            "POST",
            "/api/v3.1/tool_router/session",
            Some(json!({"user_id": "alice", "toolkits": {"enable": ["github", "hackernews"]}})),
        )
        .await;
    let id = created["session_id"].as_str().unwrap();
    assert_eq!(created["config_version"], 1);
    assert_eq!(
        created["config"]["toolkits"],
        json!({"enabled": ["github", "hackernews"]})
    );
    assert_eq!(created["mcp"]["type"], "http");
    assert!(
        created["mcp"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&server.base)
    );
    let got = server
        .ok("GET", &format!("/api/v3.1/tool_router/session/{id}"), None)
        .await;
    assert_eq!(got["session_id"], created["session_id"]);

    let patched = server
        .ok(
            "PATCH",
            &format!("/api/v3.1/tool_router/session/{id}"),
            Some(json!({"expected_config_version": 1, "toolkits": {"enable": ["hackernews"]}})),
        )
        .await;
    assert_eq!(patched["config_version"], 2);
    let (status, conflict) = server
        .call(
            "PATCH",
            &format!("/api/v3.1/tool_router/session/{id}"),
            Some(json!({"expected_config_version": 1, "search": {"enable": false}})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 409, "{conflict}");
    let history = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{id}/config_history"),
            None,
        )
        .await;
    let versions: Vec<i64> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![2, 1]);
    assert_eq!(history["items"][0]["is_current"], true);
    assert_eq!(
        (
            history["total_items"].as_i64(),
            history["total_pages"].as_i64(),
            history["current_page"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert!(
        history["items"][0]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let older = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{id}/config_history?limit=1&cursor=2"),
            None,
        )
        .await;
    assert_eq!(older["items"][0]["version"], 1);
    assert_eq!(
        (
            older["current_page"].as_i64(),
            older["total_pages"].as_i64()
        ),
        (Some(2), Some(2))
    );
    // No nulls where the SDKs expect an object or nothing.
    assert!(history["items"][0]["config"].get("tags").is_none());
    assert!(history["items"][0]["config"].get("multi_account").is_none());
    let listed = server
        .ok("GET", "/api/v3.1/tool_router/session?user_id=alice", None)
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let deleted = server
        .ok(
            "DELETE",
            &format!("/api/v3.1/tool_router/session/{id}"),
            None,
        )
        .await;
    assert_eq!(deleted, json!({"session_id": id, "deleted": true}));
    let (status, _) = server
        .call(
            "GET",
            &format!("/api/v3.1/tool_router/session/{id}"),
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .call(
            "DELETE",
            &format!("/api/v3.1/tool_router/session/{id}"),
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = server.call("GET", "/api/v3.1/nope", None, Some(KEY)).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn tools_filters_and_the_direct_tools_preset() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "u"})).await;
    let tools = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{id}/tools?limit=500"),
            None,
        )
        .await;
    let slugs: Vec<&str> = tools["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert!(
        slugs.contains(&"COMPOSIO_SEARCH_TOOLS") && slugs.contains(&"COMPOSIO_REMOTE_WORKBENCH")
    );
    assert!(!slugs.iter().any(|s| s.starts_with("GITHUB_")));

    // The SDK's direct-tools preset: app tools themselves, no meta tools.
    let direct = server
        .session(json!({
            "user_id": "u", "toolkits": {"enable": ["hackernews"]},
            "manage_connections": {"enable": false}, "workbench": {"enable": false},
            "preload": {"tools": "all"}, "search": {"enable": false}, "execute": {"enable_multi_execute": false}
        }))
        .await;
    let tools = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{direct}/tools"),
            None,
        )
        .await;
    let items = tools["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert!(
        items
            .iter()
            .all(|t| t["slug"].as_str().unwrap().starts_with("HACKERNEWS_"))
    );
    assert!(
        items
            .iter()
            .all(|t| t["input_parameters"]["type"] == "object"
                && t["toolkit"]["slug"] == "hackernews")
    );

    // A disabled tool: absent from search and not executable.
    let limited = server
        .session(json!({"user_id": "u", "toolkits": {"enable": ["hackernews"]}, "tools": {"hackernews": {"disable": ["HACKERNEWS_GET_ITEM"]}}}))
        .await;
    let found = server
        .execute(
            &limited,
            "COMPOSIO_SEARCH_TOOLS",
            json!({"queries": [{"use_case": "get a hacker news item by id"}]}),
        )
        .await;
    let text = found["data"].to_string();
    assert!(!text.contains("\"HACKERNEWS_GET_ITEM\""), "{text}");
    assert!(!text.contains("GITHUB_"), "{text}");
    let run = server
        .execute(&limited, "HACKERNEWS_GET_ITEM", json!({"id": 1}))
        .await;
    assert_eq!(run["result_type"], "failed");
    assert!(run["error"].as_str().unwrap().contains("disabled"), "{run}");

    // Search is deterministic.
    let again = server
        .execute(
            &limited,
            "COMPOSIO_SEARCH_TOOLS",
            json!({"queries": [{"use_case": "get a hacker news item by id"}]}),
        )
        .await;
    assert_eq!(found["data"]["results"], again["data"]["results"]);

    let schema = server
        .ok("GET", "/api/v3.1/tools/GITHUB_GET_ISSUE", None)
        .await;
    assert_eq!(schema["slug"], "GITHUB_GET_ISSUE");
    let (status, _) = server
        .call("GET", "/api/v3.1/tools/NOPE_NOTHING", None, Some(KEY))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn app_tools_run_with_the_users_credentials() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server
        .session(json!({"user_id": "carol", "toolkits": {"enable": ["github", "hackernews"]}}))
        .await;

    // No account yet: a clear failure, not a crash.
    let run = server
        .execute(
            &id,
            "GITHUB_GET_ISSUE",
            json!({"owner": "acme", "repo": "widgets", "issue_number": 7}),
        )
        .await;
    assert_eq!(run["result_type"], "failed");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("no connected github account"),
        "{run}"
    );

    server
        .connect(
            "carol",
            "github",
            "BEARER_TOKEN",
            json!({"token": "gh-secret-token"}),
        )
        .await;
    let run = server
        .execute(
            &id,
            "GITHUB_GET_ISSUE",
            json!({"owner": "acme", "repo": "widgets", "issue_number": 7}),
        )
        .await;
    assert_eq!(run["result_type"], "completed", "{run}");
    assert_eq!(run["data"]["number"], 7);
    assert!(run["log_id"].as_str().unwrap().starts_with("log_"));
    let log = server
        .ok(
            "GET",
            &format!(
                "/api/v3.1/logs/tool_execution/{}",
                run["log_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(log["tool_slug"], "GITHUB_GET_ISSUE");

    // Bad arguments are caught before any request, naming the field.
    let run = server
        .execute(
            &id,
            "GITHUB_GET_ISSUE",
            json!({"owner": "acme", "repo": "widgets", "issue_number": "seven"}),
        )
        .await;
    assert_eq!(run["result_type"], "failed");
    assert!(
        run["error"].as_str().unwrap().contains("issue_number"),
        "{run}"
    );

    // Multi-execute: concurrent, in input order, with per-tool errors.
    let multi = server
        .execute(
            &id,
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"sync_response_to_workbench": false, "tools": [
                {"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "issue_number": 1}},
                {"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 8863}},
                {"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "issue_number": 999999}},
                {"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "issue_number": 3}}
            ]}),
        )
        .await;
    let data = &multi["data"];
    assert_eq!(data["total_count"], 4);
    assert_eq!(data["success_count"], 3);
    assert_eq!(data["error_count"], 1);
    let results = data["results"].as_array().unwrap();
    assert_eq!(results[0]["response"]["data"]["number"], 1);
    assert_eq!(results[1]["tool_slug"], "HACKERNEWS_GET_ITEM");
    assert!(results[2]["error"].as_str().unwrap().contains("404"));
    assert_eq!(results[3]["response"]["data"]["number"], 3);
    let (status, _) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{id}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {"tools": [], "sync_response_to_workbench": false}})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400);

    // The upstream saw the credential; nothing the client gets back has it.
    let seen = reqwest::get(format!("http://{}/_control/requests?limit=50", up.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(seen.contains("Bearer gh-secret-token"));
    let account_view = server
        .ok("GET", "/api/v3.1/connected_accounts?user_ids=carol", None)
        .await;
    assert!(!account_view.to_string().contains("gh-secret-token"));
    assert!(!multi.to_string().contains("gh-secret-token"));
}

#[tokio::test]
async fn workbench_bulk_job_and_large_output_offload() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    // The Python fixture needs most of the time for 1,000 issues (about
    // 15 s of its CPU on a 2-core machine beside the other tests): a
    // generous deadline, since only the results are asserted.
    let server = start_server_with_args(dir.path(), &up, &[], &["--cell-timeout-ms", "120000"]);
    let id = server
        .session(json!({"user_id": "dave", "toolkits": {"enable": ["github"]}}))
        .await;
    server
        .connect(
            "dave",
            "github",
            "API_KEY",
            json!({"api_key": "gh-key-123"}),
        )
        .await;

    // A bulk job: 1,000 issues fetched from the upstream in one batch,
    // aggregated, written as CSV to the files mount.
    let cell = r#"
calls = [{"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "issue_number": n}} for n in range(1, 1001)]
results = run_composio_tools(calls, max_concurrency=50)
errors = [e for _, e in results if e]
issues = [r["data"] for r, e in results if not e]
import csv, collections
by_state = collections.Counter(i["state"] for i in issues)
with open("/mnt/files/issues.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["number", "state", "title"])
    for i in issues:
        w.writerow([i["number"], i["state"], i["title"]])
(len(issues), len(errors), dict(sorted(by_state.items())))
"#;
    let out = server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": cell}),
        )
        .await;
    assert_eq!(out["result_type"], "completed", "{out}");
    assert_eq!(
        out["data"]["results"],
        "(1000, 0, {'closed': 500, 'open': 500})"
    );
    let csv = std::fs::read_to_string(server.data.join(format!("sessions/{id}/files/issues.csv")))
        .unwrap();
    assert_eq!(csv.lines().count(), 1001);
    // Variables persist between calls; the key never entered the guest.
    let out = server
        .execute(&id, "COMPOSIO_REMOTE_WORKBENCH", json!({"code_to_execute": "import os\n(len(issues), 'gh-key-123' in repr(dict(os.environ)) + repr(globals()))"}))
        .await;
    assert_eq!(out["data"]["results"], "(1000, False)");

    // A ~20 MB response through MULTI_EXECUTE: offloaded whole, previewed.
    let multi = server
        .execute(
            &id,
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"sync_response_to_workbench": false, "tools": [
                {"tool_slug": "GITHUB_EXPORT_REPOSITORY_ISSUES", "arguments": {"owner": "acme", "repo": "widgets"}}
            ]}),
        )
        .await;
    let response = &multi["data"]["results"][0]["response"];
    assert!(
        response.get("data").is_none(),
        "the full data must not be inline"
    );
    let path = response["remote_file_info"]["file_path"].as_str().unwrap();
    assert!(path.starts_with("/mnt/files/.composio/output/"), "{path}");
    let preview = response["data_preview"].to_string();
    assert!(preview.contains("more items (of 5,000"), "{preview:.500}");
    assert!(preview.len() < 30_000);
    // The file is complete and in order, readable from the workbench.
    let check = format!(
        "import json\nd = json.load(open({path:?}))\n(len(d), [i['number'] for i in d[:3]], d[-1]['number'])"
    );
    let out = server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": check}),
        )
        .await;
    assert_eq!(out["data"]["results"], "(5000, [1, 2, 3], 5000)", "{out}");
}

#[tokio::test]
async fn sessions_and_files_survive_a_restart() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "erin"})).await;
    let out = server
        .execute(&id, "COMPOSIO_REMOTE_WORKBENCH", json!({"code_to_execute": "x = 5\nopen('/mnt/files/keep.txt', 'w').write('kept')\nopen('notes.txt', 'w').write('home')"}))
        .await;
    assert_eq!(out["data"]["state_reset"], false);
    server.stop();

    let server = start_server(dir.path(), &up, &[]);
    let got = server
        .ok("GET", &format!("/api/v3.1/tool_router/session/{id}"), None)
        .await;
    assert_eq!(got["session_id"], id.as_str());
    let out = server
        .execute(&id, "COMPOSIO_REMOTE_WORKBENCH", json!({"code_to_execute": "(open('/mnt/files/keep.txt').read(), open('notes.txt').read(), 'x' in globals())"}))
        .await;
    assert_eq!(out["data"]["results"], "('kept', 'home', False)");
    assert_eq!(
        out["data"]["state_reset"], true,
        "the first cell after a restart says its state was lost"
    );
    assert!(
        out["data"]["state_reset_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("stopped before this interpreter was saved"),
        "{out}"
    );
    let out = server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "1"}),
        )
        .await;
    assert_eq!(out["data"]["state_reset"], false);
}

#[tokio::test]
async fn another_projects_key_sees_nothing() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "frank"})).await;
    let out = Command::new(env!("CARGO_BIN_EXE_toolshed"))
        .args(["keys", "create", "--new-project", "other", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let other_key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let (status, _) = server
        .call(
            "GET",
            &format!("/api/v3.1/tool_router/session/{id}"),
            None,
            Some(&other_key),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{id}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "1"}})),
            Some(&other_key),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn files_mount_list_upload_download_delete() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "gail"})).await;
    let base = format!("/api/v3.1/tool_router/session/{id}/mounts/files");

    // Upload through a URL toolshed serves itself.
    let grant = server
        .ok(
            "POST",
            &format!("{base}/upload_url"),
            Some(json!({"mount_relative_path": "in/data.csv", "mimetype": "text/csv"})),
        )
        .await;
    let url = grant["upload_url"].as_str().unwrap();
    assert!(url.starts_with(&server.base));
    let put = server
        .client
        .put(url)
        .body("a,b\n1,2\n")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);

    // The sandbox sees it, and what the sandbox writes is listed.
    let out = server
        .execute(&id, "COMPOSIO_REMOTE_WORKBENCH", json!({"code_to_execute": "rows = open('/mnt/files/in/data.csv').read().splitlines()\nopen('/mnt/files/out.txt', 'w').write(str(len(rows)))\nrows"}))
        .await;
    assert_eq!(out["data"]["results"], "['a,b', '1,2']");
    let items = server.ok("GET", &format!("{base}/items"), None).await;
    let paths: Vec<&str> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["mount_relative_path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"in/data.csv") && paths.contains(&"out.txt"),
        "{items}"
    );
    assert_eq!(items["items"][0]["sandbox_mount_prefix"], "/mnt/files");
    let filtered = server
        .ok(
            "GET",
            &format!("{base}/items?mount_relative_prefix=in/"),
            None,
        )
        .await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);

    // Download.
    let grant = server
        .ok(
            "POST",
            &format!("{base}/download_url"),
            Some(json!({"mount_relative_path": "out.txt"})),
        )
        .await;
    let body = reqwest::get(grant["download_url"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "2");

    // Escapes and bad input.
    for bad in ["../secret", "a/../../b", ""] {
        let (status, _) = server
            .call(
                "POST",
                &format!("{base}/download_url"),
                Some(json!({"mount_relative_path": bad})),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = server
        .call(
            "POST",
            &format!("{base}/download_url"),
            Some(json!({"mount_relative_path": "nope.txt"})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .call("GET", "/api/v3.1/files/not-a-token", None, None)
        .await;
    assert_eq!(status, 404);

    // Delete.
    server
        .ok(
            "POST",
            &format!("{base}/delete"),
            Some(json!({"mount_relative_path": "out.txt"})),
        )
        .await;
    let (status, _) = server
        .call(
            "POST",
            &format!("{base}/delete"),
            Some(json!({"mount_relative_path": "out.txt"})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn connections_and_toolkits() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server
        .session(
            json!({"user_id": "hal", "toolkits": {"enable": ["github", "slack", "hackernews"]}}),
        )
        .await;
    server
        .connect("hal", "slack", "BEARER_TOKEN", json!({"token": "xoxb"}))
        .await;
    let out = server
        .execute(
            &id,
            "COMPOSIO_MANAGE_CONNECTIONS",
            json!({"toolkits": ["github", "slack", "hackernews", "gmail"]}),
        )
        .await;
    let results = &out["data"]["results"];
    assert_eq!(results["slack"]["status"], "active");
    assert_eq!(results["hackernews"]["status"], "active");
    // A missing connection is initiated: a link the agent shows the user.
    assert_eq!(results["github"]["status"], "initiated", "{out}");
    assert!(
        results["github"]["instruction"]
            .as_str()
            .unwrap()
            .contains("redirect_url")
    );
    let link = results["github"]["redirect_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/link/lt_", server.base)),
        "{link}"
    );
    assert!(
        results["github"]["auth_config_id"]
            .as_str()
            .unwrap()
            .starts_with("ac_")
    );
    assert!(
        results["gmail"]["error_message"]
            .as_str()
            .unwrap()
            .contains("not enabled")
    );
    assert_eq!(out["data"]["summary"]["active_connections"], 2);
    assert_eq!(out["data"]["summary"]["initiated_connections"], 1);
    // The user completes it; the next call sees github active.
    assert_eq!(post_form(&link, "token=hal-gh").await.0, 200);
    let again = server
        .execute(
            &id,
            "COMPOSIO_MANAGE_CONNECTIONS",
            json!({"toolkits": ["github"]}),
        )
        .await;
    assert_eq!(again["data"]["results"]["github"]["status"], "active");
    let pending = results["github"]["connected_account_id"].as_str().unwrap();
    assert_eq!(
        again["data"]["results"]["github"]["connected_account_id"],
        pending
    );
    // reinitiate_all starts a new link even for a connected toolkit.
    let redo = server
        .execute(
            &id,
            "COMPOSIO_MANAGE_CONNECTIONS",
            json!({"toolkits": ["github"], "reinitiate_all": true}),
        )
        .await;
    assert_eq!(redo["data"]["results"]["github"]["status"], "initiated");
    assert_eq!(redo["data"]["results"]["github"]["was_reinitiated"], true);

    // Accounts can be disabled (tools stop using them), relabelled, deleted.
    let path = format!("/api/v3.1/connected_accounts/{pending}");
    let off = server
        .ok(
            "PATCH",
            &format!("{path}/status"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(off["success"], true);
    let got = server.ok("GET", &path, None).await;
    assert_eq!(got["is_disabled"], true);
    let check = server
        .execute(
            &id,
            "COMPOSIO_MANAGE_CONNECTIONS",
            json!({"toolkits": ["github"]}),
        )
        .await;
    assert_ne!(
        check["data"]["results"]["github"]["status"], "active",
        "a disabled account is not used"
    );
    server
        .ok(
            "PATCH",
            &format!("{path}/status"),
            Some(json!({"enabled": true})),
        )
        .await;
    let renamed = server
        .ok("PATCH", &path, Some(json!({"alias": "main"})))
        .await;
    assert_eq!(renamed["success"], true);
    assert_eq!(server.ok("GET", &path, None).await["alias"], "main");
    let (status, err) = server
        .call("PATCH", &path, Some(json!({"connection": {"state": {"authScheme": "API_KEY", "val": {"api_key": "k"}}}})), Some(KEY))
        .await;
    assert_eq!(status, 400, "{err}");
    server
        .ok("PATCH", &path, Some(json!({"connection": {"state": {"authScheme": "BEARER_TOKEN", "val": {"token": "new"}}}})))
        .await;
    assert_eq!(server.ok("DELETE", &path, None).await["success"], true);
    let (status, _) = server.call("GET", &path, None, Some(KEY)).await;
    assert_eq!(status, 404);
    let (status, _) = server.call("DELETE", &path, None, Some(KEY)).await;
    assert_eq!(status, 404);

    let toolkits = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{id}/toolkits"),
            None,
        )
        .await;
    let slugs: Vec<&str> = toolkits["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["github", "hackernews", "slack"]);
    let connected = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{id}/toolkits?is_connected=true"),
            None,
        )
        .await;
    assert_eq!(connected["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        connected["items"][1]["connected_account"]["auth_config"]["auth_scheme"],
        "BEARER_TOKEN"
    );
    assert_eq!(
        connected["items"][1]["connected_account"]["auth_config"]["is_composio_managed"], true,
        "toolshed's own body lands under a managed config"
    );

    // Accounts: bad input and scoping.
    let (status, err) = server
        .call("POST", "/api/v3.1/connected_accounts", Some(json!({"user_id": "hal", "toolkit": "github", "auth_scheme": "API_KEY", "credentials": {}})), Some(KEY))
        .await;
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("api_key")
    );
    let (status, _) = server
        .call(
            "POST",
            "/api/v3.1/connected_accounts",
            Some(json!({"user_id": "hal", "toolkit": "nope", "credentials": {"token": "x"}})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn auth_configs_and_composio_shaped_accounts() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let other_key = new_project_key(dir.path(), "other");
    let create = |body: Value| {
        let server = &server;
        async move {
            server
                .call("POST", "/api/v3.1/auth_configs", Some(body), Some(KEY))
                .await
        }
    };
    // A custom OAuth app: the secret is kept, never shown.
    let (status, made) = create(json!({"toolkit": {"slug": "GMAIL"}, "auth_config": {
        "type": "use_custom_auth", "authScheme": "OAUTH2", "name": "our app",
        "credentials": {"client_id": "cid", "client_secret": "app-secret-canary", "scopes": ["mail"]}}}))
    .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["toolkit"]["slug"], "gmail");
    assert_eq!(made["auth_config"]["auth_scheme"], "OAUTH2");
    assert_eq!(made["auth_config"]["is_composio_managed"], false);
    let gmail = made["auth_config"]["id"].as_str().unwrap().to_owned();
    // A managed config for an API-key toolkit needs nothing (snake_case scheme too).
    let (status, made) = create(json!({"toolkit": {"slug": "linear"}, "auth_config": {"type": "use_composio_managed_auth", "auth_scheme": "API_KEY"}})).await;
    assert_eq!(status, 200, "{made}");
    let linear = made["auth_config"]["id"].as_str().unwrap().to_owned();
    let (status, made) = create(json!({"toolkit": {"slug": "github"}})).await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(
        made["auth_config"]["auth_scheme"], "BEARER_TOKEN",
        "the first scheme needing no app"
    );

    for (body, want, words) in [
        (
            json!({"toolkit": {"slug": "gmail"}, "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2", "credentials": {"client_id": "x"}}}),
            400,
            "client_secret",
        ),
        (
            json!({"toolkit": {"slug": "gmail"}, "auth_config": {"type": "use_composio_managed_auth", "authScheme": "OAUTH2"}}),
            400,
            "has no OAuth app for gmail",
        ),
        (
            json!({"toolkit": {"slug": "gmail"}, "auth_config": {"type": "use_custom_auth"}}),
            400,
            "authScheme",
        ),
        (
            json!({"toolkit": {"slug": "linear"}, "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2"}}),
            400,
            "accepts API_KEY",
        ),
        (
            json!({"toolkit": {"slug": "linear"}, "auth_config": {"type": "use_custom_auth", "authScheme": "SAML"}}),
            400,
            "not supported",
        ),
        (
            json!({"toolkit": {"slug": "hackernews"}}),
            400,
            "needs no authentication",
        ),
        (json!({"toolkit": {"slug": "nope"}}), 404, "nope"),
        (
            json!({"toolkit": {"slug": "linear"}, "auth_config": {"type": "other"}}),
            400,
            "auth_config.type",
        ),
        (
            json!({"toolkit": {"slug": "linear"}, "auth_config": {"name": "x".repeat(257)}}),
            400,
            "name",
        ),
        (json!({"toolkit": "linear"}), 400, "toolkit"),
    ] {
        let (status, err) = create(body.clone()).await;
        assert_eq!(status, want, "{body}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
    }

    // Get and list: filters, the secret left out, the other project sees none.
    let got = server
        .ok("GET", &format!("/api/v3/auth_configs/{gmail}"), None)
        .await;
    assert_eq!(got["name"], "our app");
    assert_eq!(got["type"], "custom");
    assert_eq!(got["status"], "ENABLED");
    assert_eq!(
        got["credentials"],
        json!({"client_id": "cid", "scopes": ["mail"]})
    );
    assert_eq!(
        got["toolkit"]["logo"],
        "https://logos.toolshed.dev/gmail.svg"
    );
    assert!(!got.to_string().contains("app-secret-canary"));
    let all = server.ok("GET", "/api/v3.1/auth_configs", None).await;
    assert_eq!(all["total_items"], 3);
    assert!(!all.to_string().contains("app-secret-canary"));
    let only = server
        .ok("GET", "/api/v3.1/auth_configs?toolkit_slug=LINEAR", None)
        .await;
    assert_eq!(only["items"][0]["id"], linear.as_str());
    assert_eq!(only["total_items"], 1);
    let custom = server
        .ok(
            "GET",
            "/api/v3.1/auth_configs?is_composio_managed=false",
            None,
        )
        .await;
    assert_eq!(custom["total_items"], 1);
    let found = server
        .ok("GET", "/api/v3.1/auth_configs?search=OUR%20APP", None)
        .await;
    assert_eq!(found["items"][0]["id"], gmail.as_str());
    let (status, _) = server
        .call(
            "GET",
            &format!("/api/v3.1/auth_configs/{gmail}"),
            None,
            Some(&other_key),
        )
        .await;
    assert_eq!(status, 404);
    let (status, theirs) = server
        .call("GET", "/api/v3.1/auth_configs", None, Some(&other_key))
        .await;
    assert_eq!((status, &theirs["total_items"]), (200, &json!(0)));

    // Update merges settings and keeps the OAuth app whole.
    let updated = server
        .ok("PATCH", &format!("/api/v3.1/auth_configs/{gmail}"), Some(json!({"type": "custom", "name": "renamed", "credentials": {"client_id": "cid2"}, "tool_access_config": {}})))
        .await;
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["credentials"]["client_id"], "cid2");
    let (status, err) = server
        .call(
            "PATCH",
            &format!("/api/v3.1/auth_configs/{gmail}"),
            Some(json!({"credentials": {"client_secret": ""}})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400, "{err}");

    // Composio's initiate body: an ACTIVE account under the named config.
    let initiate = |config: &str, state: Value| json!({"auth_config": {"id": config}, "connection": {"user_id": "ann", "alias": "work", "state": state}});
    let account = server
        .ok("POST", "/api/v3.1/connected_accounts", Some(initiate(&linear, json!({"authScheme": "API_KEY", "val": {"status": "ACTIVE", "generic_api_key": "lin-key"}}))))
        .await;
    assert_eq!(account["status"], "ACTIVE");
    assert_eq!(account["connectionData"]["val"]["status"], "ACTIVE");
    assert_eq!(account["auth_config"]["id"], linear.as_str());
    assert_eq!(account["auth_config"]["is_composio_managed"], true);
    assert!(!account.to_string().contains("lin-key"));
    let id = account["id"].as_str().unwrap().to_owned();
    let got = server
        .ok("GET", &format!("/api/v3.1/connected_accounts/{id}"), None)
        .await;
    assert_eq!(got["alias"], "work");
    let listed = server
        .ok(
            "GET",
            &format!(
                "/api/v3.1/connected_accounts?auth_config_ids={linear}&statuses=ACTIVE&user_ids=ann"
            ),
            None,
        )
        .await;
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let by_id = server
        .ok(
            "GET",
            &format!("/api/v3.1/connected_accounts?connected_account_ids={id}"),
            None,
        )
        .await;
    assert_eq!(by_id["total_items"], 1);
    for (body, words) in [
        (
            initiate(
                &linear,
                json!({"authScheme": "BEARER_TOKEN", "val": {"token": "t"}}),
            ),
            "is a API_KEY auth config",
        ),
        (
            initiate(
                &linear,
                json!({"authScheme": "API_KEY", "val": {"status": "ACTIVE"}}),
            ),
            "needs api_key",
        ),
        (
            json!({"auth_config": {"id": linear}, "connection": {"user_id": " "}}),
            "connection.user_id",
        ),
        (
            json!({"auth_config": {}, "connection": {"user_id": "ann"}}),
            "auth_config",
        ),
    ] {
        let (status, err) = server
            .call(
                "POST",
                "/api/v3.1/connected_accounts",
                Some(body.clone()),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{body}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(words),
            "{body}: {err}"
        );
    }
    let (status, _) = server
        .call(
            "POST",
            "/api/v3.1/connected_accounts",
            Some(initiate(
                "ac_missing",
                json!({"authScheme": "API_KEY", "val": {"api_key": "k"}}),
            )),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .call(
            "POST",
            "/api/v3.1/connected_accounts",
            Some(initiate(
                &linear,
                json!({"authScheme": "API_KEY", "val": {"api_key": "k"}}),
            )),
            Some(&other_key),
        )
        .await;
    assert_eq!(status, 404, "another project's config");

    // Toolshed's own body lands under the project's config for the scheme.
    let direct = server
        .connect("bob", "linear", "API_KEY", json!({"api_key": "k2"}))
        .await;
    let got = server
        .ok(
            "GET",
            &format!("/api/v3.1/connected_accounts/{direct}"),
            None,
        )
        .await;
    assert_eq!(got["auth_config"]["id"], linear.as_str());

    // Disabled: no new accounts under it; enabled again, it works.
    let done = server
        .ok(
            "PATCH",
            &format!("/api/v3.1/auth_configs/{linear}/DISABLED"),
            None,
        )
        .await;
    assert_eq!(done["success"], true);
    let (status, err) = server
        .call(
            "POST",
            "/api/v3.1/connected_accounts",
            Some(initiate(
                &linear,
                json!({"authScheme": "API_KEY", "val": {"api_key": "k"}}),
            )),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    let hidden = server
        .ok("GET", "/api/v3.1/auth_configs?toolkit_slug=linear", None)
        .await;
    assert_eq!(
        hidden["total_items"], 0,
        "disabled configs are listed only with show_disabled"
    );
    let shown = server
        .ok(
            "GET",
            "/api/v3.1/auth_configs?toolkit_slug=linear&show_disabled=true",
            None,
        )
        .await;
    assert_eq!(shown["items"][0]["status"], "DISABLED");
    assert_eq!(shown["items"][0]["no_of_connections"], 2);
    let (status, _) = server
        .call(
            "PATCH",
            &format!("/api/v3.1/auth_configs/{linear}/SOMETIMES"),
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
    server
        .ok(
            "PATCH",
            &format!("/api/v3.1/auth_configs/{linear}/ENABLED"),
            None,
        )
        .await;

    // Deleting a config deletes its accounts.
    let deleted = server
        .ok("DELETE", &format!("/api/v3.1/auth_configs/{linear}"), None)
        .await;
    assert_eq!(deleted["success"], true);
    let (status, _) = server
        .call(
            "GET",
            &format!("/api/v3.1/connected_accounts/{id}"),
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .call(
            "DELETE",
            &format!("/api/v3.1/auth_configs/{linear}"),
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn connect_links_complete_once_through_the_hosted_page() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let config = server
        .ok(
            "POST",
            "/api/v3.1/auth_configs",
            Some(json!({"toolkit": {"slug": "linear"}})),
        )
        .await["auth_config"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = server
        .ok("POST", "/api/v3.1/connected_accounts/link", Some(json!({"auth_config_id": config, "user_id": "lee", "callback_url": "https://app.example/cb?x=1"})))
        .await;
    let account = link["connected_account_id"].as_str().unwrap().to_owned();
    let url = link["redirect_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/link/lt_", server.base)),
        "{url}"
    );
    assert!(link["expires_at"].as_str().unwrap().ends_with('Z'));
    let got = server
        .ok(
            "GET",
            &format!("/api/v3.1/connected_accounts/{account}"),
            None,
        )
        .await;
    assert_eq!(got["status"], "INITIATED");

    // The page needs no key, works without JavaScript and labels its field.
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    for part in [
        "Connect Linear",
        "<label for=\"api_key\">",
        "id=\"api_key\"",
        "type=\"password\"",
        "<form method=\"post\">",
        "<button type=\"submit\">",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert!(!html.contains("<script"));

    // A blank field is refused and changes nothing.
    let (status, html, _) = post_form(&url, "api_key=+").await;
    assert_eq!(status, 400);
    assert!(
        html.contains("role=\"alert\"") && html.contains("API key is required"),
        "{html}"
    );
    let got = server
        .ok(
            "GET",
            &format!("/api/v3.1/connected_accounts/{account}"),
            None,
        )
        .await;
    assert_eq!(got["status"], "INITIATED");

    // The credential completes the account and the browser goes back.
    let (status, _, location) = post_form(&url, "api_key=lee-linear-key&extra=ignored").await;
    assert_eq!(status, 303);
    assert_eq!(
        location.unwrap(),
        format!("https://app.example/cb?x=1&status=success&connected_account_id={account}")
    );
    let got = server
        .ok(
            "GET",
            &format!("/api/v3.1/connected_accounts/{account}"),
            None,
        )
        .await;
    assert_eq!(got["status"], "ACTIVE");
    assert!(!got.to_string().contains("lee-linear-key"));
    let session = server
        .session(json!({"user_id": "lee", "toolkits": ["linear"]}))
        .await;
    let out = server
        .execute(&session, "LINEAR_LIST_TEAMS", json!({}))
        .await;
    assert_eq!(out["error"], Value::Null, "{out}");

    // Used, forged: a page says so and nothing changes.
    let (status, html, _) = post_form(&url, "api_key=other").await;
    assert_eq!(status, 410);
    assert!(html.contains("already used"));
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 410);
    let forged = format!("{}/link/lt_{}", server.base, "0".repeat(64));
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 404);
    assert_eq!(post_form(&forged, "api_key=x").await.0, 404);

    // session.authorize: the session's user, a config made for the toolkit.
    let session = server
        .session(json!({"user_id": "mo", "toolkits": ["github", "gmail"]}))
        .await;
    let link = server
        .ok(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/link"),
            Some(json!({"toolkit": "GitHub"})),
        )
        .await;
    let id = link["connected_account_id"].as_str().unwrap();
    let got = server
        .ok("GET", &format!("/api/v3.1/connected_accounts/{id}"), None)
        .await;
    assert_eq!(
        (got["user_id"].as_str(), got["status"].as_str()),
        (Some("mo"), Some("INITIATED"))
    );
    let html = reqwest::get(link["redirect_url"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<label for=\"token\">"), "{html}");
    let (status, _, _) = post_form(link["redirect_url"].as_str().unwrap(), "token=gh-token").await;
    assert_eq!(status, 200, "no callback: a page says it is done");
    for (body, words) in [
        (json!({"toolkit": "slack"}), "not enabled in this session"),
        (json!({"toolkit": "nope"}), "not a known toolkit"),
        (
            json!({"toolkit": "github", "callback_url": "javascript:alert(1)"}),
            "callback_url",
        ),
    ] {
        let (status, err) = server
            .call(
                "POST",
                &format!("/api/v3.1/tool_router/session/{session}/link"),
                Some(body.clone()),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{body}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(words),
            "{body}: {err}"
        );
    }

    // Composio's initiate without credentials answers with the link.
    let made = server
        .ok(
            "POST",
            "/api/v3.1/connected_accounts",
            Some(json!({"auth_config": {"id": config}, "connection": {"user_id": "ned"}})),
        )
        .await;
    assert_eq!(made["status"], "INITIATED");
    assert_eq!(made["connectionData"]["val"]["status"], "INITIATED");
    assert!(
        made["connectionData"]["val"]["redirectUrl"]
            .as_str()
            .unwrap()
            .contains("/link/lt_")
    );
    assert_eq!(
        made["redirect_url"],
        made["connectionData"]["val"]["redirectUrl"]
    );
    // Python reads the snake spelling inside `val`.
    assert_eq!(
        made["connectionData"]["val"]["redirect_url"],
        made["connectionData"]["val"]["redirectUrl"]
    );
}

#[tokio::test]
async fn proxy_execute_calls_the_toolkits_api_with_the_account_and_nothing_else() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    server
        .connect(
            "pat",
            "github",
            "BEARER_TOKEN",
            json!({"token": "pat-gh-token"}),
        )
        .await;
    let session = server
        .session(json!({"user_id": "pat", "toolkits": ["github", "hackernews"], "proxy_execute": {"enable": true}}))
        .await;
    let path = format!("/api/v3.1/tool_router/session/{session}/proxy_execute");
    let out = server
        .ok("POST", &path, Some(json!({"toolkit_slug": "github", "endpoint": "/user", "method": "GET",
            "parameters": [{"name": "X-Trace", "type": "header", "value": "t1"}, {"name": "page", "in": "query", "value": 2}]})))
        .await;
    assert_eq!(out["result_type"], "completed");
    assert_eq!(out["status"], 200, "{out}");
    assert!(out["data"].is_object(), "{out}");
    assert!(
        out["headers"]["content-type"]
            .as_str()
            .unwrap()
            .contains("json")
    );
    let seen = up.requests(1).await;
    let last = &seen[0];
    assert_eq!(last["path"], "/github/user");
    assert_eq!(last["query"]["page"], "2");
    let headers = last["headers"].to_string().to_ascii_lowercase();
    assert!(headers.contains("bearer pat-gh-token"), "{headers}");
    assert!(headers.contains("x-trace"), "{headers}");

    // The workbench helper makes the same request from a cell.
    let cell = concat!(
        "r, err = proxy_execute('GET', '/user', 'github', query_params={'page': 3}, headers={'X-Trace': 't2'})\n",
        "bad, bad_err = proxy_execute('GET', '/../gmail/x', 'github')\n",
        "nobody, nobody_err = proxy_execute('POST', '/user', 'github')\n",
        "(err, r['status'], type(r['data']).__name__, bad, 'outside' in bad_err, 'body' in nobody_err)"
    );
    let out = server
        .execute(
            &session,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": cell}),
        )
        .await;
    assert_eq!(
        out["data"]["results"], "('', 200, 'dict', None, True, True)",
        "{out}"
    );
    server
        .ok(
            "PATCH",
            &format!("/api/v3.1/tool_router/session/{session}"),
            Some(json!({"workbench": {"enable_proxy_execution": false}})),
        )
        .await;
    let out = server
        .execute(
            &session,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "proxy_execute('GET', '/user', 'github')"}),
        )
        .await;
    let results = out["data"]["results"].as_str().unwrap_or_default();
    assert!(
        results.starts_with("(None,") && results.contains("enable_proxy_execution"),
        "{out}"
    );
    let seen = up.requests(1).await;
    assert_eq!(seen[0]["query"]["page"], "3");
    let headers = seen[0]["headers"].to_string().to_ascii_lowercase();
    assert!(
        headers.contains("bearer pat-gh-token") && headers.contains("x-trace"),
        "{headers}"
    );
    // An upstream error is the upstream's answer, not ours.
    let missing = server
        .ok("POST", &path, Some(json!({"toolkit_slug": "github", "endpoint": "/users/no-such-user-xyz", "method": "GET"})))
        .await;
    assert_eq!(missing["status"], 404);

    for (body, words) in [
        (
            json!({"toolkit_slug": "github", "endpoint": "/../gmail/x", "method": "GET"}),
            "outside the toolkit's API",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": format!("http://{}/gmail/x", up.addr), "method": "GET"}),
            "outside",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": "http://169.254.169.254/latest", "method": "GET"}),
            "outside",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": "/user/repos", "method": "POST"}),
            "body: is required",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": "/user", "method": "GET", "body": {}}),
            "body: is not allowed",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": "/user", "method": "HEAD"}),
            "method",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": "/user", "method": "GET", "parameters": [{"name": "Authorization", "type": "header", "value": "x"}]}),
            "set by toolshed",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": "/user", "method": "GET", "parameters": [{"name": "Host", "type": "header", "value": "x"}]}),
            "set by toolshed",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": "/user", "method": "GET", "parameters": [{"name": "bad name", "type": "header", "value": "x"}]}),
            "not a valid header",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": "/user", "method": "GET", "parameters": [{"name": "X-A", "type": "header", "value": "a\r\nInjected: 1"}]}),
            "not a valid header",
        ),
        (
            json!({"toolkit_slug": "github", "endpoint": "/user", "method": "GET", "parameters": [{"name": "authorization", "type": "header", "value": "x"}]}),
            "set by toolshed",
        ),
        (
            json!({"toolkit_slug": "slack", "endpoint": "/x", "method": "GET"}),
            "not enabled in this session",
        ),
        (
            json!({"toolkit_slug": "nope", "endpoint": "/x", "method": "GET"}),
            "not a known toolkit",
        ),
        (json!({"endpoint": "/x", "method": "GET"}), "toolkit_slug"),
    ] {
        let (status, err) = server
            .call("POST", &path, Some(body.clone()), Some(KEY))
            .await;
        assert_eq!(status, 400, "{body}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(words),
            "{body}: {err}"
        );
    }
    // No account for the user: a clear refusal, not an unauthenticated call.
    let other = server
        .session(json!({"user_id": "nobody", "toolkits": ["github"]}))
        .await;
    let (status, err) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{other}/proxy_execute"),
            Some(json!({"toolkit_slug": "github", "endpoint": "/user", "method": "GET"})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400, "{err}");

    // The meta tool: only with proxy_execute.enable.
    let meta = server
        .execute(
            &session,
            "COMPOSIO_PROXY_EXECUTE",
            json!({"toolkit_slug": "github", "endpoint": "/user", "method": "GET"}),
        )
        .await;
    assert_eq!(meta["data"]["status"], 200, "{meta}");
    let tools = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{session}/tools"),
            None,
        )
        .await;
    assert!(tools.to_string().contains("COMPOSIO_PROXY_EXECUTE"));
    let (status, err) = server
        .call("POST", &format!("/api/v3.1/tool_router/session/{other}/execute_meta"), Some(json!({"slug": "COMPOSIO_PROXY_EXECUTE", "arguments": {"toolkit_slug": "github", "endpoint": "/user", "method": "GET"}})), Some(KEY))
        .await;
    assert_eq!(status, 400, "disabled without proxy_execute.enable: {err}");
}

#[tokio::test]
async fn an_unused_link_expires_and_its_account_says_why() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_with_args(dir.path(), &up, &[], &["--link-ttl-secs", "0"]);
    let session = server
        .session(json!({"user_id": "ola", "toolkits": ["slack"]}))
        .await;
    let link = server
        .ok(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/link"),
            Some(json!({"toolkit": "slack"})),
        )
        .await;
    let id = link["connected_account_id"].as_str().unwrap();
    let got = server
        .ok("GET", &format!("/api/v3.1/connected_accounts/{id}"), None)
        .await;
    assert_eq!(got["status"], "EXPIRED");
    assert!(got["status_reason"].as_str().unwrap().contains("expired"));
    let url = link["redirect_url"].as_str().unwrap();
    let (status, html, _) = post_form(url, "token=late").await;
    assert_eq!(status, 410);
    assert!(html.contains("expired"));
    let got = server
        .ok("GET", &format!("/api/v3.1/connected_accounts/{id}"), None)
        .await;
    assert_eq!(
        got["status"], "EXPIRED",
        "a late submission changes nothing"
    );
}

#[tokio::test]
async fn account_lists_filter_page_and_stay_in_their_project() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let other_key = new_project_key(dir.path(), "other");
    let mut ids = Vec::new();
    for (user, toolkit) in [
        ("ann", "github"),
        ("bob", "slack"),
        ("ann", "slack"),
        ("cy", "github"),
    ] {
        let credentials = json!({"token": format!("t-{user}")});
        ids.push(
            server
                .connect(user, toolkit, "BEARER_TOKEN", credentials)
                .await,
        );
    }
    let (status, _) = server
        .call(
            "POST",
            "/api/v3.1/connected_accounts",
            Some(json!({"user_id": "ann", "toolkit": "github", "auth_scheme": "BEARER_TOKEN", "credentials": {"token": "x"}})),
            Some(&other_key),
        )
        .await;
    assert_eq!(status, 200);
    let server = &server;
    let list = |query: &str| {
        let path = format!("/api/v3.1/connected_accounts{query}");
        async move { server.ok("GET", &path, None).await }
    };
    let listed = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // No filter: the whole project, oldest first, never the other project's.
    let all = list("").await;
    assert_eq!(listed(&all), ids);
    assert_eq!(all["total_items"], 4);
    for (query, want) in [
        ("?user_ids=ann", vec![0, 2]),
        ("?user_ids=ann,%20cy", vec![0, 2, 3]),
        ("?user_id=bob&user_ids=cy", vec![1, 3]),
        ("?toolkit_slugs=SLACK", vec![1, 2]),
        ("?user_ids=ann&toolkit_slugs=github", vec![0]),
        ("?statuses=active", vec![0, 1, 2, 3]),
        ("?statuses=EXPIRED", vec![]),
        ("?user_ids=nobody", vec![]),
        ("?user_ids=,", vec![0, 1, 2, 3]),
    ] {
        let want: Vec<String> = want.into_iter().map(|i: usize| ids[i].clone()).collect();
        assert_eq!(listed(&list(query).await), want, "{query}");
    }
    // Pages of 3: the cursor walks on, the last page has none.
    let first = list("?limit=3").await;
    assert_eq!(listed(&first), ids[..3]);
    assert_eq!(first["total_pages"], 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = list(&format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(listed(&second), ids[3..]);
    assert_eq!(second["next_cursor"], Value::Null);
    assert_eq!(second["current_page"], 2);
    assert!(listed(&list("?cursor=99999999999999999999999").await).is_empty());
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
        ("?cursor=abc", "cursor"),
        ("?limit=x", "limit"),
    ] {
        let (status, err) = server
            .call(
                "GET",
                &format!("/api/v3.1/connected_accounts{query}"),
                None,
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{query}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(field),
            "{query}: {err}"
        );
    }
    let many = vec!["u"; 101].join(",");
    let (status, _) = server
        .call(
            "GET",
            &format!("/api/v3.1/connected_accounts?user_ids={many}"),
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn upstream_faults_retries_and_malformed_bodies() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server
        .session(json!({"user_id": "ivy", "toolkits": {"enable": ["github"]}}))
        .await;
    server
        .connect("ivy", "github", "BEARER_TOKEN", json!({"token": "t"}))
        .await;
    let control = reqwest::Client::new();
    let arm = |fault: Value| {
        let control = control.clone();
        let url = format!("http://{}/_control/faults", up.addr);
        async move { control.post(url).json(&fault).send().await.unwrap() }
    };
    let get_issue = json!({"owner": "acme", "repo": "widgets", "issue_number": 11});

    // Two 429s with Retry-After, then success: an idempotent GET is retried.
    arm(json!({"path_prefix": "/github/repos/acme/widgets/issues/11", "status": 429, "times": 2, "retry_after": 0})).await;
    let run = server
        .execute(&id, "GITHUB_GET_ISSUE", get_issue.clone())
        .await;
    assert_eq!(run["result_type"], "completed", "{run}");
    assert_eq!(run["data"]["number"], 11);

    // A 503 on a POST is not retried (not idempotent).
    arm(json!({"path_prefix": "/github/repos/acme/widgets/issues", "method": "POST", "status": 503, "times": 1})).await;
    let run = server
        .execute(
            &id,
            "GITHUB_CREATE_ISSUE",
            json!({"owner": "acme", "repo": "widgets", "title": "x"}),
        )
        .await;
    assert_eq!(run["result_type"], "failed");
    assert!(run["error"].as_str().unwrap().contains("503"), "{run}");

    // A malformed body is a clear failure.
    arm(json!({"path_prefix": "/github/repos/acme/widgets/issues/11", "status": "malformed", "times": 1})).await;
    let run = server.execute(&id, "GITHUB_GET_ISSUE", get_issue).await;
    assert_eq!(run["result_type"], "failed");
    assert!(
        run["error"].as_str().unwrap().contains("malformed JSON"),
        "{run}"
    );
}

#[tokio::test]
async fn wait_for_connections_sees_a_new_account() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server
        .session(json!({"user_id": "jo", "manage_connections": {"enable": true, "enable_wait_for_connections": true}}))
        .await;
    let tools = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{id}/tools"),
            None,
        )
        .await;
    assert!(tools.to_string().contains("COMPOSIO_WAIT_FOR_CONNECTIONS"));
    let timed_out = server
        .execute(
            &id,
            "COMPOSIO_WAIT_FOR_CONNECTIONS",
            json!({"toolkits": ["slack"], "timeout_seconds": 0}),
        )
        .await;
    assert_eq!(timed_out["result_type"], "failed");
    assert_eq!(timed_out["data"]["results"]["slack"]["status"], "INITIATED");
    server
        .connect("jo", "slack", "BEARER_TOKEN", json!({"token": "x"}))
        .await;
    let done = server
        .execute(
            &id,
            "COMPOSIO_WAIT_FOR_CONNECTIONS",
            json!({"toolkits": ["slack", "hackernews"], "mode": "all"}),
        )
        .await;
    assert_eq!(done["result_type"], "completed", "{done}");
    assert_eq!(done["data"]["results"]["slack"]["status"], "ACTIVE");

    // A wait in progress wakes when the user completes a link (the wait
    // listens for account writes; a missed one would run into its 60 s).
    let link = server
        .ok(
            "POST",
            &format!("/api/v3.1/tool_router/session/{id}/link"),
            Some(json!({"toolkit": "github"})),
        )
        .await;
    let url = link["redirect_url"].as_str().unwrap().to_owned();
    let (waited, submitted) = tokio::join!(
        server.execute(
            &id,
            "COMPOSIO_WAIT_FOR_CONNECTIONS",
            json!({"toolkits": ["github"], "timeout_seconds": 60})
        ),
        post_form(&url, "token=jo-gh"),
    );
    assert_eq!(submitted.0, 200);
    assert_eq!(waited["result_type"], "completed", "{waited}");
    assert_eq!(
        waited["data"]["results"]["github"]["connected_account_id"],
        link["connected_account_id"]
    );
}

#[tokio::test]
async fn oversized_bodies_get_413_and_oversized_heads_431() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "kim"})).await;
    let code = "x".repeat(33 << 20);
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{id}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": code}})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 413, "{body:.200}");
    assert_eq!(body["error"]["status"], 413);

    // Oversized heads: one huge header, a huge query string, too many
    // headers. Each is refused before the key is looked up.
    let sessions = format!("{}/api/v3.1/tool_router/session", server.base);
    // A fresh client: the 413 above left its pooled connection unusable.
    let client = reqwest::Client::new();
    let huge_header = client
        .get(format!("{sessions}?user_id=kim"))
        .header("x-api-key", KEY)
        .header("x-padding", "p".repeat(100 << 10))
        .send()
        .await
        .unwrap();
    assert_eq!(huge_header.status(), 431);
    let body: Value = huge_header.json().await.unwrap();
    assert_eq!(body["error"]["slug"], "HeadersTooLarge", "{body}");
    let huge_query = client
        .get(format!("{sessions}?user_id={}", "k".repeat(60 << 10)))
        .header("x-api-key", KEY)
        .header("x-padding", "p".repeat(10 << 10))
        .send()
        .await
        .unwrap();
    assert_eq!(huge_query.status(), 431);
    let mut many = client
        .get(format!("{sessions}?user_id=kim"))
        .header("x-api-key", KEY);
    for i in 0..150 {
        many = many.header(format!("x-h{i}"), "v");
    }
    let many = many.send().await.unwrap();
    assert_eq!(many.status(), 431);
    // Under the bound, the same request works.
    let fine = client
        .get(format!("{sessions}?user_id=kim"))
        .header("x-api-key", KEY)
        .header("x-padding", "p".repeat(10 << 10))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_keeps_the_interpreters() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "lee"})).await;
    server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "import re\nword = re.compile(r'\\w+')\ndef shout(s):\n    return s.upper() + '!'\nseen = {'a': [1, 2]}"}),
        )
        .await;
    let mut proc = server.proc.take().unwrap();
    let pid = proc.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = proc.0.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    // The operator sees the checkpoint's size under its project.
    let report = Command::new(env!("CARGO_BIN_EXE_toolshed"))
        .arg("checkpoints")
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(report.status.success());
    let report = String::from_utf8(report.stdout).unwrap();
    let line: Vec<&str> = report.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(&line[1..3], ["1", "1"], "{report}");
    assert!(line[3].parse::<u64>().unwrap() > 10_000, "{report}");
    // The data is intact for the next start, and the interpreter was
    // hibernated: its functions, regexes and data are back.
    let server = start_server(dir.path(), &up, &[]);
    server
        .ok("GET", &format!("/api/v3.1/tool_router/session/{id}"), None)
        .await;
    let out = server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "(shout(word.findall('hi there')[1]), seen['a'])"}),
        )
        .await;
    assert_eq!(out["data"]["results"], "('THERE!', [1, 2])", "{out}");
    assert_eq!(out["data"]["state_reset"], false, "{out}");
    // The checkpoint stays, and the cell that ran since is marked.
    let folder = dir.path().join("sessions").join(&id);
    assert!(folder.join("interpreter.ckpt").exists());
    assert!(folder.join("interpreter.dirty").exists());
}

#[tokio::test]
async fn a_damaged_checkpoint_is_refused_kept_aside_and_the_session_starts_fresh() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "lee"})).await;
    server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "y = 1"}),
        )
        .await;
    let proc = server.proc.take().unwrap();
    let pid = proc.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut proc = proc;
    assert!(proc.0.wait().unwrap().success());
    let folder = dir.path().join("sessions").join(&id);
    let image = folder.join("interpreter.ckpt");
    let mut bytes = std::fs::read(&image).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&image, &bytes).unwrap();

    let server = start_server(dir.path(), &up, &[]);
    let out = server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "'y' in globals()"}),
        )
        .await;
    assert_eq!(out["data"]["results"], "False", "{out}");
    assert_eq!(out["data"]["state_reset"], true, "{out}");
    assert!(!image.exists());
    assert_eq!(
        std::fs::read(folder.join("interpreter.ckpt.rejected")).unwrap(),
        bytes
    );
}

#[tokio::test]
async fn a_100_mb_response_is_offloaded_complete_and_in_order() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server
        .session(json!({"user_id": "max", "toolkits": {"enable": ["github"]}}))
        .await;
    server
        .connect("max", "github", "BEARER_TOKEN", json!({"token": "t"}))
        .await;
    let multi = export_issues(&server, &id, 5000).await;
    let response = &multi["data"]["results"][0]["response"];
    assert_eq!(response["successful"], true, "{response:.300}");
    let size = response["remote_file_info"]["size_bytes"].as_u64().unwrap();
    assert!(size > 100_000_000, "{size}");
    let path = response["remote_file_info"]["file_path"].as_str().unwrap();
    let host = server
        .data
        .join(format!("sessions/{id}/files"))
        .join(path.trim_start_matches("/mnt/files/"));
    assert_eq!(std::fs::metadata(&host).unwrap().len(), size);
    // Byte for byte what the upstream sent: parse it and check order.
    let data: Vec<Value> =
        serde_json::from_reader(std::io::BufReader::new(std::fs::File::open(&host).unwrap()))
            .unwrap();
    assert_eq!(data.len(), 5000);
    assert!(
        data.iter()
            .enumerate()
            .all(|(i, issue)| issue["number"] == i as u64 + 1)
    );
    assert!(
        response["data_preview"]
            .to_string()
            .contains("more items (of 5,000")
    );
}

#[tokio::test]
async fn bad_input_on_every_endpoint_is_a_400_naming_the_field() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "ned"})).await;
    let s = format!("/api/v3.1/tool_router/session/{id}");
    let cases: Vec<(&str, String, Option<Value>, &str)> = vec![
        ("GET", format!("{s}/tools?limit=0"), None, "limit"),
        // Unparsable query values are 400s in the envelope too.
        ("GET", format!("{s}/tools?limit=-1"), None, "limit"),
        (
            "GET",
            format!("{s}/toolkits?is_connected=maybe"),
            None,
            "is_connected",
        ),
        ("GET", format!("{s}/tools?cursor=abc"), None, "cursor"),
        ("GET", format!("{s}/toolkits?limit=51"), None, "limit"),
        (
            "POST",
            format!("{s}/search"),
            Some(json!({"queries": vec![json!({"use_case": "x"}); 8]})),
            "at most 7",
        ),
        (
            "POST",
            format!("{s}/search"),
            Some(json!({"queries": [{"use_case": "x", "known_fields": "k".repeat(2000)}]})),
            "known_fields",
        ),
        (
            "POST",
            format!("{s}/execute_meta"),
            Some(
                json!({"slug": "COMPOSIO_GET_TOOL_SCHEMAS", "arguments": {"tool_slugs": vec!["GITHUB_GET_ISSUE"; 51]}}),
            ),
            "at most 50",
        ),
        (
            "GET",
            format!("{s}/config_history?limit=1000"),
            None,
            "limit",
        ),
        (
            "GET",
            format!("{s}/config_history?cursor=x"),
            None,
            "cursor",
        ),
        (
            "GET",
            format!("{s}/mounts/files/items?limit=501"),
            None,
            "limit",
        ),
        (
            "GET",
            "/api/v3.1/tool_router/session".into(),
            None,
            "user_id",
        ),
        (
            "PATCH",
            s.clone(),
            Some(json!({"expected_config_version": "one"})),
            "expected_config_version",
        ),
        (
            "PATCH",
            s.clone(),
            Some(json!({"workbench": {"sandbox_size": "huge"}})),
            "workbench.sandbox_size",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(json!({"arguments": {}})),
            "tool_slug",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": []})),
            "arguments",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {}})),
            "code_to_execute",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_REMOTE_BASH_TOOL", "arguments": {"command": 1}})),
            "command",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_SEARCH_TOOLS", "arguments": {"queries": []}})),
            "queries",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(
                json!({"tool_slug": "COMPOSIO_SEARCH_TOOLS", "arguments": {"queries": [{"use_case": ""}]}}),
            ),
            "use_case",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(
                json!({"tool_slug": "COMPOSIO_GET_TOOL_SCHEMAS", "arguments": {"tool_slugs": []}}),
            ),
            "tool_slugs",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(
                json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {"tools": [{"arguments": {}}], "sync_response_to_workbench": false}}),
            ),
            "tool_slug",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(
                json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {"tools": [{"tool_slug": "COMPOSIO_SEARCH_TOOLS", "arguments": {}}], "sync_response_to_workbench": false}}),
            ),
            "meta tool",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(
                json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {"tools": [{"tool_slug": "X", "arguments": {}}], "sync_response_to_workbench": "yes"}}),
            ),
            "sync_response_to_workbench",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_MANAGE_CONNECTIONS", "arguments": {}})),
            "toolkits",
        ),
        (
            "POST",
            format!("{s}/execute_meta"),
            Some(json!({"slug": "GITHUB_GET_ISSUE", "arguments": {}})),
            "slug",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(
                json!({"tool_slug": "COMPOSIO_MANAGE_CONNECTIONS", "arguments": {"toolkits": vec!["github"; 51]}}),
            ),
            "at most 50",
        ),
        (
            "POST",
            format!("{s}/execute"),
            Some(
                json!({"tool_slug": "COMPOSIO_MANAGE_CONNECTIONS", "arguments": {"toolkits": ["github", 1]}}),
            ),
            "toolkits[1]",
        ),
        (
            "GET",
            format!(
                "/api/v3.1/connected_accounts?user_ids={}",
                vec!["u"; 101].join(",")
            ),
            None,
            "at most 100",
        ),
        (
            "POST",
            format!("{s}/mounts/files/upload_url"),
            Some(json!({})),
            "mount_relative_path",
        ),
        (
            "POST",
            format!("{s}/mounts/files/delete"),
            Some(json!({"mount_relative_path": "../x"})),
            "mount_relative_path",
        ),
        (
            "POST",
            "/api/v3.1/connected_accounts".into(),
            Some(json!({"toolkit": "github"})),
            "user_id",
        ),
    ];
    // A well-formed user id that is not the session's conflicts with it.
    let (status, err) = server
        .call(
            "PATCH",
            &s,
            Some(json!({"user_id": "someone-else"})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("user_id")
    );
    for (method, path, body, field) in cases {
        let (status, err) = server.call(method, &path, body, Some(KEY)).await;
        assert_eq!(status, 400, "{method} {path}: {err}");
        let message = err["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(field),
            "{method} {path}: {message} should name {field}"
        );
    }
    // Unknown ids are 404s.
    for (method, path) in [
        (
            "GET",
            "/api/v3.1/tool_router/session/trs_nope/tools".to_owned(),
        ),
        (
            "POST",
            "/api/v3.1/tool_router/session/trs_nope/execute".to_owned(),
        ),
        ("GET", "/api/v3.1/connected_accounts/ca_nope".to_owned()),
        ("GET", "/api/v3.1/logs/tool_execution/log_nope".to_owned()),
        ("GET", format!("{s}/mounts/other/items")),
    ] {
        let body = (method == "POST")
            .then(|| json!({"tool_slug": "COMPOSIO_SEARCH_TOOLS", "arguments": {}}));
        let (status, err) = server.call(method, &path, body, Some(KEY)).await;
        assert_eq!(status, 404, "{method} {path}: {err}");
    }
    // The API describes itself (no key needed), the same document as
    // docs/openapi.json.
    let doc: Value = server
        .client
        .get(format!("{}/api/v3.1/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v3.1/tool_router/session/{id}/execute"]["post"].is_object());
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("docs/openapi.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc, committed);

    // An unknown app tool in execute is a 404 too.
    let (status, _) = server
        .call(
            "POST",
            &format!("{s}/execute"),
            Some(json!({"tool_slug": "NOPE_TOOL", "arguments": {}})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_config_change_applies_to_the_running_workbench_and_keeps_its_state() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server
        .session(json!({"user_id": "olga", "toolkits": {"enable": ["hackernews"]}}))
        .await;
    let cell = "r, e = run_composio_tool('HACKERNEWS_GET_ITEM', {'id': 1})\n(keep, e)";
    server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "keep = 'me'"}),
        )
        .await;
    let before = server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": cell}),
        )
        .await;
    assert_eq!(before["data"]["results"], "('me', '')");
    server
        .ok(
            "PATCH",
            &format!("/api/v3.1/tool_router/session/{id}"),
            Some(json!({"tools": {"hackernews": {"disable": ["HACKERNEWS_GET_ITEM"]}}})),
        )
        .await;
    let after = server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": cell}),
        )
        .await;
    let result = after["data"]["results"].as_str().unwrap();
    assert!(
        result.starts_with("('me', ") && result.contains("disabled"),
        "{result}"
    );
    assert_eq!(after["data"]["state_reset"], false);
}

#[tokio::test]
async fn symlinks_in_the_files_mount_cannot_redirect_file_urls_or_offload() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server
        .session(json!({"user_id": "pat", "toolkits": {"enable": ["hackernews"]}}))
        .await;
    let base = format!("/api/v3.1/tool_router/session/{id}/mounts/files");
    let files = server.data.join(format!("sessions/{id}/files"));
    std::fs::create_dir_all(&files).unwrap();
    // Links planted in the mount (by any means) that climb out of it.
    std::os::unix::fs::symlink("../../..", files.join("up")).unwrap();
    std::os::unix::fs::symlink("../../../toolshed.db", files.join("db")).unwrap();
    let (status, _) = server
        .call(
            "POST",
            &format!("{base}/download_url"),
            Some(json!({"mount_relative_path": "db"})),
            Some(KEY),
        )
        .await;
    assert_ne!(status, 200, "download through a symlink out of the mount");
    let (status, _) = server
        .call(
            "POST",
            &format!("{base}/download_url"),
            Some(json!({"mount_relative_path": "up/toolshed.db"})),
            Some(KEY),
        )
        .await;
    assert_ne!(status, 200);
    let grant = server
        .ok(
            "POST",
            &format!("{base}/upload_url"),
            Some(json!({"mount_relative_path": "up/planted.txt"})),
        )
        .await;
    let put = server
        .client
        .put(grant["upload_url"].as_str().unwrap())
        .body("x")
        .send()
        .await
        .unwrap();
    assert_ne!(put.status(), 200);
    assert!(!server.data.join("planted.txt").exists());
    // Offload output goes through the same guard.
    std::os::unix::fs::symlink("../../..", files.join(".composio")).unwrap();
    let (status, _) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{id}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {"sync_response_to_workbench": true,
                   "tools": [{"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}]}})),
            Some(KEY),
        )
        .await;
    assert_ne!(status, 200);
    assert!(!server.data.join("output").exists());
    // A dot segment in a path argument is refused before any request.
    let run = server
        .execute(&id, "HACKERNEWS_GET_USER", json!({"id": ".."}))
        .await;
    assert_eq!(run["result_type"], "failed", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains("arguments.id"),
        "{run}"
    );
}

#[tokio::test]
async fn a_named_account_must_be_one_the_session_may_use() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let work = server
        .connect("quinn", "github", "BEARER_TOKEN", json!({"token": "work"}))
        .await;
    let personal = server
        .connect(
            "quinn",
            "github",
            "BEARER_TOKEN",
            json!({"token": "personal"}),
        )
        .await;
    let id = server
        .session(json!({"user_id": "quinn", "toolkits": ["github"], "connected_accounts": {"github": [work]}}))
        .await;
    let args = json!({"owner": "acme", "repo": "widgets", "issue_number": 2});
    let call = |account: &str| json!({"tool_slug": "GITHUB_GET_ISSUE", "arguments": args, "account": account});
    let path = format!("/api/v3.1/tool_router/session/{id}/execute");
    let (_, allowed) = server
        .call("POST", &path, Some(call(&work)), Some(KEY))
        .await;
    assert_eq!(allowed["result_type"], "completed", "{allowed}");
    let (_, refused) = server
        .call("POST", &path, Some(call(&personal)), Some(KEY))
        .await;
    assert_eq!(refused["result_type"], "failed");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("this session may use"),
        "{refused}"
    );

    // With require_explicit_selection, a call that names no account among
    // several gets the candidates; naming one (by alias too) runs.
    let explicit = server
        .session(json!({"user_id": "quinn", "toolkits": ["github"], "multi_account": {"enable": true, "require_explicit_selection": true}}))
        .await;
    let path = format!("/api/v3.1/tool_router/session/{explicit}/execute");
    let (_, ambiguous) = server
        .call(
            "POST",
            &path,
            Some(json!({"tool_slug": "GITHUB_GET_ISSUE", "arguments": args})),
            Some(KEY),
        )
        .await;
    assert_eq!(ambiguous["result_type"], "failed");
    let message = ambiguous["error"].as_str().unwrap();
    assert!(
        message.contains(&work) && message.contains(&personal),
        "{message}"
    );
    let (_, chosen) = server
        .call("POST", &path, Some(call(&personal)), Some(KEY))
        .await;
    assert_eq!(chosen["result_type"], "completed", "{chosen}");
    // Without it, the user's first account is used.
    let (_, implicit) = server
        .call(
            "POST",
            &format!(
                "/api/v3.1/tool_router/session/{}/execute",
                server
                    .session(json!({"user_id": "quinn", "toolkits": ["github"]}))
                    .await
            ),
            Some(json!({"tool_slug": "GITHUB_GET_ISSUE", "arguments": args})),
            Some(KEY),
        )
        .await;
    assert_eq!(implicit["result_type"], "completed", "{implicit}");
}

#[tokio::test]
async fn uploads_and_saved_tool_output_are_charged_to_the_disk_quota() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_with_args(dir.path(), &up, &[], &["--disk-quota-mb", "2"]);
    let id = server
        .session(json!({"user_id": "quota", "toolkits": {"enable": ["github"]}}))
        .await;
    server
        .connect("quota", "github", "BEARER_TOKEN", json!({"token": "t"}))
        .await;
    let files = server.data.join(format!("sessions/{id}/files"));
    let base = format!("/api/v3.1/tool_router/session/{id}/mounts/files");

    // An upload larger than what is free: 413, and nothing left behind.
    // (The server answers before reading the whole body and closes the
    // connection: a client of its own keeps the shared pool clean.)
    let grant = server
        .ok(
            "POST",
            &format!("{base}/upload_url"),
            Some(json!({"mount_relative_path": "big.bin"})),
        )
        .await;
    let put = reqwest::Client::new()
        .put(grant["upload_url"].as_str().unwrap())
        .body(vec![7u8; 3 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 413);
    let body: Value = put.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disk quota"),
        "{body}"
    );
    let left: Vec<_> = std::fs::read_dir(&files).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");

    // A tool response too large to save: a clear failure, no partial file.
    let multi = export_issues(&server, &id, 500).await;
    let response = &multi["data"]["results"][0]["response"];
    assert_eq!(response["successful"], false, "{response:.300}");
    assert!(
        response["error"]
            .as_str()
            .unwrap_or_default()
            .contains("disk quota"),
        "{response:.300}"
    );
    let output = files.join(".composio/output");
    let saved: Vec<_> = std::fs::read_dir(&output).unwrap().flatten().collect();
    assert!(saved.is_empty(), "{saved:?}");

    // What fits is accepted.
    let grant = server
        .ok(
            "POST",
            &format!("{base}/upload_url"),
            Some(json!({"mount_relative_path": "small.bin"})),
        )
        .await;
    let put = server
        .client
        .put(grant["upload_url"].as_str().unwrap())
        .body(vec![7u8; 1 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
}

#[tokio::test]
async fn hostile_upstreams_cannot_break_a_session_or_take_credentials_elsewhere() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server
        .session(json!({"user_id": "rex", "toolkits": {"enable": ["github"]}}))
        .await;
    server
        .connect(
            "rex",
            "github",
            "BEARER_TOKEN",
            json!({"token": "rex-secret-token"}),
        )
        .await;
    let control = reqwest::Client::new();
    let arm = |fault: Value| {
        let control = control.clone();
        let url = format!("http://{}/_control/faults", up.addr);
        async move {
            let resp = control.post(url).json(&fault).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{fault}");
        }
    };
    let issue = "/github/repos/acme/widgets/issues/11";
    let get_issue = json!({"owner": "acme", "repo": "widgets", "issue_number": 11});

    // Retry-After values that are not durations, from a workbench cell: the
    // call fails cleanly and the session goes on.
    for value in ["inf", "1e300", "NaN", "-1"] {
        arm(json!({"path_prefix": issue, "status": 429, "times": 1, "retry_after": value})).await;
        let cell = server
            .execute(
                &id,
                "COMPOSIO_REMOTE_WORKBENCH",
                json!({"code_to_execute": "r, e = run_composio_tool('GITHUB_GET_ISSUE', {'owner': 'acme', 'repo': 'widgets', 'issue_number': 11})\n(bool(e), r.get('data', {}).get('number'))"}),
            )
            .await;
        assert_eq!(cell["data"]["status"], "ok", "{value}: {cell}");
        let result = cell["data"]["results"].as_str().unwrap();
        assert!(
            result == "(True, None)" || result == "(False, 11)",
            "{value}: {result}"
        );
        let again = server
            .execute(&id, "GITHUB_GET_ISSUE", get_issue.clone())
            .await;
        assert_eq!(again["data"]["number"], 11, "{value}: {again}");
    }

    // A redirect to another origin is not followed: the credential stays.
    arm(json!({"path_prefix": issue, "status": 302, "location": "http://localhost:9/steal"})).await;
    let run = server
        .execute(&id, "GITHUB_GET_ISSUE", get_issue.clone())
        .await;
    assert_eq!(run["result_type"], "failed", "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("redirect") && error.contains("http://localhost:9"),
        "{error}"
    );

    // Within the toolkit's origin a redirect is followed.
    let target = format!("http://{}/github/repos/acme/widgets/issues/12", up.addr);
    arm(json!({"path_prefix": issue, "status": 307, "location": target})).await;
    let run = server.execute(&id, "GITHUB_GET_ISSUE", get_issue).await;
    assert_eq!(run["data"]["number"], 12, "{run}");
}

/// Bytes of the database and its write-ahead log.
fn database_bytes(data: &Path) -> u64 {
    ["toolshed.db", "toolshed.db-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(data.join(name)).ok())
        .map(|m| m.len())
        .sum()
}

#[tokio::test]
async fn huge_bad_input_is_refused_before_it_is_stored() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server
        .session(json!({"user_id": "zed", "toolkits": {"enable": ["github"]}}))
        .await;
    server
        .connect("zed", "github", "BEARER_TOKEN", json!({"token": "t"}))
        .await;
    let before = database_bytes(dir.path());

    // From a cell: a 30 MB argument that fails validation, a 1 MB slug and a
    // slug with SQL in it. Each fails with a short message.
    let cell = server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "calls = [('GITHUB_GET_ISSUE', {'owner': 'x' * 30_000_000, 'repo': 'r', 'issue_number': 'nan'}), ('A' * 1_000_000, {}), (\"X'; DROP TABLE tool_logs; --\", {})]\nerrors = [e for r, e in run_composio_tools(calls)]\n[len(e) for e in errors], errors[1][:40], errors[2][:40]"}),
        )
        .await;
    assert_eq!(cell["data"]["status"], "ok", "{cell:.500}");
    let result = cell["data"]["results"].as_str().unwrap();
    let lengths: Vec<usize> = result[result.find('[').unwrap() + 1..result.find(']').unwrap()]
        .split(", ")
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(lengths.iter().all(|&n| 0 < n && n < 2048), "{result}");
    assert!(result.contains("invalid tool slug"), "{result}");

    // Over HTTP: the same argument in an execute request.
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{id}/execute"),
            Some(json!({"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "y".repeat(30_000_000), "repo": "r", "issue_number": "nan"}})),
            Some(KEY),
        )
        .await;
    assert!(status == 200 || status == 413, "{status}");
    assert!(body.to_string().len() < 8192, "{:.300}", body.to_string());

    // Sessions, config changes and accounts whose stored form would be
    // large are refused with a short message naming the field; nothing
    // quotes the input back whole.
    let big = "q".repeat(1_000_000);
    let many: Vec<String> = (0..100_000).map(|i| format!("toolkit{i}")).collect();
    let cases: Vec<(&str, String, Value, &str)> = vec![
        (
            "POST",
            "/api/v3.1/tool_router/session".into(),
            json!({"user_id": big}),
            "user_id",
        ),
        (
            "POST",
            "/api/v3.1/tool_router/session".into(),
            json!({"user_id": "u", "toolkits": {"enable": many}}),
            "config",
        ),
        (
            "POST",
            "/api/v3.1/tool_router/session".into(),
            json!({"user_id": "u", "multi_account": {"x": big}}),
            "multi_account",
        ),
        (
            "POST",
            "/api/v3.1/tool_router/session".into(),
            json!({"user_id": "u", "auth_configs": {"github": big}}),
            "config",
        ),
        (
            "PATCH",
            format!("/api/v3.1/tool_router/session/{id}"),
            json!({"tools": {"github": {"disable": many}}}),
            "config",
        ),
        (
            "POST",
            "/api/v3.1/connected_accounts".into(),
            json!({"user_id": "zed", "toolkit": "github", "auth_scheme": "BEARER_TOKEN", "credentials": {"token": big}}),
            "credentials",
        ),
        (
            "POST",
            "/api/v3.1/connected_accounts".into(),
            json!({"user_id": "zed", "toolkit": "github", "auth_scheme": "BEARER_TOKEN", "credentials": {"token": "t"}, "alias": big}),
            "alias",
        ),
        (
            "POST",
            "/api/v3.1/connected_accounts".into(),
            json!({"user_id": big, "toolkit": "github", "auth_scheme": "BEARER_TOKEN", "credentials": {"token": "t"}}),
            "user_id",
        ),
        (
            "POST",
            "/api/v3.1/connected_accounts".into(),
            json!({"user_id": "zed", "toolkit": big, "credentials": {"token": "t"}}),
            "toolkit",
        ),
        (
            "POST",
            format!("/api/v3.1/tool_router/session/{id}/execute"),
            json!({"tool_slug": big, "arguments": {}}),
            "not found",
        ),
        (
            "POST",
            format!("/api/v3.1/tool_router/session/{id}/execute_meta"),
            json!({"slug": big, "arguments": {}}),
            "slug",
        ),
        (
            "POST",
            format!("/api/v3.1/tool_router/session/{id}/execute"),
            json!({"tool_slug": "COMPOSIO_MANAGE_CONNECTIONS", "arguments": {"toolkits": [big]}}),
            "toolkits[0]",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, err) = server.call(method, &path, Some(body), Some(KEY)).await;
        assert!(status == 400 || status == 404, "{method} {path}: {status}");
        let text = err.to_string();
        assert!(text.len() < 1024, "{method} {path}: {:.300}", text);
        assert!(
            text.contains(field),
            "{method} {path}: {text} should name {field}"
        );
    }

    let after = database_bytes(dir.path());
    assert!(
        after.saturating_sub(before) < 512 << 10,
        "the database grew by {} bytes",
        after.saturating_sub(before)
    );
}

#[tokio::test]
async fn a_credential_canary_never_reaches_the_database_file_or_a_response() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let canary = "CANARY-e2e-5b1c0f";
    let id = server
        .session(json!({"user_id": "cat", "toolkits": {"enable": ["github"]}}))
        .await;
    let account = server
        .connect("cat", "github", "BEARER_TOKEN", json!({"token": canary}))
        .await;
    let mut seen = Vec::new();
    seen.push(
        server
            .execute(
                &id,
                "GITHUB_GET_ISSUE",
                json!({"owner": "acme", "repo": "widgets", "issue_number": 11}),
            )
            .await,
    );
    seen.push(
        server
            .execute(
                &id,
                "COMPOSIO_REMOTE_WORKBENCH",
                json!({"code_to_execute": "run_composio_tool('GITHUB_GET_ISSUE', {'owner': 'acme', 'repo': 'widgets', 'issue_number': 11})"}),
            )
            .await,
    );
    seen.push(
        server
            .ok(
                "GET",
                &format!("/api/v3.1/connected_accounts/{account}"),
                None,
            )
            .await,
    );
    seen.push(
        server
            .ok("GET", "/api/v3.1/connected_accounts?user_ids=cat", None)
            .await,
    );
    for response in &seen {
        assert!(!response.to_string().contains(canary), "{response}");
    }
    // The upstream got it; the database files do not hold it.
    let upstream_log = reqwest::get(format!("http://{}/_control/requests?limit=50", up.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(upstream_log.contains(canary));
    let mut stored = Vec::new();
    for name in ["toolshed.db", "toolshed.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(name)) {
            stored.extend(bytes);
        }
    }
    assert!(!stored.windows(canary.len()).any(|w| w == canary.as_bytes()));
}

#[tokio::test]
async fn upload_urls_work_once_and_file_urls_die_with_their_session() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "una"})).await;
    let base = format!("/api/v3.1/tool_router/session/{id}/mounts/files");
    let grant = |kind: &'static str| {
        let server = &server;
        let base = base.clone();
        async move {
            server
                .ok(
                    "POST",
                    &format!("{base}/{kind}"),
                    Some(json!({"mount_relative_path": "f.txt"})),
                )
                .await[kind]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let client = reqwest::Client::new();
    let upload = grant("upload_url").await;
    assert_eq!(
        client
            .put(&upload)
            .body("one")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Replaying the upload URL does not overwrite the file.
    assert_eq!(
        client
            .put(&upload)
            .body("two")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let download = grant("download_url").await;
    assert_eq!(
        client
            .get(&download)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "one"
    );
    let unused_upload = grant("upload_url").await;

    server
        .ok(
            "DELETE",
            &format!("/api/v3.1/tool_router/session/{id}"),
            None,
        )
        .await;
    assert_eq!(client.get(&download).send().await.unwrap().status(), 404);
    assert_eq!(
        client
            .put(&unused_upload)
            .body("x")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// A key of a new project in the server's data directory (made with the
/// CLI while the server runs).
/// Creates a session with `key` and runs `6 * 7` in its workbench: the
/// other project is served (200, "42").
async fn other_project_runs_a_cell(server: &Server, key: &str) {
    let (status, body) = server
        .call(
            "POST",
            "/api/v3.1/tool_router/session",
            Some(json!({"user_id": "b"})),
            Some(key),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let b = body["session_id"].as_str().unwrap().to_owned();
    let (status, run) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{b}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "6 * 7"}})),
            Some(key),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["data"]["results"], "42");
}

/// Runs a 4-second workbench cell in each session; resolves once every one
/// of them has started (each writes a marker into its files mount, which
/// this polls for through the API: no timing is asserted).
async fn start_slow_cells(
    server: &Server,
    sessions: &[String],
    key: &str,
) -> Vec<tokio::task::JoinHandle<(u16, Value)>> {
    let mut handles = Vec::new();
    for id in sessions {
        let url = format!("{}/api/v3.1/tool_router/session/{id}/execute", server.base);
        let key = key.to_owned();
        handles.push(tokio::spawn(async move {
            let resp = reqwest::Client::new()
                .post(url)
                .header("x-api-key", key)
                .json(&json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "open('/mnt/files/started', 'w').write('1')\nimport time\ntime.sleep(4)\n'done'"}}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json().await.unwrap())
        }));
    }
    for id in sessions {
        let mut started = false;
        for _ in 0..500 {
            let (_, items) = server
                .call(
                    "GET",
                    &format!("/api/v3.1/tool_router/session/{id}/mounts/files/items"),
                    None,
                    Some(key),
                )
                .await;
            if items.to_string().contains("started") {
                started = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(started, "the slow cell of {id} did not start");
    }
    handles
}

#[tokio::test]
async fn a_project_at_its_sandbox_limit_gets_429_while_another_project_runs() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_with_args(
        dir.path(),
        &up,
        &[],
        &[
            "--max-sandboxes-per-project",
            "2",
            "--sandbox-memory-mb",
            "256",
        ],
    );
    let other_key = new_project_key(dir.path(), "other");
    let a: Vec<String> = futures::future::join_all(
        (0..3).map(|i| server.session(json!({"user_id": format!("a{i}")}))),
    )
    .await;
    let slow = start_slow_cells(&server, &a[..2], KEY).await;

    // A third sandbox for project A: both of its sandboxes are busy.
    let resp = server
        .client
        .post(format!("{}/api/v3.1/tool_router/session/{}/execute", server.base, a[2]))
        .header("x-api-key", KEY)
        .json(&json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["slug"], "TooManyRequests", "{body}");

    // Project B is not held up.
    other_project_runs_a_cell(&server, &other_key).await;

    // Once A's cells end, its third session gets a sandbox (an idle one is
    // evicted to make room).
    for handle in slow {
        let (status, body) = handle.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let run = server
        .execute(
            &a[2],
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "1 + 1"}),
        )
        .await;
    assert_eq!(run["data"]["results"], "2", "{run}");
}

#[tokio::test]
async fn a_project_at_its_cell_limit_queues_then_gets_429_while_another_project_runs() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_with_args(
        dir.path(),
        &up,
        &[],
        &[
            "--max-cells-per-project",
            "2",
            "--cell-queue-wait-secs",
            "1",
            "--sandbox-memory-mb",
            "256",
        ],
    );
    let other_key = new_project_key(dir.path(), "other");
    let a: Vec<String> = futures::future::join_all(
        (0..3).map(|i| server.session(json!({"user_id": format!("a{i}")}))),
    )
    .await;
    // A third session of project A warms its sandbox first: the limit is on
    // running cells, not on sandboxes.
    let warm = server
        .execute(
            &a[2],
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "x = 5"}),
        )
        .await;
    assert_eq!(warm["data"]["status"], "ok", "{warm}");
    let slow = start_slow_cells(&server, &a[..2], KEY).await;

    // Both of A's cell slots are taken: the third cell (shell or Python)
    // waits its second, then gets 429 with Retry-After.
    for (slug, arguments) in [
        ("COMPOSIO_REMOTE_WORKBENCH", json!({"code_to_execute": "x"})),
        ("COMPOSIO_REMOTE_BASH_TOOL", json!({"command": "echo hi"})),
    ] {
        let resp = server
            .client
            .post(format!(
                "{}/api/v3.1/tool_router/session/{}/execute",
                server.base, a[2]
            ))
            .header("x-api-key", KEY)
            .json(&json!({"tool_slug": slug, "arguments": arguments}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 429, "{slug}");
        assert_eq!(resp.headers()["retry-after"], "1");
        let body: Value = resp.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("2 cells"), "{body}");
    }

    // Project B's cells have slots of their own.
    other_project_runs_a_cell(&server, &other_key).await;

    // When A's cells end, the slots are free again and the refused cell's
    // session kept its state.
    for handle in slow {
        let (status, body) = handle.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let run = server
        .execute(
            &a[2],
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "x * 2"}),
        )
        .await;
    assert_eq!(run["data"]["results"], "10", "{run}");
}

#[tokio::test]
async fn the_server_memory_budget_evicts_idle_sandboxes_then_refuses_with_503() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_with_args(
        dir.path(),
        &up,
        &[],
        &[
            "--sandbox-memory-mb",
            "256",
            "--max-sandbox-memory-mb",
            "512",
        ],
    );
    let s: Vec<String> = futures::future::join_all(
        (0..3).map(|i| server.session(json!({"user_id": format!("m{i}")}))),
    )
    .await;
    let cell = |code: &str| json!({"code_to_execute": code});
    server
        .execute(&s[0], "COMPOSIO_REMOTE_WORKBENCH", cell("x = 'first'"))
        .await;
    server
        .execute(&s[1], "COMPOSIO_REMOTE_WORKBENCH", cell("x = 'second'"))
        .await;
    // A third sandbox does not fit: the least recently used idle one goes.
    let third = server
        .execute(&s[2], "COMPOSIO_REMOTE_WORKBENCH", cell("1"))
        .await;
    assert_eq!(third["data"]["status"], "ok", "{third}");
    let kept = server
        .execute(&s[1], "COMPOSIO_REMOTE_WORKBENCH", cell("x"))
        .await;
    assert_eq!(kept["data"]["results"], "'second'", "{kept}");
    // The evicted one was hibernated: it resumes with its variables.
    let evicted = server
        .execute(&s[0], "COMPOSIO_REMOTE_WORKBENCH", cell("x"))
        .await;
    assert_eq!(evicted["data"]["results"], "'first'", "{evicted}");
    assert_eq!(evicted["data"]["state_reset"], false, "{evicted}");

    // With every sandbox running a cell, a new one is refused: 503.
    let slow = start_slow_cells(&server, &s[..2], KEY).await;
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{}/execute", s[2]),
            Some(json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": cell("1")})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["slug"], "ServiceUnavailable");
    for handle in slow {
        assert_eq!(handle.await.unwrap().0, 200);
    }
}

/// `limit` issues of 20 kB each, exported through MULTI_EXECUTE (a large
/// response that is saved to the workbench).
async fn export_issues(server: &Server, session: &str, limit: u64) -> Value {
    server
        .execute(
            session,
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"sync_response_to_workbench": false, "tools": [{"tool_slug": "GITHUB_EXPORT_REPOSITORY_ISSUES",
                   "arguments": {"owner": "acme", "repo": "widgets", "limit": limit, "body_bytes": 20000}}]}),
        )
        .await
}

#[tokio::test]
async fn one_projects_bulk_job_does_not_queue_another_projects_call() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let b_key = new_project_key(dir.path(), "b");
    let a = server
        .session(json!({"user_id": "bulk", "toolkits": {"enable": ["github"]}}))
        .await;
    server
        .connect("bulk", "github", "BEARER_TOKEN", json!({"token": "a"}))
        .await;
    // Every call of A's bulk job hangs for a while upstream.
    let slow = "/github/repos/acme/widgets/issues/11";
    reqwest::Client::new()
        .post(format!("http://{}/_control/faults", up.addr))
        .json(&json!({"path_prefix": slow, "status": "timeout", "sleep_ms": 4000, "times": 200}))
        .send()
        .await
        .unwrap();
    let url = format!("{}/api/v3.1/tool_router/session/{a}/execute", server.base);
    let bulk = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .header("x-api-key", KEY)
            .json(&json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "len(run_composio_tools([('GITHUB_GET_ISSUE', {'owner': 'acme', 'repo': 'widgets', 'issue_number': 11})] * 150, max_concurrency=150))"}}))
            .send()
            .await
            .unwrap()
            .status()
    });
    // Wait until A holds every permit of its toolkit (64 calls upstream).
    let addr = up.addr.to_string();
    let log = |limit: usize| {
        let addr = addr.clone();
        async move {
            reqwest::get(format!("http://{addr}/_control/requests?limit={limit}"))
                .await
                .unwrap()
                .json::<Vec<Value>>()
                .await
                .unwrap()
        }
    };
    let mut waiting = false;
    for _ in 0..500 {
        let seen = log(500).await;
        if seen.iter().filter(|r| r["path"] == slow).count() >= 64 {
            waiting = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(waiting, "A's bulk job did not reach the upstream");

    // B's single call to the same toolkit is served while all of A's calls
    // still hang: no A request has finished when B's answer arrives.
    let (status, body) = server
        .call(
            "POST",
            "/api/v3.1/tool_router/session",
            Some(json!({"user_id": "single", "toolkits": {"enable": ["github"]}})),
            Some(&b_key),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let b = body["session_id"].as_str().unwrap().to_owned();
    let (status, _) = server
        .call("POST", "/api/v3.1/connected_accounts", Some(json!({"user_id": "single", "toolkit": "github", "auth_scheme": "BEARER_TOKEN", "credentials": {"token": "b"}})), Some(&b_key))
        .await;
    assert_eq!(status, 200);
    let (status, run) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{b}/execute"),
            Some(json!({"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "issue_number": 12}})),
            Some(&b_key),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["data"]["number"], 12, "{run}");
    let finished = log(500)
        .await
        .iter()
        .filter(|r| r["path"] == slow && !r["status"].is_null())
        .count();
    assert_eq!(finished, 0, "B waited for A's calls");
    assert!(!bulk.is_finished());
    assert_eq!(bulk.await.unwrap(), 200);
}

#[tokio::test]
async fn a_project_over_its_request_rate_gets_429_and_others_do_not() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_with_args(
        dir.path(),
        &up,
        &[],
        &["--requests-per-second-per-project", "5"],
    );
    let calm_key = new_project_key(dir.path(), "calm");
    // A download URL, made before the flood (file URLs carry no key: they
    // count against the project that made them).
    let id = server.session(json!({"user_id": "u"})).await;
    let mount = format!("/api/v3.1/tool_router/session/{id}/mounts/files");
    let grant = server
        .ok(
            "POST",
            &format!("{mount}/upload_url"),
            Some(json!({"mount_relative_path": "f.txt"})),
        )
        .await;
    let put = server
        .client
        .put(grant["upload_url"].as_str().unwrap())
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let grant = server
        .ok(
            "POST",
            &format!("{mount}/download_url"),
            Some(json!({"mount_relative_path": "f.txt"})),
        )
        .await;
    let download = grant["download_url"].as_str().unwrap().to_owned();
    // 40 requests at once from one project: the burst (10) gets through,
    // the rest is told to come back.
    let statuses = futures::future::join_all((0..40).map(|_| {
        server.call(
            "GET",
            "/api/v3.1/tool_router/session?user_id=u",
            None,
            Some(KEY),
        )
    }))
    .await;
    let limited = statuses.iter().filter(|(s, _)| *s == 429).count();
    assert!(limited >= 20, "{limited} of 40 were limited");
    let (_, body) = statuses.iter().find(|(s, _)| *s == 429).unwrap();
    assert_eq!(body["error"]["slug"], "TooManyRequests");
    // The project's file URLs are limited with it.
    let downloads =
        futures::future::join_all((0..20).map(|_| server.client.get(&download).send())).await;
    let limited = downloads
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.status() == 429))
        .count();
    assert!(limited >= 10, "{limited} of 20 downloads were limited");
    // Another project is unaffected.
    for _ in 0..5 {
        let (status, body) = server
            .call(
                "GET",
                "/api/v3.1/tool_router/session?user_id=u",
                None,
                Some(&calm_key),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn mcp_protocol_edges_are_clear_json_rpc_4xx_and_never_5xx() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "mia"})).await;
    let url = format!("{}/tool_router/{id}/mcp", server.base);
    let both = "application/json, text/event-stream";
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let post = |body: String, accept: &'static str, content_type: &'static str| {
        server
            .client
            .post(&url)
            .header("x-api-key", KEY)
            .header("accept", accept)
            .header("content-type", content_type)
            .header("mcp-protocol-version", "2025-11-25")
            .body(body)
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "malformed JSON",
            post("{not json".into(), both, "application/json"),
            400,
        ),
        (
            "no SSE in Accept",
            post(list.clone(), "application/json", "application/json"),
            406,
        ),
        (
            "wrong content type",
            post(list.clone(), both, "text/plain"),
            415,
        ),
        (
            "batch",
            post(format!("[{list},{list}]"), both, "application/json"),
            400,
        ),
        (
            "a notification",
            post(
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
                both,
                "application/json",
            ),
            202,
        ),
        (
            "a foreign Host",
            post(list.clone(), both, "application/json").header("host", "evil.example"),
            403,
        ),
        (
            "GET (no MCP sessions)",
            server
                .client
                .get(&url)
                .header("x-api-key", KEY)
                .header("accept", both),
            405,
        ),
    ];
    for (what, request, status) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        if status >= 400 {
            // Refusals are JSON-RPC errors a client can read.
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["jsonrpc"], "2.0", "{what}: {body}");
            assert!(body["error"]["code"].as_i64().is_some(), "{what}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{what}"
            );
        }
    }

    // Over 32 MiB (the REST bound too): 413, answered while the client may
    // still be writing (so the client may see the connection close
    // instead); the server goes on.
    let oversize = reqwest::Client::new()
        .post(&url)
        .header("x-api-key", KEY)
        .header("accept", both)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "x".repeat(33 << 20)}}}).to_string())
        .send()
        .await;
    match oversize {
        Ok(response) => assert_eq!(response.status(), 413),
        Err(err) => assert!(err.is_request(), "{err}"),
    }

    // An unknown method is a JSON-RPC error, not an HTTP failure.
    let response = post(
        json!({"jsonrpc": "2.0", "id": 7, "method": "nope/nope"}).to_string(),
        both,
        "application/json",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], 7);
    assert_eq!(body["error"]["code"], -32601, "{body}");

    // The key may come as a bearer token; a listing works without any
    // handshake (no MCP session state).
    let response = server
        .client
        .post(&url)
        .header("authorization", format!("Bearer {KEY}"))
        .header("accept", both)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .body(list.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let names: Vec<&str> = body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"COMPOSIO_REMOTE_WORKBENCH"), "{body}");

    // No key: 401 in the API's envelope, before MCP sees the request.
    let response = server
        .client
        .post(&url)
        .header("accept", both)
        .header("content-type", "application/json")
        .body(list)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["slug"], "Unauthorized");
}

/// `time.time()` at the start of a trivial cell in `session`, as a string.
async fn cell_start_time(server: &Server, session: &str, key: &str) -> (u16, Value) {
    server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "import time\ntime.time()"}})),
            Some(key),
        )
        .await
}

#[tokio::test]
async fn queued_cells_wait_their_sessions_turn_and_deleted_sessions_stay_deleted() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_with_args(
        dir.path(),
        &up,
        &[],
        &["--max-cells-per-project", "1", "--sandbox-memory-mb", "256"],
    );
    let post_cell = |session: String, code: &'static str| {
        let base = server.base.clone();
        tokio::spawn(async move {
            let resp = reqwest::Client::new()
                .post(format!("{base}/api/v3.1/tool_router/session/{session}/execute"))
                .header("x-api-key", KEY)
                .json(&json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": code}}))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        })
    };
    let time = |v: &Value| -> f64 { v["data"]["results"].as_str().unwrap().parse().unwrap() };

    // A's second cell waits for A's turn, not for the project's only slot,
    // so B (sent after it) gets the slot first.
    let a = server.session(json!({"user_id": "a"})).await;
    let b = server.session(json!({"user_id": "b"})).await;
    let slow = start_slow_cells(&server, std::slice::from_ref(&a), KEY).await;
    let a2 = post_cell(a.clone(), "import time\ntime.time()");
    let (status, b_run) = cell_start_time(&server, &b, KEY).await;
    assert_eq!(status, 200, "{b_run}");
    for handle in slow {
        assert_eq!(handle.await.unwrap().0, 200);
    }
    let (status, a2) = a2.await.unwrap();
    assert_eq!(status, 200, "{a2}");
    assert!(
        time(&b_run) < time(&a2),
        "B ran at {} and A's queued cell at {}: the queued cell held the slot",
        time(&b_run),
        time(&a2)
    );

    // C's cell waits for the slot (D holds it); C is deleted meanwhile: the
    // waiting cell does not bring it back.
    let c = server.session(json!({"user_id": "c"})).await;
    let d = server.session(json!({"user_id": "d"})).await;
    let slow = start_slow_cells(&server, std::slice::from_ref(&d), KEY).await;
    let c_call = post_cell(c.clone(), "open('/mnt/files/zombie', 'w').write('x')");
    let (status, _) = server
        .call(
            "DELETE",
            &format!("/api/v3.1/tool_router/session/{c}"),
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 200);
    for handle in slow {
        assert_eq!(handle.await.unwrap().0, 200);
    }
    let (status, body) = c_call.await.unwrap();
    assert_eq!(status, 404, "{body}");
    assert!(
        !dir.path().join("sessions").join(&c).exists(),
        "the deleted session's directory came back"
    );
}

#[tokio::test]
async fn revoking_a_key_rotates_its_projects_mcp_tokens() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let key = new_project_key(dir.path(), "leaky");
    let (status, session) = server
        .call(
            "POST",
            "/api/v3.1/tool_router/session",
            Some(json!({"user_id": "l"})),
            Some(&key),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let url = session["mcp"]["url"].as_str().unwrap().to_owned();
    let token = session["mcp"]["headers"]["x-api-key"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = |token: String| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .header("x-api-key", token)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("mcp-protocol-version", "2025-11-25")
                .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(list(token.clone()).await, 200);
    let listed = Command::new(env!("CARGO_BIN_EXE_toolshed"))
        .args(["keys", "list", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let prefix: String = key.chars().take(8).collect();
    let key_id = String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .find(|l| l.contains(&prefix))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();
    let revoked = Command::new(env!("CARGO_BIN_EXE_toolshed"))
        .args(["keys", "revoke", &key_id, "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(revoked.status.success(), "{revoked:?}");
    assert_eq!(list(token).await, 401, "the old MCP token still works");
}

#[tokio::test]
async fn an_early_refusal_of_a_body_closes_the_connection_cleanly() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let id = server.session(json!({"user_id": "z"})).await;
    // One keep-alive client, many refused bodies: every answer arrives (no
    // dropped connections), each saying it closes.
    let client = reqwest::Client::new();
    for i in 0..200 {
        let resp = client
            .post(format!(
                "{}/api/v3.1/tool_router/session/{id}/execute",
                server.base
            ))
            .header("x-api-key", "ts_wrong_key")
            .json(&json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "x".repeat(50_000)}}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["connection"], "close");
    }
}

#[tokio::test]
async fn mcp_accepts_an_operator_allowed_host_and_no_other() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_with_args(
        dir.path(),
        &up,
        &[],
        &["--mcp-allowed-host", "tools.example.com"],
    );
    let id = server.session(json!({"user_id": "h"})).await;
    let url = format!("{}/tool_router/{id}/mcp", server.base);
    let list = |host: &'static str| {
        server
            .client
            .post(&url)
            .header("host", host)
            .header("x-api-key", KEY)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-11-25")
            .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string())
            .send()
    };
    // The operator's host (any port), loopback names; not a look-alike.
    for (host, status) in [
        ("tools.example.com", 200),
        ("tools.example.com:8443", 200),
        ("localhost", 200),
        ("tools.example.com.evil.net", 403),
        ("evil.tools.example.com", 403),
    ] {
        let response = list(host).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{host}");
    }
}

#[tokio::test]
async fn multi_account_bounds_how_many_accounts_a_session_connects() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    for (block, field) in [
        (
            json!({"enable": true, "max_accounts_per_toolkit": 11}),
            "multi_account.max_accounts_per_toolkit",
        ),
        (
            json!({"enable": true, "max_accounts_per_toolkit": 1}),
            "multi_account.max_accounts_per_toolkit",
        ),
        (json!({"enable": "yes"}), "multi_account.enable"),
        (json!({"enabled": true}), "multi_account"),
    ] {
        let (status, body) = server
            .call(
                "POST",
                "/api/v3.1/tool_router/session",
                Some(json!({"user_id": "max", "multi_account": block})),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{block}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{block}: {body}"
        );
    }
    let session = server
        .session(json!({"user_id": "max", "toolkits": ["linear"], "multi_account": {"enable": true, "max_accounts_per_toolkit": 2}}))
        .await;
    let got = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{session}"),
            None,
        )
        .await;
    assert_eq!(
        got["config"]["multi_account"]["max_accounts_per_toolkit"], 2,
        "{got}"
    );
    let link = format!("/api/v3.1/tool_router/session/{session}/link");
    // Links do not count until they are completed.
    for _ in 0..3 {
        server
            .ok("POST", &link, Some(json!({"toolkit": "linear"})))
            .await;
    }
    server
        .connect("max", "linear", "API_KEY", json!({"api_key": "a"}))
        .await;
    server
        .ok("POST", &link, Some(json!({"toolkit": "linear"})))
        .await;
    let second = server
        .connect("max", "linear", "API_KEY", json!({"api_key": "b"}))
        .await;
    let (status, body) = server
        .call("POST", &link, Some(json!({"toolkit": "linear"})), Some(KEY))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_accounts_per_toolkit = 2"),
        "{body}"
    );
    // Room again once one is gone.
    server
        .ok(
            "DELETE",
            &format!("/api/v3.1/connected_accounts/{second}"),
            None,
        )
        .await;
    server
        .ok("POST", &link, Some(json!({"toolkit": "linear"})))
        .await;
}

/// Polls (bounded) until the session's checkpoint on disk holds every cell
/// that ran: the checkpoint exists and the changed-marker does not.
fn wait_for_checkpoint(folder: &Path) {
    for _ in 0..400 {
        if folder.join("interpreter.ckpt").exists() && !folder.join("interpreter.dirty").exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("no checkpoint was written in {}", folder.display());
}

#[tokio::test]
async fn kill_9_loses_only_the_cells_after_the_last_checkpoint_and_says_so() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let args = ["--checkpoint-after-secs", "1"];
    let mut server = start_server_with_args(dir.path(), &up, &[], &args);
    let id = server.session(json!({"user_id": "kim"})).await;
    let folder = dir.path().join("sessions").join(&id);
    let cell = |code: &str| json!({"code_to_execute": code});
    server
        .execute(&id, "COMPOSIO_REMOTE_WORKBENCH", cell("a = 1"))
        .await;
    wait_for_checkpoint(&folder);
    // A cell after the checkpoint, then the server dies before the next.
    server
        .execute(&id, "COMPOSIO_REMOTE_WORKBENCH", cell("b = 2"))
        .await;
    assert!(folder.join("interpreter.dirty").exists());
    server.stop();

    let mut server = start_server_with_args(dir.path(), &up, &[], &args);
    let out = server
        .execute(
            &id,
            "COMPOSIO_REMOTE_WORKBENCH",
            cell("(a, 'b' in globals())"),
        )
        .await;
    assert_eq!(out["data"]["results"], "(1, False)", "{out}");
    assert_eq!(out["data"]["state_reset"], true, "{out}");
    let reason = out["data"]["state_reset_reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("resumed from the checkpoint of 20") && reason.contains("lost"),
        "{out}"
    );

    // Once the checkpoint holds every cell, kill -9 loses nothing.
    server
        .execute(&id, "COMPOSIO_REMOTE_WORKBENCH", cell("c = a + 2"))
        .await;
    wait_for_checkpoint(&folder);
    server.stop();
    let server = start_server_with_args(dir.path(), &up, &[], &args);
    let out = server
        .execute(&id, "COMPOSIO_REMOTE_WORKBENCH", cell("(a, c)"))
        .await;
    assert_eq!(out["data"]["results"], "(1, 3)", "{out}");
    assert_eq!(out["data"]["state_reset"], false, "{out}");
    assert!(out["data"].get("state_reset_reason").is_none(), "{out}");
}
