//! Toolkits imported from OpenAPI documents (docs/TOOLKITS.md, "From an
//! OpenAPI document"), end to end: the real `toolshed serve` binary, the
//! shipped overlays over the documents `scripts/fetch-specs.sh` fetches, and
//! the local upstream service in `fixtures/upstream`.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::Command;

/// The arguments the hand-written GitHub toolkit's examples used; the
/// imported operations that kept those slugs take them unchanged.
fn github_examples() -> Vec<(&'static str, Value)> {
    vec![
        (
            "GITHUB_GET_REPOSITORY",
            json!({"owner": "acme", "repo": "widgets"}),
        ),
        (
            "GITHUB_LIST_REPOSITORIES_FOR_USER",
            json!({"username": "octocat", "type": "owner", "sort": "updated", "per_page": 10}),
        ),
        (
            "GITHUB_LIST_ORGANIZATION_REPOSITORIES",
            json!({"org": "acme", "type": "all", "per_page": 10}),
        ),
        (
            "GITHUB_CREATE_REPOSITORY_FOR_AUTHENTICATED_USER",
            json!({"name": "toolshed-demo", "description": "Created through toolshed", "private": true, "auto_init": true}),
        ),
        (
            "GITHUB_LIST_BRANCHES",
            json!({"owner": "acme", "repo": "widgets", "per_page": 30}),
        ),
        (
            "GITHUB_GET_REPOSITORY_CONTENT",
            json!({"owner": "acme", "repo": "widgets", "path": "README.md", "ref": "main"}),
        ),
        (
            "GITHUB_LIST_REPOSITORY_ISSUES",
            json!({"owner": "acme", "repo": "widgets", "state": "all", "per_page": 30, "page": 1}),
        ),
        (
            "GITHUB_GET_ISSUE",
            json!({"owner": "acme", "repo": "widgets", "issue_number": 1}),
        ),
        (
            "GITHUB_CREATE_ISSUE",
            json!({"owner": "acme", "repo": "widgets", "title": "Widget crashes on empty input", "body": "Steps to reproduce:\n\n1. Pass an empty string to `Widget::parse`.\n2. Observe the panic.", "labels": ["bug"], "assignees": ["octocat"]}),
        ),
        (
            "GITHUB_UPDATE_ISSUE",
            json!({"owner": "acme", "repo": "widgets", "issue_number": 3, "state": "closed", "state_reason": "completed"}),
        ),
        (
            "GITHUB_LIST_ISSUE_COMMENTS",
            json!({"owner": "acme", "repo": "widgets", "issue_number": 6}),
        ),
        (
            "GITHUB_CREATE_ISSUE_COMMENT",
            json!({"owner": "acme", "repo": "widgets", "issue_number": 1, "body": "Thanks for the report, looking into it."}),
        ),
        (
            "GITHUB_DELETE_ISSUE_COMMENT",
            json!({"owner": "acme", "repo": "widgets", "comment_id": 1500000131}),
        ),
        (
            "GITHUB_LIST_REPOSITORY_LABELS",
            json!({"owner": "acme", "repo": "widgets"}),
        ),
        (
            "GITHUB_CREATE_LABEL",
            json!({"owner": "acme", "repo": "widgets", "name": "needs triage", "color": "fbca04", "description": "Waiting for a maintainer to look at it"}),
        ),
        (
            "GITHUB_ADD_LABELS_TO_ISSUE",
            json!({"owner": "acme", "repo": "widgets", "issue_number": 4, "labels": ["help wanted"]}),
        ),
        (
            "GITHUB_REMOVE_LABEL_FROM_ISSUE",
            json!({"owner": "acme", "repo": "widgets", "issue_number": 5, "name": "bug"}),
        ),
        (
            "GITHUB_LIST_PULL_REQUESTS",
            json!({"owner": "acme", "repo": "widgets", "state": "open", "per_page": 10}),
        ),
        (
            "GITHUB_GET_PULL_REQUEST",
            json!({"owner": "acme", "repo": "widgets", "pull_number": 1}),
        ),
        (
            "GITHUB_CREATE_PULL_REQUEST",
            json!({"owner": "acme", "repo": "widgets", "title": "Add CSV export", "head": "feature/export", "base": "main", "body": "Adds `widgets export --csv`.", "draft": false}),
        ),
        (
            "GITHUB_MERGE_PULL_REQUEST",
            json!({"owner": "acme", "repo": "widgets", "pull_number": 2, "merge_method": "squash"}),
        ),
        ("GITHUB_GET_AUTHENTICATED_USER", json!({})),
        ("GITHUB_GET_USER", json!({"username": "alice"})),
        (
            "GITHUB_SEARCH_ISSUES_AND_PULL_REQUESTS",
            json!({"q": "repo:acme/widgets is:open label:bug crash", "per_page": 10}),
        ),
        (
            "GITHUB_SEARCH_REPOSITORIES",
            json!({"q": "widgets language:rust", "sort": "stars"}),
        ),
        (
            "GITHUB_LIST_COMMITS",
            json!({"owner": "acme", "repo": "widgets", "sha": "main", "per_page": 20}),
        ),
        (
            "GITHUB_GET_COMMIT",
            json!({"owner": "acme", "repo": "widgets", "ref": "main"}),
        ),
        (
            "GITHUB_LIST_RELEASES",
            json!({"owner": "acme", "repo": "widgets"}),
        ),
        (
            "GITHUB_CREATE_RELEASE",
            json!({"owner": "acme", "repo": "widgets", "tag_name": "v2.0.0", "target_commitish": "main", "name": "v2.0.0", "body": "## Highlights\n\n- CSV export\n- Faster parser", "prerelease": false}),
        ),
    ]
}

