//! Custom tools over real HTTP (the SDKs' experimental API): create and
//! attach check and name them and echo them with `original_slug`; search,
//! the session search and GET_TOOL_SCHEMAS see the ones a request carries;
//! a custom tool's call that reaches the server fails saying where it
//! runs, inside MULTI_EXECUTE too; bad definitions are 400s naming the
//! field.

mod common;

use common::*;
use serde_json::{Value, json};

fn customs() -> Value {
    json!({
        "custom_tools": [{
            "slug": "summarize_repo_health", "name": "Summarize repo health",
            "description": "Summarize the health of a GitHub repository: open issues, stale pull requests and release cadence.",
            "input_schema": {"type": "object", "properties": {"repo": {"type": "string"}}, "required": ["repo"]},
            "extends_toolkit": "github"
        }, {
            "slug": "translate-text", "name": "Translate text",
            "description": "Translate a piece of text into another language with the app's own translation service.",
            "input_schema": {"type": "object", "properties": {"text": {"type": "string"}, "language": {"type": "string"}}},
            "preload": true
        }],
        "custom_toolkits": [{
            "slug": "DEV_TOOLS", "name": "Dev tools", "description": "Local developer utilities.",
            "tools": [{
                "slug": "GREP", "name": "Grep the codebase",
                "description": "Search the app's local codebase for a regular expression and return matching lines.",
                "input_schema": {"type": "object", "properties": {"pattern": {"type": "string"}}, "required": ["pattern"]},
                "output_schema": {"type": "object", "properties": {"matches": {"type": "array"}}}
            }]
        }]
    })
}

#[tokio::test]
async fn custom_tools_are_named_echoed_found_and_routed_to_the_app() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let created = server
        .ok(
            "POST",
            "/api/v3.1/tool_router/session",
            Some(json!({"user_id": "cy", "toolkits": ["github", "hackernews"], "experimental": customs()})),
        )
        .await;
    let session = created["session_id"].as_str().unwrap().to_owned();
    let echo = &created["experimental"];
    let tools = echo["custom_tools"].as_array().unwrap();
    assert_eq!(tools[0]["slug"], "LOCAL_GITHUB_SUMMARIZE_REPO_HEALTH");
    assert_eq!(tools[0]["original_slug"], "summarize_repo_health");
    assert_eq!(tools[0]["extends_toolkit"], "github");
    assert_eq!(tools[1]["slug"], "LOCAL_TRANSLATE-TEXT");
    assert_eq!(tools[1]["preload"], true);
    let toolkit = &echo["custom_toolkits"][0];
    assert_eq!(toolkit["slug"], "DEV_TOOLS");
    assert_eq!(toolkit["tools"][0]["slug"], "LOCAL_DEV_TOOLS_GREP");
    assert_eq!(toolkit["tools"][0]["original_slug"], "GREP");
    // Not stored: a plain retrieve has none; attach brings them again.
    let path = format!("/api/v3.1/tool_router/session/{session}");
    let got = server.ok("GET", &path, None).await;
    assert_eq!(got["experimental"]["custom_tools"], json!([]));
    let attached = server
        .ok(
            "POST",
            &format!("{path}/attach"),
            Some(json!({"experimental": customs()})),
        )
        .await;
    assert_eq!(attached["session_id"], session.as_str());
    assert_eq!(
        attached["experimental"]["custom_toolkits"][0]["tools"][0]["slug"],
        "LOCAL_DEV_TOOLS_GREP"
    );

    // Search ranks them with the catalog's tools when the request carries
    // them (the execute body's `experimental`, as the SDKs send it).
    let search = |use_case: &str, with: bool| {
        let mut body = json!({"tool_slug": "COMPOSIO_SEARCH_TOOLS",
            "arguments": {"queries": [{"use_case": use_case}]}});
        if with {
            body["experimental"] = customs();
        }
        body
    };
    let found = server
        .ok(
            "POST",
            &format!("{path}/execute"),
            Some(search("grep the codebase for a regular expression", true)),
        )
        .await;
    let result = &found["data"]["results"][0];
    assert_eq!(
        result["primary_tool_slugs"][0], "LOCAL_DEV_TOOLS_GREP",
        "{found}"
    );
    assert!(
        found["data"]["tool_schemas"]["LOCAL_DEV_TOOLS_GREP"]["input_schema"]["required"]
            == json!(["pattern"])
    );
    let statuses = found["data"]["toolkit_connection_statuses"]
        .as_array()
        .unwrap();
    assert!(
        statuses
            .iter()
            .any(|s| s["toolkit"] == "dev_tools" && s["has_active_connection"] == true),
        "{found}"
    );
    let found = server
        .ok(
            "POST",
            &format!("{path}/execute"),
            Some(search("summarize the health of the repository", true)),
        )
        .await;
    assert_eq!(
        found["data"]["results"][0]["primary_tool_slugs"][0], "LOCAL_GITHUB_SUMMARIZE_REPO_HEALTH",
        "{found}"
    );
    let without = server
        .ok(
            "POST",
            &format!("{path}/execute"),
            Some(search("grep the codebase for a regular expression", false)),
        )
        .await;
    assert!(!without.to_string().contains("LOCAL_"), "{without}");
    // The session search endpoint takes them too.
    let direct = server
        .ok(
            "POST",
            &format!("{path}/search"),
            Some(json!({"queries": [{"use_case": "translate text into french"}], "experimental": customs()})),
        )
        .await;
    assert_eq!(
        direct["results"][0]["primary_tool_slugs"][0], "LOCAL_TRANSLATE-TEXT",
        "{direct}"
    );
    // And GET_TOOL_SCHEMAS.
    let schemas = server
        .ok(
            "POST",
            &format!("{path}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_GET_TOOL_SCHEMAS", "experimental": customs(),
                "arguments": {"tool_slugs": ["LOCAL_DEV_TOOLS_GREP"], "include": ["input_schema", "output_schema"]}})),
        )
        .await;
    let entry = &schemas["data"]["tool_schemas"]["LOCAL_DEV_TOOLS_GREP"];
    assert_eq!(entry["toolkit"], "dev_tools", "{schemas}");
    assert_eq!(
        entry["output_schema"]["properties"]["matches"]["type"],
        "array"
    );

    // They run in the app: a call that reaches the server says so, and a
    // MULTI_EXECUTE runs the rest.
    let (status, out) = server
        .call(
            "POST",
            &format!("{path}/execute"),
            Some(json!({"tool_slug": "LOCAL_DEV_TOOLS_GREP", "arguments": {"pattern": "x"}, "experimental": customs()})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["result_type"], "failed");
    assert!(
        out["error"].as_str().unwrap().contains("runs in the app"),
        "{out}"
    );
    let multi = server
        .execute(
            &session,
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"sync_response_to_workbench": false, "tools": [
                {"tool_slug": "LOCAL_TRANSLATE-TEXT", "arguments": {"text": "hi"}},
                {"tool_slug": "HACKERNEWS_GET_ITEM", "arguments": {"id": 1}}]}),
        )
        .await;
    let results = &multi["data"]["results"];
    assert_eq!(results[0]["response"]["successful"], false, "{multi}");
    assert!(
        results[0]["response"]["error"]
            .as_str()
            .unwrap()
            .contains("runs in the app")
    );
    assert_eq!(results[1]["response"]["successful"], true, "{multi}");
}

