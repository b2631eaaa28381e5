//! Project-level tools and toolkits over real HTTP, as `composio.tools.*`
//! and `composio.toolkits.*` call them: listing and filtering, running a
//! tool for a user outside any session, proxying with an account, and the
//! toolkits with their auth fields.

mod common;

use common::*;
use serde_json::{Value, json};

fn slugs(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["slug"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tools_are_listed_filtered_and_searched() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let all = server.ok("GET", "/api/v3.1/tools", None).await;
    let total = all["total_items"].as_u64().unwrap();
    assert!(total > 20, "{total} tools");
    let first = &all["items"][0];
    assert_eq!(first["deprecated"]["is_deprecated"], false);
    assert!(first["scope_requirements"].is_null());
    assert!(first["deprecated"]["displayName"].is_string());

    let some = server
        .ok(
            "GET",
            "/api/v3.1/tools?toolkit_slug=hackernews,SLACK&limit=9999",
            None,
        )
        .await;
    assert!(
        slugs(&some)
            .iter()
            .all(|s| s.starts_with("HACKERNEWS_") || s.starts_with("SLACK_"))
    );
    assert!(slugs(&some).iter().any(|s| s.starts_with("SLACK_")));
    // Exactly the named tools, all of them, whatever the page size.
    let named = server
        .ok(
            "GET",
            "/api/v3.1/tools?tool_slugs=slack_send_message,HACKERNEWS_GET_ITEM,NOPE&limit=1",
            None,
        )
        .await;
    assert_eq!(slugs(&named), ["SLACK_SEND_MESSAGE", "HACKERNEWS_GET_ITEM"]);
    let found = server
        .ok(
            "GET",
            "/api/v3.1/tools?query=send%20a%20message%20to%20a%20channel&toolkit_versions=latest",
            None,
        )
        .await;
    assert_eq!(slugs(&found)[0], "SLACK_SEND_MESSAGE", "{found}");
    let tagged = server
        .ok(
            "GET",
            "/api/v3.1/tools?toolkit_slug=slack&tags=destructiveHint&limit=10.0",
            None,
        )
        .await;
    assert!(!slugs(&tagged).is_empty());
    for item in tagged["items"].as_array().unwrap() {
        assert!(
            item["tags"]
                .as_array()
                .unwrap()
                .contains(&json!("destructiveHint")),
            "{item}"
        );
    }
    let paged = server
        .ok("GET", "/api/v3.1/tools?limit=2&cursor=2", None)
        .await;
    assert_eq!(slugs(&paged), slugs(&all)[2..4]);
    assert_eq!(paged["current_page"], 2);
    for bad in ["limit=abc", "limit=0", "limit=-3", "limit=", "cursor=x"] {
        let (status, body) = server
            .call("GET", &format!("/api/v3.1/tools?{bad}"), None, Some(KEY))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _) = server
        .call(
            "GET",
            "/api/v3.1/tools?auth_config_ids=ac_nope",
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_tool_runs_for_a_user_outside_any_session() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let run = |slug: &str, body: Value| {
        let path = format!("/api/v3.1/tools/execute/{slug}");
        let server = &server;
        async move { server.call("POST", &path, Some(body), Some(KEY)).await }
    };

    // A no-auth toolkit needs only the user.
    let (status, out) = run(
        "HACKERNEWS_GET_ITEM",
        json!({"user_id": "ann", "arguments": {"id": 1}, "version": "latest"}),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["successful"], true, "{out}");
    assert!(out["error"].is_null() && out["session_info"].is_null());
    assert!(out["data"].is_object());
    let log = out["log_id"].as_str().unwrap();
    server
        .ok("GET", &format!("/api/v3.1/logs/tool_execution/{log}"), None)
        .await;

    // No user named: Composio's default entity.
    let (status, out) = run("HACKERNEWS_GET_ITEM", json!({"arguments": {"id": 1}})).await;
    assert_eq!((status, &out["successful"]), (200, &json!(true)), "{out}");

    // Without an account the tool fails in the envelope, saying why.
    let (status, out) = run(
        "SLACK_LIST_CONVERSATIONS",
        json!({"user_id": "ann", "arguments": {}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(out["successful"], false);
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("connect"),
        "{out}"
    );

    // With one, by user or by account id.
    let account = server
        .connect("ann", "slack", "BEARER_TOKEN", json!({"token": "xoxb-ann"}))
        .await;
    let (_, by_user) = run(
        "SLACK_LIST_CONVERSATIONS",
        json!({"user_id": "ann", "arguments": {}}),
    )
    .await;
    assert_eq!(by_user["successful"], true, "{by_user}");
    let (_, by_account) = run(
        "SLACK_LIST_CONVERSATIONS",
        json!({"connected_account_id": account, "arguments": {}}),
    )
    .await;
    assert_eq!(by_account["successful"], true, "{by_account}");

    // Bad input, each a 4xx naming what is wrong.
    for (slug, body, status, says) in [
        (
            "SLACK_LIST_CONVERSATIONS",
            json!({"connected_account_id": account, "user_id": "bob"}),
            404,
            "not found for user bob",
        ),
        (
            "SLACK_LIST_CONVERSATIONS",
            json!({"connected_account_id": "ca_nope"}),
            404,
            "ca_nope",
        ),
        ("NOPE_TOOL", json!({"user_id": "ann"}), 404, "NOPE_TOOL"),
        (
            "COMPOSIO_SEARCH_TOOLS",
            json!({"user_id": "ann"}),
            400,
            "session",
        ),
        (
            "HACKERNEWS_GET_ITEM",
            json!({"user_id": "ann", "text": "item one"}),
            400,
            "needs a language model",
        ),
        (
            "HACKERNEWS_GET_ITEM",
            json!({"user_id": "ann", "text": "item one", "arguments": {"id": 1}}),
            400,
            "not both",
        ),
        (
            "HACKERNEWS_GET_ITEM",
            json!({"user_id": "ann", "custom_auth_params": {}}),
            400,
            "custom_auth_params",
        ),
        ("HACKERNEWS_GET_ITEM", json!({"user_id": 7}), 400, "user_id"),
    ] {
        let (got, body) = run(slug, body.clone()).await;
        assert_eq!(got, status, "{slug} {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{slug}: {body}"
        );
    }

    // The proxy signs a request to the account's toolkit API.
    let (status, proxied) = server
        .call(
            "POST",
            "/api/v3.1/tools/execute/proxy",
            Some(json!({"endpoint": "/conversations.list", "method": "GET", "connected_account_id": account, "parameters": [{"name": "limit", "type": "query", "value": "1"}]})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 200, "{proxied}");
    assert_eq!(proxied["status"], 200);
    assert!(proxied["data"].is_object());
    for (body, says) in [
        (
            json!({"endpoint": "/conversations.list", "method": "GET"}),
            "connected_account_id",
        ),
        (
            json!({"endpoint": "/x", "method": "GET", "connected_account_id": account, "binary_body": {"url": "x"}}),
            "binary_body",
        ),
        (
            json!({"endpoint": "/x", "method": "TRACE", "connected_account_id": account}),
            "method",
        ),
    ] {
        let (status, out) = server
            .call(
                "POST",
                "/api/v3.1/tools/execute/proxy",
                Some(body),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{out}");
        assert!(
            out["error"]["message"].as_str().unwrap().contains(says),
            "{out}"
        );
    }
}

#[tokio::test]
async fn toolkits_list_with_categories_and_auth_fields() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let all = server.ok("GET", "/api/v3.1/toolkits", None).await;
    assert!(slugs(&all).contains(&"slack".to_owned()));
    let slack = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "slack")
        .unwrap();
    assert_eq!(slack["is_local_toolkit"], false);
    assert!(slack["meta"]["tools_count"].as_u64().unwrap() > 3);
    assert_eq!(slack["auth_schemes"], json!(["BEARER_TOKEN"]));
    let dev = server
        .ok("GET", "/api/v3.1/toolkits?category=developer-tools", None)
        .await;
    assert!(slugs(&dev).contains(&"github".to_owned()));
    assert!(!slugs(&dev).contains(&"slack".to_owned()));
    let searched = server
        .ok(
            "GET",
            "/api/v3.1/toolkits?search=hacker&sort_by=alphabetically",
            None,
        )
        .await;
    assert_eq!(slugs(&searched), ["hackernews"]);
    let (status, _) = server
        .call("GET", "/api/v3.1/toolkits?sort_by=size", None, Some(KEY))
        .await;
    assert_eq!(status, 400);

    let categories = server
        .ok("GET", "/api/v3.1/toolkits/categories", None)
        .await;
    let dev_tools = categories["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "developer-tools")
        .unwrap();
    assert_eq!(dev_tools["name"], "Developer Tools");

    let detail = server.ok("GET", "/api/v3.1/toolkits/SLACK", None).await;
    let scheme = &detail["auth_config_details"][0];
    assert_eq!(scheme["mode"], "BEARER_TOKEN");
    let needed = &scheme["fields"]["connected_account_initiation"]["required"][0];
    assert_eq!(
        (needed["name"].as_str(), needed["required"].as_bool()),
        (Some("token"), Some(true))
    );
    assert!(detail["meta"]["categories"].is_array() && detail["base_url"].is_string());
    let gmail = server.ok("GET", "/api/v3.1/toolkits/gmail", None).await;
    let oauth = gmail["auth_config_details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["mode"] == "OAUTH2")
        .unwrap();
    let creation: Vec<&str> = oauth["fields"]["auth_config_creation"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(creation, ["client_id", "client_secret"]);
    let (status, body) = server
        .call("GET", "/api/v3.1/toolkits/nope", None, Some(KEY))
        .await;
    assert_eq!(status, 404, "{body}");
}
