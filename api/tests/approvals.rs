//! Approvals over real HTTP: a call the session's config marks
//! `require_approval` returns `input_required` instead of running; the same
//! call with `input_responses` runs (approved) or fails (denied); pending
//! questions and session-wide approvals survive a restart; MULTI_EXECUTE
//! asks before running any item; a workbench cell cannot run an unapproved
//! tool; `experimental.permissions` overrides decide per tool and account.

mod common;

use common::*;
use serde_json::{Value, json};

fn issue() -> Value {
    json!({"owner": "acme", "repo": "widgets", "title": "Approved issue"})
}

async fn execute(server: &Server, session: &str, body: Value) -> (u16, Value) {
    server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/execute"),
            Some(body),
            Some(KEY),
        )
        .await
}

/// The requests the upstream fixture received (method and path).
async fn upstream_writes(up: &Upstream) -> Vec<String> {
    up.requests(10_000)
        .await
        .iter()
        .filter(|r| r["method"] != "GET")
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect()
}

fn answer(question: &Value, decision: &str) -> Value {
    let id = question["input_requests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let response = if decision == "decline" {
        json!({"action": "decline"})
    } else {
        json!({"action": "accept", "content": {"decision": decision}})
    };
    json!({ id: response })
}

#[tokio::test]
async fn calls_needing_approval_wait_for_the_users_answer() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &up, &[]);
    server
        .connect("ned", "github", "BEARER_TOKEN", json!({"token": "gh-ned"}))
        .await;
    let session = server
        .session(json!({"user_id": "ned", "toolkits": ["github", "hackernews"],
            "tools": {"github": {"tags": {"require_approval": ["destructiveHint"]}, "require_approval": ["GITHUB_CREATE_ISSUE"]}}}))
        .await;
    let create = json!({"tool_slug": "GITHUB_CREATE_ISSUE", "arguments": issue()});

    // Asked, nothing runs; the answer has no data or log_id.
    let (status, question) = execute(&server, &session, create.clone()).await;
    assert_eq!(status, 200, "{question}");
    assert_eq!(question["result_type"], "input_required", "{question}");
    assert!(question.get("data").is_none() && question.get("log_id").is_none());
    let request = question["input_requests"]["approve_1"].clone();
    assert_eq!(request["type"], "elicitation");
    assert_eq!(request["mode"], "form");
    assert!(
        request["message"]
            .as_str()
            .unwrap()
            .contains("GITHUB_CREATE_ISSUE")
    );
    assert_eq!(
        request["requested_schema"]["properties"]["decision"]["enum"],
        json!(["approve", "always_approve", "deny"])
    );
    assert!(upstream_writes(&up).await.is_empty());

    // The question survives a restart; denied, the call fails and nothing
    // runs; the same request_state is spent.
    server.stop();
    let server = start_server(dir.path(), &up, &[]);
    let mut denied = create.clone();
    denied["input_responses"] = answer(&question, "deny");
    denied["request_state"] = question["request_state"].clone();
    let (status, out) = execute(&server, &session, denied.clone()).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["result_type"], "failed", "{out}");
    assert!(
        out["error"].as_str().unwrap().contains("did not approve"),
        "{out}"
    );
    assert!(upstream_writes(&up).await.is_empty());
    let (status, out) = execute(&server, &session, denied).await;
    assert_eq!(status, 400, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("request_state")
    );

    // Answers bind to their call: other arguments are refused.
    let (_, question) = execute(&server, &session, create.clone()).await;
    let mut other = json!({"tool_slug": "GITHUB_CREATE_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "title": "Something else"}});
    other["input_responses"] = answer(&question, "approve");
    other["request_state"] = question["request_state"].clone();
    let (status, out) = execute(&server, &session, other).await;
    assert_eq!(status, 400, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another call")
    );
    // Malformed answers are 400s.
    for (responses, state) in [
        (json!({"approve_1": {"action": "accept"}}), true),
        (json!({"approve_1": {"action": "maybe"}}), true),
        (
            json!({"approve_1": {"action": "accept", "content": {"decision": "approve"}}}),
            false,
        ),
    ] {
        let (_, question) = execute(&server, &session, create.clone()).await;
        let mut body = create.clone();
        body["input_responses"] = responses.clone();
        if state {
            body["request_state"] = question["request_state"].clone();
        }
        let (status, out) = execute(&server, &session, body).await;
        assert_eq!(status, 400, "{responses}: {out}");
    }

    // Approved, it runs, once: the next call asks again.
    let (_, question) = execute(&server, &session, create.clone()).await;
    let mut approved = create.clone();
    approved["input_responses"] = answer(&question, "approve");
    approved["request_state"] = question["request_state"].clone();
    let (_, out) = execute(&server, &session, approved).await;
    assert_eq!(out["result_type"], "completed", "{out}");
    assert_eq!(out["data"]["title"], "Approved issue");
    assert_eq!(
        upstream_writes(&up).await,
        ["POST /github/repos/acme/widgets/issues"]
    );
    let (_, question) = execute(&server, &session, create.clone()).await;
    assert_eq!(question["result_type"], "input_required");

    // always_approve holds for the session, across a restart.
    let mut always = create.clone();
    always["input_responses"] = answer(&question, "always_approve");
    always["request_state"] = question["request_state"].clone();
    let (_, out) = execute(&server, &session, always).await;
    assert_eq!(out["result_type"], "completed", "{out}");
    let mut server = server;
    server.stop();
    let server = start_server(dir.path(), &up, &[]);
    let (_, out) = execute(&server, &session, create.clone()).await;
    assert_eq!(out["result_type"], "completed", "{out}");

    // MULTI_EXECUTE asks before running anything; a declined item fails
    // and the others run.
    let delete = json!({"tool_slug": "GITHUB_DELETE_ISSUE_COMMENT", "arguments": {"owner": "acme", "repo": "widgets", "comment_id": 1500000131}});
    let multi = json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {
        "sync_response_to_workbench": false,
        "tools": [{"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}, delete]}});
    let before = upstream_writes(&up).await.len();
    let (_, question) = execute(&server, &session, multi.clone()).await;
    assert_eq!(question["result_type"], "input_required", "{question}");
    assert_eq!(question["input_requests"].as_object().unwrap().len(), 1);
    assert!(
        question["input_requests"]["approve_1"]["message"]
            .as_str()
            .unwrap()
            .contains("GITHUB_DELETE_ISSUE_COMMENT")
    );
    let mut declined = multi.clone();
    declined["input_responses"] = answer(&question, "decline");
    declined["request_state"] = question["request_state"].clone();
    let (_, out) = execute(&server, &session, declined).await;
    let results = &out["data"]["results"];
    assert_eq!(results[0]["response"]["successful"], true, "{out}");
    assert_eq!(results[1]["response"]["successful"], false, "{out}");
    assert!(
        results[1]["response"]["error"]
            .as_str()
            .unwrap()
            .contains("did not approve")
    );
    assert_eq!(
        upstream_writes(&up).await.len(),
        before,
        "nothing was deleted"
    );

    // A cell cannot ask: an unapproved tool is an error tuple.
    let cell = "r, err = run_composio_tool('GITHUB_DELETE_ISSUE_COMMENT', {'owner': 'acme', 'repo': 'widgets', 'comment_id': 1500000131})\n(r, err)";
    let out = server
        .execute(
            &session,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": cell}),
        )
        .await;
    let results = out["data"]["results"].as_str().unwrap();
    assert!(results.contains("needs the user's approval"), "{out}");
    assert_eq!(upstream_writes(&up).await.len(), before);

    // Nor can a raw proxy request do what the tool does: the REST route,
    // the meta tool and the workbench helper all refuse the toolkit.
    let (status, out) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/proxy_execute"),
            Some(json!({"toolkit_slug": "github", "endpoint": "/repos/acme/widgets/issues/comments/1500000131", "method": "DELETE"})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 403, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("approval"),
        "{out}"
    );
    let cell = "r, err = proxy_execute('DELETE', '/repos/acme/widgets/issues/comments/1500000131', 'github')\nerr";
    let out = server
        .execute(
            &session,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": cell}),
        )
        .await;
    assert!(
        out["data"]["results"]
            .as_str()
            .unwrap()
            .contains("approval"),
        "{out}"
    );
    assert_eq!(upstream_writes(&up).await.len(), before);
    // A toolkit with nothing under approval still takes proxy requests.
    let (status, out) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/proxy_execute"),
            Some(json!({"toolkit_slug": "hackernews", "endpoint": "/v0/item/1.json", "method": "GET"})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 200, "{out}");
}

#[tokio::test]
async fn permissions_decide_per_tool_and_account() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let account = server
        .connect("ola", "github", "BEARER_TOKEN", json!({"token": "gh-ola"}))
        .await;
    let session = server
        .session(json!({"user_id": "ola", "toolkits": ["github", "hackernews"]}))
        .await;
    let path = format!("/api/v3.1/tool_router/session/{session}");
    // Strict shapes: a bad value names the field.
    for bad in [
        json!({"default": "sometimes"}),
        json!({"default": "allow_all", "overrides": {"X:y": "perhaps"}}),
        json!({"default": "allow_all", "extra": 1}),
    ] {
        let (status, out) = server
            .call(
                "PATCH",
                &path,
                Some(json!({"experimental": {"permissions": bad}})),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{out}");
    }
    let (status, out) = server
        .call(
            "PATCH",
            &path,
            Some(json!({"experimental": {"no_elicitation_support_fallback": "maybe"}})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400, "{out}");
    server
        .ok(
            "PATCH",
            &path,
            Some(json!({"experimental": {"permissions": {"default": "ask_once_per_session", "overrides": {
                "HACKERNEWS_GET_ITEM:__none__": "always_allow",
                format!("GITHUB_LIST_BRANCHES:{account}"): "always_deny",
                format!("*:{account}"): "ask_once"}}}})),
        )
        .await;
    let hn = json!({"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}});
    let (_, out) = execute(&server, &session, hn).await;
    assert_eq!(out["result_type"], "completed", "{out}");
    let branches = json!({"tool_slug": "GITHUB_LIST_BRANCHES", "arguments": {"owner": "acme", "repo": "widgets"}});
    let (_, out) = execute(&server, &session, branches).await;
    assert_eq!(out["result_type"], "failed", "{out}");
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("denied by this session's permissions")
    );
    // ask_once: approved once, remembered for the session.
    let repo = json!({"tool_slug": "GITHUB_GET_REPOSITORY", "arguments": {"owner": "acme", "repo": "widgets"}});
    let (_, question) = execute(&server, &session, repo.clone()).await;
    assert_eq!(question["result_type"], "input_required", "{question}");
    let mut approved = repo.clone();
    approved["input_responses"] = answer(&question, "approve");
    approved["request_state"] = question["request_state"].clone();
    let (_, out) = execute(&server, &session, approved).await;
    assert_eq!(out["result_type"], "completed", "{out}");
    let (_, out) = execute(&server, &session, repo).await;
    assert_eq!(out["result_type"], "completed", "{out}");
    // The config echoes what was set.
    let got = server.ok("GET", &path, None).await;
    assert_eq!(
        got["config"]["permissions"]["default"],
        "ask_once_per_session"
    );
}