#[tokio::test]
async fn imported_github_operations_run_against_the_fixture() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    server
        .connect(
            "alice",
            "github",
            "BEARER_TOKEN",
            json!({"token": "test-token"}),
        )
        .await;
    let session = server
        .session(json!({"user_id": "alice", "toolkits": ["github"]}))
        .await;
    for (slug, arguments) in github_examples() {
        let run = server.execute(&session, slug, arguments).await;
        assert!(run["error"].is_null(), "{slug}: {run}");
        assert!(
            run["data"].is_object() || run["data"].is_array(),
            "{slug}: {run}"
        );
    }
    // The overlay's headers go with every call, the token as a bearer token,
    // and a labels list (one of three body shapes in the document) as a
    // JSON body field.
    let sent = up.requests(40).await;
    let labels = sent
        .iter()
        .find(|r| {
            r["method"] == "POST" && r["path"] == "/github/repos/acme/widgets/issues/4/labels"
        })
        .expect("the labels request");
    assert_eq!(labels["headers"]["x-github-api-version"], "2022-11-28");
    assert_eq!(labels["headers"]["authorization"], "Bearer test-token");
    let body: Value = serde_json::from_str(labels["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"labels": ["help wanted"]}));

    // An operation the hand-written toolkit never had: found by search,
    // described by the document.
    let found = server
        .ok(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/search"),
            Some(json!({"queries": [{"use_case": "list the tags of a github repository"}]})),
        )
        .await;
    let text = found.to_string();
    assert!(text.contains("GITHUB_REPOS_LIST_TAGS"), "{text}");
    // Wrong arguments are refused by the imported schema before any call.
    let (status, refused) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/execute"),
            Some(json!({"tool_slug": "GITHUB_GET_ISSUE", "arguments": {"owner": "acme", "repo": "widgets", "issue_number": "one"}})),
            Some(KEY),
        )
        .await;
    assert!(
        refused.to_string().contains("issue_number"),
        "{status} {refused}"
    );
}

