//! The workbench helpers that run on the host, over real HTTP: a cell's
//! `invoke_llm` asks the operator's OpenAI-compatible model (the upstream
//! fixture's, at `/_llm/v1`), `web_search` runs the catalog tool the
//! operator names; without settings each says how to get them, and bad
//! settings stop the server at start-up with the key named.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::Command;

fn config(dir: &std::path::Path, up: &Upstream, extra: &str) -> String {
    let path = dir.join("toolshed.toml");
    std::fs::write(
        &path,
        format!(
            "[llm]\nbase_url = \"http://{}/_llm/v1\"\nmodel = \"fixture-model\"\napi_key = \"test-llm-key\"\ntimeout_secs = 5\n{extra}",
            up.addr
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

async fn cell(server: &Server, session: &str, code: &str) -> Value {
    let out = server
        .execute(
            session,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": code}),
        )
        .await;
    out["data"].clone()
}

#[tokio::test]
async fn invoke_llm_and_web_search_use_the_operators_settings() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &up,
        "[workbench]\nweb_search_tool = \"GITHUB_SEARCH_REPOSITORIES\"\nweb_search_query_field = \"q\"\n",
    );
    let server = start_server_with_args(dir.path(), &up, &[], &["--config", &config]);
    let session = server.session(json!({"user_id": "lena"})).await;

    let out = cell(&server, &session, "invoke_llm('summarise: three apples')").await;
    assert_eq!(
        out["results"], "('echo: summarise: three apples', '')",
        "{out}"
    );
    let out = cell(
        &server,
        &session,
        "invoke_llm('hi', reasoning_effort='high')",
    )
    .await;
    assert_eq!(out["results"], "('echo: hi (effort high)', '')", "{out}");
    // A model error reaches the cell without the model's address or key.
    let out = cell(&server, &session, "invoke_llm('FAIL please')").await;
    let text = out["results"].as_str().unwrap();
    assert!(
        text.starts_with("(None, 'invoke_llm: the model answered 500"),
        "{text}"
    );
    assert!(text.contains("overloaded"));
    assert!(
        !text.contains("test-llm-key") && !text.contains(&up.addr),
        "{text}"
    );
    for (code, says) in [
        ("invoke_llm('')", "query: must be a non-empty string"),
        (
            "invoke_llm('x', reasoning_effort='max')",
            "reasoning_effort",
        ),
    ] {
        let out = cell(&server, &session, code).await;
        assert!(
            out["results"].as_str().unwrap().contains(says),
            "{code}: {out}"
        );
    }
    let out = cell(&server, &session, "invoke_llm(7)").await;
    assert!(
        out["error"]
            .as_str()
            .unwrap_or_default()
            .contains("TypeError"),
        "{out}"
    );

    // composio.tools.getInput: arguments written by the model, checked
    // against the tool's schema.
    let input = |text: &str| {
        let server = &server;
        let body = json!({"text": text});
        async move {
            server
                .call(
                    "POST",
                    "/api/v3.1/tools/execute/HACKERNEWS_GET_ITEM/input",
                    Some(body),
                    Some(KEY),
                )
                .await
        }
    };
    let (status, out) = input("JSON:{\"id\": 8863}").await;
    assert_eq!((status, &out), (200, &json!({"arguments": {"id": 8863}})));
    let (_, out) = input("JSON:{\"id\": \"eight\"}").await;
    assert_eq!(out["arguments"], json!({"id": "eight"}));
    assert!(out["error"].as_str().unwrap().contains("id"), "{out}");
    let (_, out) = input("the first item").await;
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("not answer with a JSON object"),
        "{out}"
    );
    let (_, out) = input("FAIL").await;
    assert!(out["error"].as_str().unwrap().contains("500"), "{out}");
    // composio.tools.execute(..., text=...): the same model writes them.
    let run = |body: serde_json::Value| {
        let server = &server;
        async move {
            server
                .call(
                    "POST",
                    "/api/v3.1/tools/execute/HACKERNEWS_GET_ITEM",
                    Some(body),
                    Some(KEY),
                )
                .await
        }
    };
    let (status, out) = run(json!({"user_id": "lena", "text": "JSON:{\"id\": 1}"})).await;
    assert_eq!((status, &out["successful"]), (200, &json!(true)), "{out}");
    let (status, out) = run(json!({"user_id": "lena", "text": "the first item"})).await;
    assert_eq!(status, 422, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JSON object"),
        "{out}"
    );

    // The v3 path of Composio's sandbox helper runs the same execute.
    let (status, out) = server
        .call(
            "POST",
            &format!("/api/v3/tool_router/session/{session}/execute"),
            Some(json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": "1 + 1"}})),
            Some(KEY),
        )
        .await;
    assert_eq!(
        (status, &out["data"]["results"]),
        (200, &json!("2")),
        "{out}"
    );

    // web_search runs the named tool as the session's user.
    let out = cell(&server, &session, "web_search('widgets')").await;
    assert!(
        out["results"].as_str().unwrap().starts_with("(None, "),
        "needs an account: {out}"
    );
    server
        .connect("lena", "github", "BEARER_TOKEN", json!({"token": "gh"}))
        .await;
    let out = cell(
        &server,
        &session,
        "answer, error = web_search('widgets')\n(error, sorted(answer))",
    )
    .await;
    let text = out["results"].as_str().unwrap();
    assert!(text.starts_with("('', ["), "{out}");
}

#[tokio::test]
async fn upload_local_file_links_one_file_or_a_zip_of_several() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let session = server.session(json!({"user_id": "ulla"})).await;
    let out = cell(
        &server,
        &session,
        "open('report.csv', 'w').write('a,b\\n1,2\\n')\nopen('/mnt/files/notes.txt', 'w').write('kept')\n\
         one, e1 = upload_local_file('report.csv')\nboth, e2 = upload_local_file('report.csv', '/mnt/files/notes.txt')\n\
         (e1, e2, one['mount_relative_path'], both['mount_relative_path'], one['url'], both['url'])",
    )
    .await;
    let text = out["results"].as_str().unwrap();
    let found: Vec<&str> = text.split('\'').filter(|s| s.starts_with("http")).collect();
    assert!(
        text.starts_with("('', '', 'uploads/report.csv', 'uploads/upload.zip'"),
        "{out}"
    );
    assert_eq!(found.len(), 2, "{text}");
    // The URLs serve the bytes without a key.
    let csv = reqwest::get(found[0]).await.unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.text().await.unwrap(), "a,b\n1,2\n");
    let zip = reqwest::get(found[1]).await.unwrap().bytes().await.unwrap();
    assert_eq!(&zip[..2], b"PK");
    // Bad paths say why; nothing outside the mount is linked.
    for (code, says) in [
        ("upload_local_file('nope.txt')", "nope.txt: no such file"),
        ("upload_local_file()", "give at least one path"),
        (
            "run_composio_tool('TOOLSHED_UPLOAD_LOCAL_FILE', {'mount_relative_path': '../home/user/report.csv'})",
            "not a path inside /mnt/files",
        ),
        (
            "run_composio_tool('TOOLSHED_UPLOAD_LOCAL_FILE', {'mount_relative_path': 'missing.bin'})",
            "no such file in /mnt/files",
        ),
    ] {
        let out = cell(&server, &session, code).await;
        assert!(
            out["results"].as_str().unwrap().contains(says),
            "{code}: {out}"
        );
    }
}

