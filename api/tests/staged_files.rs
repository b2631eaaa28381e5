//! File arguments over real HTTP: a file staged through
//! `files/upload/request` and its presigned PUT reaches the upstream as a
//! multipart part when a tool names its `s3key`; the PUT is held to the
//! signed content type and the declared MD5; keys never cross projects;
//! and a workbench file shared with `upload_local_file` works the same.

mod common;

use common::*;
use md5::{Digest, Md5};
use serde_json::{Value, json};

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Requests an upload for `data` (with `key`) and returns the answer.
async fn request(server: &Server, key: &str, name: &str, mimetype: &str, data: &[u8]) -> Value {
    let (status, body) = server
        .call(
            "POST",
            "/api/v3/files/upload/request",
            Some(
                json!({"md5": md5_hex(data), "filename": name, "mimetype": mimetype,
                "tool_slug": "SLACK_UPLOAD_FILE", "toolkit_slug": "slack"}),
            ),
            Some(key),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn put(url: &str, content_type: Option<&str>, data: &[u8]) -> (u16, String) {
    let mut req = reqwest::Client::new().put(url).body(data.to_vec());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn upload_file(server: &Server, key: &str, file: Value, extra: Value) -> Value {
    let mut arguments = json!({"file": file, "channels": "C0001"});
    for (k, v) in extra.as_object().unwrap() {
        arguments[k] = v.clone();
    }
    let (status, body) = server
        .call(
            "POST",
            "/api/v3.1/tools/execute/SLACK_UPLOAD_FILE",
            Some(json!({"user_id": "ana", "arguments": arguments})),
            Some(key),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_staged_file_reaches_the_tool_as_a_multipart_part() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    server
        .connect("ana", "slack", "BEARER_TOKEN", json!({"token": "xoxb-ana"}))
        .await;
    let data = b"id,amount\n1,20\n2,22\n";

    // The answer both SDKs read.
    let staged = request(&server, KEY, "sales.csv", "text/csv", data).await;
    let s3key = staged["key"].as_str().unwrap().to_owned();
    let url = staged["new_presigned_url"].as_str().unwrap().to_owned();
    assert_eq!(staged["newPresignedUrl"], url.as_str());
    assert_eq!(staged["type"], "new");
    assert_eq!(staged["metadata"]["storage_backend"], "s3");
    assert!(staged["id"].as_str().unwrap().starts_with("sf_"));
    assert!(s3key.ends_with("/sales.csv"), "{s3key}");

    // Named before its bytes arrive: a clear tool error, no call upstream.
    let early = upload_file(
        &server,
        KEY,
        json!({"name": "sales.csv", "mimetype": "text/csv", "s3key": s3key}),
        json!({}),
    )
    .await;
    assert_eq!(early["successful"], false);
    assert!(
        early["error"].as_str().unwrap().contains("never uploaded"),
        "{early}"
    );

    // The PUT is held to what was signed: the content type, then the MD5.
    let (status, body) = put(&url, Some("application/octet-stream"), data).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("text/csv"), "{body}");
    let (status, _) = put(&url, Some("text/csv"), data).await;
    assert_eq!(status, 404, "an upload URL is spent by its first PUT");
    let staged = request(&server, KEY, "sales.csv", "text/csv", data).await;
    let url = staged["new_presigned_url"].as_str().unwrap();
    let (status, body) = put(url, Some("text/csv"), b"id,amount\n1,2000\n").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("MD5"), "{body}");
    let staged = request(&server, KEY, "sales.csv", "text/csv", data).await;
    let s3key = staged["key"].as_str().unwrap().to_owned();
    let (status, body) = put(
        staged["new_presigned_url"].as_str().unwrap(),
        Some("text/csv"),
        data,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Listed for the project, filterable by tool.
    let listed = server
        .ok(
            "GET",
            "/api/v3.1/files/list?tool_slug=slack_upload_file",
            None,
        )
        .await;
    assert_eq!(listed["total_items"], 1, "{listed}");
    assert_eq!(listed["items"][0]["key"], s3key.as_str());
    assert_eq!(listed["items"][0]["md5"], md5_hex(data));
    let none = server
        .ok("GET", "/api/v3.1/files/list?toolkit_slug=github", None)
        .await;
    assert_eq!(none["total_items"], 0);

    // The tool sends the bytes; the fixture answers with what arrived.
    let out = upload_file(
        &server,
        KEY,
        json!({"name": "q3.csv", "mimetype": "text/csv", "s3key": s3key}),
        json!({"title": "Q3"}),
    )
    .await;
    assert_eq!(out["successful"], true, "{out}");
    let file = &out["data"]["file"];
    assert_eq!(file["name"], "q3.csv");
    assert_eq!(file["size"], data.len());
    assert_eq!(file["preview"], std::str::from_utf8(data).unwrap());
    assert_eq!(file["channels"], json!(["C0001"]));
    assert_eq!(file["title"], "Q3");
    // Once more (the file stays staged), then the request as it went out.
    let again = upload_file(
        &server,
        KEY,
        json!({"name": "q3.csv", "mimetype": "text/csv", "s3key": s3key}),
        json!({}),
    )
    .await;
    assert_eq!(again["data"]["file"]["size"], data.len(), "{again}");
    let seen = up.requests(1).await;
    let headers = seen[0]["headers"].to_string().to_ascii_lowercase();
    assert!(headers.contains("multipart/form-data"), "{headers}");
    assert!(headers.contains("bearer xoxb-ana"), "{headers}");

    // Another project cannot name this project's key; unknown keys and
    // wrong shapes are argument errors.
    let other = new_project_key(dir.path(), "other");
    server
        .call(
            "POST",
            "/api/v3.1/connected_accounts",
            Some(json!({"user_id": "ana", "toolkit": "slack", "auth_scheme": "BEARER_TOKEN", "credentials": {"token": "xoxb-other"}})),
            Some(&other),
        )
        .await;
    for (key, file) in [
        (
            other.as_str(),
            json!({"name": "q3.csv", "mimetype": "text/csv", "s3key": s3key}),
        ),
        (
            KEY,
            json!({"name": "x", "mimetype": "text/csv", "s3key": "slack/SLACK_UPLOAD_FILE/sf_nope/x"}),
        ),
        (
            KEY,
            json!({"name": "x", "mimetype": "text/csv", "s3key": "../../etc/passwd"}),
        ),
    ] {
        let out = upload_file(&server, key, file.clone(), json!({})).await;
        assert_eq!(out["successful"], false, "{file}: {out}");
        assert!(
            out["error"].as_str().unwrap().contains("no staged file"),
            "{file}: {out}"
        );
    }
    for file in [
        json!("/etc/passwd"),
        json!({"name": "x", "s3key": s3key}),
        json!({"name": "x", "mimetype": "text/csv", "s3key": 7}),
    ] {
        let out = upload_file(&server, KEY, file.clone(), json!({})).await;
        assert_eq!(out["successful"], false, "{file}: {out}");
        assert!(
            out["error"].as_str().unwrap().contains("arguments"),
            "{file}: {out}"
        );
    }
}

#[tokio::test]
async fn upload_requests_are_checked() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let good = json!({"md5": md5_hex(b"x"), "filename": "a.txt", "mimetype": "text/plain",
        "tool_slug": "SLACK_UPLOAD_FILE", "toolkit_slug": "slack"});
    for (field, value) in [
        ("md5", json!("xyz")),
        ("md5", json!("")),
        ("filename", json!("")),
        ("filename", json!("dir/")),
        ("filename", json!("a\nb")),
        ("mimetype", json!("nonsense")),
        ("mimetype", json!("")),
        ("tool_slug", json!("no spaces please")),
        ("toolkit_slug", json!("../x")),
        ("md5", json!(5)),
    ] {
        let mut body = good.clone();
        body[field] = value.clone();
        let (status, err) = server
            .call(
                "POST",
                "/api/v3.1/files/upload/request",
                Some(body),
                Some(KEY),
            )
            .await;
        assert_eq!(status, 400, "{field}={value}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(field),
            "{field}={value}: {err}"
        );
    }
    let (status, _) = server
        .call("POST", "/api/v3.1/files/upload/request", Some(good), None)
        .await;
    assert_eq!(status, 401);
    // A path in the name keeps only its last part.
    let staged = request(&server, KEY, "../../secret/a.txt", "text/plain", b"x").await;
    assert!(
        staged["key"].as_str().unwrap().ends_with("/a.txt"),
        "{staged}"
    );
    assert!(!staged["key"].as_str().unwrap().contains(".."), "{staged}");
    // Over the size limit: 413, and nothing is kept.
    let big = vec![b'a'; (100 << 20) + 1];
    let staged = request(&server, KEY, "big.bin", "application/octet-stream", &big).await;
    let (status, body) = put(
        staged["new_presigned_url"].as_str().unwrap(),
        Some("application/octet-stream"),
        &big,
    )
    .await;
    assert_eq!(status, 413, "{body}");
    let listed = server.ok("GET", "/api/v3.1/files/list", None).await;
    assert_eq!(listed["total_items"], 0, "{listed}");
}

#[tokio::test]
async fn a_workbench_file_shared_with_upload_local_file_is_a_tool_argument() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    server
        .connect("ana", "slack", "BEARER_TOKEN", json!({"token": "xoxb-ana"}))
        .await;
    let session = server
        .session(json!({"user_id": "ana", "toolkits": ["slack"]}))
        .await;
    let cell = concat!(
        "open('notes.md', 'w').write('# Stand-up\\n- shipped uploads\\n')\n",
        "info, err = upload_local_file('notes.md')\n",
        "file = {k: info[k] for k in ('name', 'mimetype', 's3key')}\n",
        "out, err2 = run_composio_tool('SLACK_UPLOAD_FILE', {'file': file, 'channels': 'C0002'})\n",
        "(err, err2, file['name'], file['mimetype'], out['data']['file']['preview'], out['data']['file']['size'])"
    );
    let out = server
        .execute(
            &session,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": cell}),
        )
        .await;
    assert_eq!(
        out["data"]["results"],
        "('', '', 'notes.md', 'text/markdown', '# Stand-up\\n- shipped uploads\\n', 29)",
        "{out}"
    );
}