#[tokio::test]
async fn an_api_key_from_security_schemes_goes_in_the_query() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    server
        .connect("alice", "giphy", "API_KEY", json!({"api_key": "giphy-key"}))
        .await;
    let session = server
        .session(json!({"user_id": "alice", "toolkits": ["giphy"]}))
        .await;
    let run = server
        .execute(
            &session,
            "GIPHY_SEARCH_GIFS",
            json!({"q": "cats", "limit": 3}),
        )
        .await;
    assert!(run["error"].is_null(), "{run}");
    assert_eq!(run["data"]["data"].as_array().unwrap().len(), 3, "{run}");
    let sent = up.requests(1).await;
    assert_eq!(sent[0]["query"]["api_key"], "giphy-key", "{sent:?}");
    assert_eq!(sent[0]["query"]["q"], "cats");
    let run = server
        .execute(&session, "GIPHY_GET_GIF_BY_ID", json!({"gifId": 12345}))
        .await;
    // The document types the id as an integer; it travels as path text.
    assert_eq!(run["data"]["data"]["id"], "12345", "{run}");
}

#[tokio::test]
async fn important_tools_are_the_ones_sdks_list() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let slugs = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    let important = server
        .ok(
            "GET",
            "/api/v3.1/tools?toolkit_slug=github&important=true&limit=1000",
            None,
        )
        .await;
    let important = slugs(&important);
    assert!(important.contains(&"GITHUB_GET_REPOSITORY".to_owned()));
    assert!(
        important.contains(&"GITHUB_EXPORT_REPOSITORY_ISSUES".to_owned()),
        "hand-written"
    );
    assert!(!important.contains(&"GITHUB_CODESPACES_LIST_FOR_AUTHENTICATED_USER".to_owned()));
    assert!(important.len() < 100, "{}", important.len());
    // Without `important`, the main tools still come first: an SDK that
    // reads one page of a big toolkit gets them.
    let first = server
        .ok("GET", "/api/v3.1/tools?toolkit_slug=github", None)
        .await;
    let first = slugs(&first);
    assert_eq!(first.len(), 100);
    assert_eq!(first[..important.len()], important[..]);
    let all = server
        .ok(
            "GET",
            "/api/v3.1/tools?toolkit_slug=github&limit=1000",
            None,
        )
        .await;
    assert_eq!(slugs(&all).len(), 1000);
    assert!(all["next_cursor"].is_string(), "{all}");
    let toolkits = server.ok("GET", "/api/v3.1/toolkits/github", None).await;
    assert!(
        toolkits["meta"]["tools_count"].as_u64().unwrap() > 1000,
        "{toolkits}"
    );
    let (status, body) = server
        .call("GET", "/api/v3.1/tools?important=maybe", None, Some(KEY))
        .await;
    assert_eq!(status, 400, "{body}");
}

