//! COMPOSIO_SUBMIT_FEEDBACK over real HTTP: offered only to sessions with
//! `experimental.submit_feedback.enable`, stored per project, listed for
//! the operator by `toolshed feedback`.

mod common;

use common::*;
use serde_json::json;
use std::process::Command;

const SLUG: &str = "COMPOSIO_SUBMIT_FEEDBACK";

#[tokio::test]
async fn feedback_is_offered_when_enabled_and_kept_for_the_operator() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &up, &[]);
    let on = server
        .session(json!({"user_id": "fay", "experimental": {"submit_feedback": {"enable": true}, "assistive_prompt": "x"}}))
        .await;
    let off = server.session(json!({"user_id": "fay"})).await;
    let listed = |tools: serde_json::Value| {
        tools["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["slug"] == SLUG)
    };
    let tools = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{on}/tools"),
            None,
        )
        .await;
    assert!(listed(tools));
    let tools = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{off}/tools"),
            None,
        )
        .await;
    assert!(!listed(tools));

    let out = server
        .execute(
            &on,
            SLUG,
            json!({"feedback": "GITHUB_GET_REPOSITORY returned\tan empty\nbody", "kind": "empty_result", "tool_slug": "github_get_repository", "log_id": "log_123"}),
        )
        .await;
    assert!(
        out["data"]["feedback_id"]
            .as_str()
            .unwrap()
            .starts_with("fb_"),
        "{out}"
    );
    for (session, arguments, says) in [
        (&off, json!({"feedback": "x"}), "COMPOSIO_SUBMIT_FEEDBACK"),
        (&on, json!({"feedback": "  "}), "feedback"),
        (&on, json!({"feedback": "x", "kind": "rude"}), "kind"),
        (
            &on,
            json!({"feedback": "x", "tool_slug": "no spaces"}),
            "tool_slug",
        ),
        (&on, json!({"feedback": "x".repeat(4001)}), "feedback"),
    ] {
        let (status, body) = server
            .call(
                "POST",
                &format!("/api/v3.1/tool_router/session/{session}/execute"),
                Some(json!({"tool_slug": SLUG, "arguments": arguments})),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    // Turned off again by PATCH.
    server
        .ok(
            "PATCH",
            &format!("/api/v3.1/tool_router/session/{on}"),
            Some(json!({"experimental": {"submit_feedback": null}})),
        )
        .await;
    let tools = server
        .ok(
            "GET",
            &format!("/api/v3.1/tool_router/session/{on}/tools"),
            None,
        )
        .await;
    assert!(!listed(tools));

    server.stop();
    let out = Command::new(env!("CARGO_BIN_EXE_toolshed"))
        .args(["feedback", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let fields: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(
        &fields[2..],
        [
            on.as_str(),
            "empty_result",
            "GITHUB_GET_REPOSITORY",
            "log_123",
            "GITHUB_GET_REPOSITORY returned an empty body"
        ]
    );
}
