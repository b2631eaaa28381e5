//! Tool memory over real HTTP: facts recorded with
//! COMPOSIO_MULTI_EXECUTE_TOOL's `memory` are kept with the session
//! (deduplicated, bounded, across a restart), come back with the searches
//! they bear on, are visible to the operator, and go with the session.

mod common;

use common::*;
use serde_json::{Value, json};

async fn multi(server: &Server, session: &str, memory: Value) -> Value {
    server
        .execute(
            session,
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"tools": [{"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}],
                "sync_response_to_workbench": false, "memory": memory}),
        )
        .await
}

async fn search(server: &Server, session: &str, use_case: &str) -> Value {
    server
        .execute(
            session,
            "COMPOSIO_SEARCH_TOOLS",
            json!({"queries": [{"use_case": use_case}]}),
        )
        .await["data"]["results"][0]
        .clone()
}

#[tokio::test]
async fn facts_recorded_in_one_turn_are_found_by_the_next_search() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let session = server
        .session(json!({"user_id": "mia", "toolkits": ["github", "hackernews", "slack"]}))
        .await;
    let out = multi(
        &server,
        &session,
        json!({"GitHub": ["The user's main repo is acme/widgets", "the user's MAIN repo is  acme/widgets"],
            "slack": ["Channel general has ID C0001"]}),
    )
    .await;
    assert_eq!(out["data"]["memory"]["saved"], 2, "{out}");
    assert_eq!(out["data"]["memory"]["already_known"], 1, "{out}");
    assert_eq!(out["data"]["results"][0]["response"]["successful"], true);
    // An empty memory is fine and says nothing.
    let quiet = multi(&server, &session, json!({})).await;
    assert!(quiet["data"].get("memory").is_none(), "{quiet}");

    let found = search(&server, &session, "list open issues in the repository").await;
    assert_eq!(
        found["memory"],
        json!({"github": ["The user's main repo is acme/widgets"]}),
        "{found}"
    );
    let found = search(&server, &session, "post in the general channel").await;
    assert_eq!(
        found["memory"]["slack"],
        json!(["Channel general has ID C0001"])
    );
    assert!(found["memory"].get("github").is_none(), "{found}");
    let nothing = search(&server, &session, "top stories on hacker news").await;
    assert!(nothing.get("memory").is_none(), "{nothing}");
    // The session search endpoint carries it the same way.
    let direct = server
        .ok(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/search"),
            Some(json!({"queries": [{"use_case": "create an issue in the repo"}]})),
        )
        .await;
    assert_eq!(
        direct["results"][0]["memory"]["github"][0],
        "The user's main repo is acme/widgets"
    );

    // Bad memory is an argument error (400), and no tool runs.
    let upstream_calls = || async { up.requests(10_000).await.len() };
    let before = upstream_calls().await;
    for bad in [
        json!(["a fact"]),
        json!({"github": "a fact"}),
        json!({"github": [42]}),
        json!({"": ["x"]}),
    ] {
        let (status, out) = server
            .call(
                "POST",
                &format!("/api/v3.1/tool_router/session/{session}/execute"),
                Some(
                    json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {
                    "tools": [{"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}],
                    "sync_response_to_workbench": false, "memory": bad}}),
                ),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {out}");
        assert!(
            out["error"]["message"].as_str().unwrap().contains("memory"),
            "{bad}: {out}"
        );
    }
    assert_eq!(upstream_calls().await, before, "no tool ran");

    // Kept across a restart; the operator sees it.
    let mut server = server;
    server.stop();
    let server = start_server(dir.path(), &up, &[]);
    let found = search(&server, &session, "who starred the repository").await;
    assert_eq!(
        found["memory"]["github"][0],
        "The user's main repo is acme/widgets"
    );
    let path = format!("/api/v3.1/tool_router/session/{session}/memory");
    let seen = server.ok("GET", &path, None).await;
    assert_eq!(seen["total_facts"], 2, "{seen}");
    assert_eq!(seen["memory"]["slack"][0], "Channel general has ID C0001");
    let other = new_project_key(dir.path(), "other");
    let (status, _) = server.call("GET", &path, None, Some(&other)).await;
    assert_eq!(status, 404, "another project's session");

    // A full memory refuses more facts but still runs the tools.
    let many: Vec<String> = (0..100).map(|i| format!("fact number {i}")).collect();
    for round in 0..5 {
        let facts: Vec<String> = many
            .iter()
            .map(|f| format!("{f} of round {round}"))
            .collect();
        multi(&server, &session, json!({"notes": facts})).await;
    }
    let out = multi(&server, &session, json!({"notes": ["one too many"]})).await;
    assert_eq!(out["data"]["memory"]["saved"], 0, "{out}");
    assert!(
        out["data"]["memory"]["error"]
            .as_str()
            .unwrap()
            .contains("full"),
        "{out}"
    );
    assert_eq!(out["data"]["results"][0]["response"]["successful"], true);

    // Deleting the session deletes its memory.
    server
        .ok(
            "DELETE",
            &format!("/api/v3.1/tool_router/session/{session}"),
            None,
        )
        .await;
    let (status, _) = server.call("GET", &path, None, Some(KEY)).await;
    assert_eq!(status, 404);
    let db = rusqlite::Connection::open(dir.path().join("toolshed.db")).unwrap();
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM session_memory", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}