/// An operator's own overlay over a YAML document: headers, form and whole
/// bodies, a body field renamed next to a path parameter. The fixture
/// serves no such API (the calls get 404), so the requests it recorded show
/// what was sent.
#[tokio::test]
async fn an_operators_yaml_overlay_binds_every_kind_of_argument() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let toolkits = dir.path().join("toolkits");
    std::fs::create_dir_all(toolkits.join("notes")).unwrap();
    std::fs::write(
        toolkits.join("notes/toolkit.toml"),
        "slug = \"notes\"\n[openapi]\ndocument = \"notes.yaml\"\ninclude = [\"tag:notes\"]\n",
    )
    .unwrap();
    std::fs::write(toolkits.join("notes/notes.yaml"), NOTES_YAML).unwrap();
    let data = dir.path().join("data");
    let server =
        start_server_with_args(&data, &up, &[], &["--toolkits", toolkits.to_str().unwrap()]);
    server
        .connect(
            "alice",
            "notes",
            "BEARER_TOKEN",
            json!({"token": "n-token"}),
        )
        .await;
    let session = server
        .session(json!({"user_id": "alice", "toolkits": ["notes"]}))
        .await;
    server
        .execute(
            &session,
            "NOTES_RENAME_NOTE",
            json!({"id": "n1", "body_id": "n2", "title": "Hi", "X-Trace": "t-1"}),
        )
        .await;
    server
        .execute(
            &session,
            "NOTES_TAG_NOTE",
            json!({"id": "n1", "request_body": ["a", "b"]}),
        )
        .await;
    server
        .execute(
            &session,
            "NOTES_COMMENT_NOTE",
            json!({"id": "n1", "text": "x y", "tags": ["p", "q"], "meta": {"k": "v"}}),
        )
        .await;
    server
        .execute(
            &session,
            "NOTES_LIST_NOTES",
            json!({"ids": [1, 2], "filter": {"state": "open"}, "fields": ["a", "b"]}),
        )
        .await;
    let sent = up.requests(4).await;
    let [rename, tag, comment, list] = &sent[..] else {
        panic!("{sent:?}")
    };
    assert_eq!(rename["path"], "/notes/notes/n1");
    assert_eq!(rename["headers"]["x-trace"], "t-1");
    assert_eq!(rename["headers"]["authorization"], "Bearer n-token");
    let body: Value = serde_json::from_str(rename["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"id": "n2", "title": "Hi"}));
    let body: Value = serde_json::from_str(tag["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!(["a", "b"]));
    // Form fields are exploded (objects as `meta[k]`); query parameters
    // follow their style and explode.
    assert_eq!(comment["body"], "text=x+y&tags=p&tags=q&meta%5Bk%5D=v");
    assert_eq!(
        list["raw_query"],
        "ids=1&ids=2&filter%5Bstate%5D=open&fields=a%2Cb"
    );
    assert!(
        comment["headers"]["content-type"]
            .as_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    // Operations outside `include` are not tools.
    let (status, _) = server
        .call(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/execute"),
            Some(json!({"tool_slug": "NOTES_ADMIN_RESET", "arguments": {}})),
            Some(KEY),
        )
        .await;
    assert_ne!(status, 200);
}

const NOTES_YAML: &str = r#"
openapi: 3.0.1
info: {title: Notes, version: "2"}
servers: [{url: "https://notes.example/v2"}]
components:
  securitySchemes:
    token: {type: http, scheme: bearer}
paths:
  /notes/{id}:
    patch:
      operationId: renameNote
      tags: [notes]
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: X-Trace, in: header, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [title]
              properties:
                id: {type: string, description: "A new id."}
                title: {type: string}
      responses: {"200": {description: ok}}
  /notes/{id}/tags:
    put:
      operationId: tagNote
      tags: [notes]
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      requestBody:
        content:
          application/json:
            schema: {type: array, items: {type: string}}
      responses: {"204": {description: done}}
  /notes/{id}/comments:
    post:
      operationId: commentNote
      tags: [notes]
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties:
                text: {type: string}
                tags: {type: array, items: {type: string}}
                meta: {type: object, additionalProperties: {type: string}}
      responses: {"201": {description: made}}
  /notes:
    get:
      operationId: listNotes
      tags: [notes]
      parameters:
        - {name: ids, in: query, schema: {type: array, items: {type: integer}}}
        - {name: filter, in: query, style: deepObject, explode: true, schema: {type: object}}
        - {name: fields, in: query, explode: false, schema: {type: array, items: {type: string}}}
      responses: {"200": {description: ok}}
  /admin/reset:
    post:
      operationId: adminReset
      responses: {"200": {description: ok}}
"#;

#[test]
fn the_import_command_reports_what_it_made_and_skipped() {
    let out = Command::new(env!("CARGO_BIN_EXE_toolshed"))
        .args(["toolkits", "import"])
        .arg(workspace().join("fixtures/toolkits/stripe/toolkit.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("stripe: "), "{text}");
    assert!(
        text.contains("tool     STRIPE_GET_CUSTOMERS\tGET /v1/customers"),
        "{text}"
    );
    assert!(
        text.contains("skipped  GetCustomersCustomerCards\tdeprecated"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    for (name, content, expected) in [
        ("bad.json", "{\"swagger\": \"2.0\"}", "Swagger"),
        ("bad.yaml", "openapi: 3.0.0\ninfo: [\n", "YAML"),
        ("missing.json", "", "cannot read"),
    ] {
        let path = dir.path().join(name);
        if !content.is_empty() {
            std::fs::write(&path, content).unwrap();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_toolshed"))
            .args(["toolkits", "import"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(expected), "{name}: {err}");
    }
}

/// Lines of a child's stderr, as they come.
fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle` (a minute at most).
fn wait_for(lines: &std::sync::mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line with {needle:?}: {e}"),
        }
    }
}

#[tokio::test]
async fn sighup_reloads_the_toolkits_and_running_sessions_go_on() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let toolkits = dir.path().join("toolkits");
    let shipped = workspace().join("fixtures/toolkits");
    std::fs::create_dir_all(toolkits.join("hackernews")).unwrap();
    std::fs::copy(
        shipped.join("hackernews/toolkit.toml"),
        toolkits.join("hackernews/toolkit.toml"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_toolshed"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--toolkits")
        .arg(&toolkits)
        .env("TOOLSHED_API_KEY", KEY)
        .env("RUST_LOG", "toolshed_api::commands::serve=info")
        .env(
            "TOOLSHED_BASE_URL_ALL",
            format!("http://{}/{{slug}}", up.addr),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let logs = stderr_lines(&mut child);
    let addr = address_from_stdout(&mut child);
    let server = Server {
        proc: Some(Proc(child)),
        base: format!("http://{addr}"),
        data: dir.path().join("data"),
        client: reqwest::Client::new(),
    };
    let hangup = || {
        let status = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        assert!(status.success());
    };
    let session = server
        .session(json!({"user_id": "alice", "toolkits": ["hackernews"]}))
        .await;
    let story = json!({"id": 1});
    let run = server
        .execute(&session, "HACKERNEWS_GET_ITEM", story.clone())
        .await;
    assert!(run["error"].is_null(), "{run}");

    // A toolkit added to the folder is served after SIGHUP; the running
    // session goes on.
    std::fs::create_dir_all(toolkits.join("giphy")).unwrap();
    for file in ["toolkit.toml", "openapi.json"] {
        std::fs::copy(
            shipped.join("giphy").join(file),
            toolkits.join("giphy").join(file),
        )
        .unwrap();
    }
    hangup();
    let line = wait_for(&logs, "reloaded the toolkits");
    assert!(line.contains("toolkits=2"), "{line}");
    let listed = server.ok("GET", "/api/v3.1/toolkits", None).await;
    assert!(listed.to_string().contains("\"giphy\""), "{listed}");
    let run = server
        .execute(&session, "HACKERNEWS_GET_ITEM", story.clone())
        .await;
    assert!(run["error"].is_null(), "{run}");
    server
        .connect("alice", "giphy", "API_KEY", json!({"api_key": "k"}))
        .await;
    let other = server
        .session(json!({"user_id": "alice", "toolkits": ["giphy"]}))
        .await;
    let run = server
        .execute(&other, "GIPHY_TRENDING_GIFS", json!({"limit": 1}))
        .await;
    assert!(run["error"].is_null(), "{run}");

    // A broken toolkit file is refused whole: the catalog being served
    // stays, giphy included.
    std::fs::create_dir_all(toolkits.join("broken")).unwrap();
    std::fs::write(toolkits.join("broken/toolkit.toml"), "slug = 1\n").unwrap();
    hangup();
    let line = wait_for(&logs, "toolkits not reloaded");
    assert!(line.contains("broken"), "{line}");
    let run = server
        .execute(&other, "GIPHY_TRENDING_GIFS", json!({"limit": 1}))
        .await;
    assert!(run["error"].is_null(), "{run}");
}