#[tokio::test]
async fn bad_custom_tools_are_refused_naming_the_field() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let tool = |patch: Value| {
        let mut tool = json!({"slug": "ok", "name": "Ok", "description": "Does it.",
            "input_schema": {"type": "object", "properties": {}}});
        for (k, v) in patch.as_object().unwrap() {
            tool[k] = v.clone();
        }
        json!({"custom_tools": [tool]})
    };
    let session = server.session(json!({"user_id": "cy"})).await;
    for wrong in [json!([]), json!("x"), json!(3)] {
        let (status, out) = server
            .call(
                "POST",
                &format!("/api/v3.1/tool_router/session/{session}/attach"),
                Some(json!({"experimental": wrong})),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{wrong}: {out}");
    }
    for (experimental, field) in [
        (tool(json!({"slug": "LOCAL_x"})), "custom_tools[0].slug"),
        (tool(json!({"slug": "composio_x"})), "custom_tools[0].slug"),
        (tool(json!({"slug": "has space"})), "custom_tools[0].slug"),
        (
            tool(json!({"slug": "x".repeat(60)})),
            "custom_tools[0].slug",
        ),
        (tool(json!({"name": ""})), "custom_tools[0].name"),
        (
            tool(json!({"input_schema": {"type": "string"}})),
            "custom_tools[0].input_schema",
        ),
        (
            tool(json!({"input_schema": {"type": "object", "minProperties": "x"}})),
            "custom_tools[0].input_schema",
        ),
        (
            tool(json!({"extends_toolkit": "nope"})),
            "custom_tools[0].extends_toolkit",
        ),
        (tool(json!({"surprise": 1})), "custom_tools"),
        (
            json!({"custom_tools": [{"slug": "a", "name": "A", "description": "A.", "input_schema": {"type": "object"}},
            {"slug": "A", "name": "A", "description": "A.", "input_schema": {"type": "object"}}]}),
            "custom_tools",
        ),
        (
            json!({"custom_toolkits": [{"slug": "kit", "name": "Kit", "description": "Kit.", "tools": []}]}),
            "custom_toolkits[0].tools",
        ),
        (
            json!({"custom_toolkits": [{"slug": "kit", "name": "Kit", "description": "Kit.", "tools": [
            {"slug": "a", "name": "A", "description": "A.", "input_schema": {"type": "object"}, "extends_toolkit": "github"}]}]}),
            "custom_toolkits[0].tools[0].extends_toolkit",
        ),
    ] {
        let (status, out) = server
            .call(
                "POST",
                "/api/v3.1/tool_router/session",
                Some(json!({"user_id": "cy", "experimental": experimental})),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{experimental}: {out}");
        let message = out["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("experimental.{field}")),
            "{field}: {message}"
        );
    }
}
