//! GraphQL tools (docs/TOOLKITS.md, "GraphQL tools") end to end: the real
//! `toolshed serve` binary and the Linear toolkit against the upstream
//! fixture's GraphQL endpoint.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::Command;

async fn linear_session(server: &Server) -> String {
    server
        .connect("alice", "linear", "API_KEY", json!({"api_key": "lin-key"}))
        .await;
    server
        .session(json!({"user_id": "alice", "toolkits": ["linear"]}))
        .await
}

async fn arm(up: &Upstream, fault: Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://{}/_control/faults", up.addr))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
}

#[tokio::test]
async fn arguments_are_variables_and_data_is_unwrapped() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let session = linear_session(&server).await;
    let eng = "7ea40000-0000-4000-8000-000000000001";
    let run = server
        .execute(
            &session,
            "LINEAR_LIST_ISSUES",
            json!({"teamId": eng, "stateType": "started", "first": 5}),
        )
        .await;
    assert!(run["error"].is_null(), "{run}");
    let nodes = run["data"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 5, "{run}");
    assert!(nodes.iter().all(|n| n["state"]["type"] == "started"));
    let sent = &up.requests(1).await[0];
    assert_eq!(sent["method"], "POST");
    assert_eq!(sent["path"], "/linear/graphql");
    assert_eq!(sent["headers"]["authorization"], "lin-key");
    let body: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["operationName"], "ListIssues");
    assert_eq!(
        body["variables"],
        json!({"teamId": eng, "stateType": "started", "first": 5})
    );
    assert!(body["query"].as_str().unwrap().contains("issues("));

    // A mutation's payload, and a nested result (`issue.comments`).
    let run = server
        .execute(
            &session,
            "LINEAR_CREATE_ISSUE",
            json!({"teamId": eng, "title": "From GraphQL", "priority": 2}),
        )
        .await;
    assert_eq!(run["data"]["success"], true, "{run}");
    assert!(
        run["data"]["issue"]["identifier"]
            .as_str()
            .unwrap()
            .starts_with("ENG-")
    );
    let run = server
        .execute(
            &session,
            "LINEAR_LIST_ISSUE_COMMENTS",
            json!({"id": "ENG-3"}),
        )
        .await;
    assert_eq!(run["data"]["nodes"].as_array().unwrap().len(), 3, "{run}");
    let run = server
        .execute(&session, "LINEAR_GET_CURRENT_USER", json!({}))
        .await;
    assert_eq!(run["data"]["name"], "Alice Nguyen", "{run}");
}

#[tokio::test]
async fn graphql_errors_are_tool_errors() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let session = linear_session(&server).await;
    let run = server
        .execute(&session, "LINEAR_GET_ISSUE", json!({"id": "ENG-99999"}))
        .await;
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("Entity not found") && error.contains("(at issue)"),
        "{run}"
    );
    // Invalid input answered in `errors` with HTTP 200 fails the call too.
    let run = server
        .execute(
            &session,
            "LINEAR_CREATE_ISSUE",
            json!({"teamId": "7ea40000-0000-4000-8000-000000000001", "title": "   "}),
        )
        .await;
    assert!(
        run["error"].as_str().unwrap_or_default().contains("title"),
        "{run}"
    );
    // Arguments are checked against the schema before any request.
    let before = up.requests(1000).await.len();
    let (_, run) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/execute"),
            Some(json!({"tool_slug": "LINEAR_GET_ISSUE", "arguments": {}})),
            Some(KEY),
        )
        .await;
    assert!(run.to_string().contains("id"), "{run}");
    assert_eq!(up.requests(1000).await.len(), before);
}

#[tokio::test]
async fn queries_are_retried_and_mutations_are_not() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let session = linear_session(&server).await;
    let fault =
        json!({"path_prefix": "/linear/graphql", "method": "POST", "status": 503, "times": 1});
    arm(&up, fault.clone()).await;
    let run = server
        .execute(&session, "LINEAR_LIST_TEAMS", json!({}))
        .await;
    assert!(run["error"].is_null(), "a query is retried: {run}");
    arm(&up, fault).await;
    let run = server
        .execute(
            &session,
            "LINEAR_CREATE_LABEL",
            json!({"name": "Once only"}),
        )
        .await;
    assert!(
        run["error"].as_str().unwrap_or_default().contains("503"),
        "a mutation is not retried: {run}"
    );
}

#[test]
fn bad_graphql_tools_stop_the_server_with_the_field() {
    let tool = |binding: &str, properties: &str| {
        format!(
            "slug = \"q\"\nname = \"Q\"\ndescription = \"Q.\"\nbase_url = \"https://q.example\"\n\
             [auth]\nschemes = [\"NO_AUTH\"]\n[[tools]]\nslug = \"Q_GET\"\nname = \"Get\"\n\
             description = \"Gets.\"\n{binding}\n[tools.input_parameters]\ntype = \"object\"\n{properties}\n"
        )
    };
    let id = "[tools.input_parameters.properties.id]\ntype = \"string\"\n";
    let cases = [
        (
            tool("graphql = { document = \"query {\" }", ""),
            "graphql.document",
        ),
        (
            tool(
                "graphql = { document = \"query Q($id: ID!) { q(id: $id) { a } }\" }",
                "required = []\n[tools.input_parameters.properties.id]\ntype = \"string\"",
            ),
            "input_parameters.required",
        ),
        (
            tool("graphql = { document = \"query Q { q { a } }\" }", id),
            "input_parameters",
        ),
        (
            tool(
                "graphql = { document = \"query Q { q { a } }\" }\nhttp = { method = \"GET\", path = \"/q\" }",
                "",
            ),
            "graphql",
        ),
        (
            tool("graphql = { document = \"subscription S { s }\" }", ""),
            "graphql.document",
        ),
    ];
    for (text, field) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("toolkits/q")).unwrap();
        std::fs::write(dir.path().join("toolkits/q/toolkit.toml"), &text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_toolshed"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .arg("--toolkits")
            .arg(dir.path().join("toolkits"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(&format!("(Q_GET).{field}")), "{field}: {err}");
    }
}