#[tokio::test]
async fn without_settings_the_helpers_say_how_to_get_them() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let session = server.session(json!({"user_id": "max"})).await;
    let out = cell(&server, &session, "(invoke_llm('hi'), web_search('x'))").await;
    let text = out["results"].as_str().unwrap();
    assert!(
        text.contains("no language model configured") && text.contains("[llm]"),
        "{text}"
    );
    assert!(text.contains("no search tool configured"), "{text}");
    let (status, body) = server
        .call(
            "POST",
            "/api/v3.1/tools/execute/HACKERNEWS_GET_ITEM/input",
            Some(json!({"text": "item one"})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("[llm]"));
}

#[test]
fn bad_settings_stop_the_server_naming_the_key() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    for (file, says) in [
        (
            "[llm]\nbase_url = \"ftp://x\"\nmodel = \"m\"\n",
            "llm.base_url",
        ),
        (
            "[llm]\nbase_url = \"http://x\"\nmodel = \"m\"\napi_key_env = \"TOOLSHED_NO_SUCH_VAR\"\n",
            "TOOLSHED_NO_SUCH_VAR",
        ),
        (
            "[llm]\nbase_url = \"http://x\"\nmodel = \"m\"\nkey = \"k\"\n",
            "key",
        ),
        (
            "[workbench]\nweb_search_tool = \"NOPE\"\n",
            "workbench.web_search_tool",
        ),
        (
            "[workbench]\nweb_search_tool = \"GITHUB_SEARCH_REPOSITORIES\"\n",
            "web_search_query_field",
        ),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, file).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_toolshed"))
            .args(["serve", "--addr", "127.0.0.1:0", "--config"])
            .arg(&path)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--toolkits")
            .arg(workspace().join("fixtures/toolkits"))
            .env(
                "TOOLSHED_BASE_URL_ALL",
                format!("http://{}/{{slug}}", up.addr),
            )
            .output()
            .unwrap();
        assert!(!out.status.success(), "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{file}: {stderr}");
    }
}
