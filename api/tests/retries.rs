//! Retry safety of execute over real HTTP: a retry of an execute still
//! running joins it (the cell runs once, even when the first caller gave
//! up), and an `Idempotency-Key` replays a finished answer, across a
//! restart, for that request only.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A cell that counts its runs in `runs`, says it started, waits for `go`
/// (created by the test) and returns the count.
const COUNTED: &str = "import os, time\n\
with open('/mnt/files/runs', 'a') as f:\n    f.write('x\\n')\n\
open('/mnt/files/started', 'w').write('1')\n\
for _ in range(3000):\n    if os.path.exists('/mnt/files/go'):\n        break\n    time.sleep(0.01)\n\
len(open('/mnt/files/runs').read().splitlines())";

async fn post(
    server: &Server,
    session: &str,
    body: &Value,
    key: Option<&str>,
) -> (u16, Option<String>, Option<String>, Value) {
    let mut request = server
        .client
        .post(format!(
            "{}/api/v3.1/tool_router/session/{session}/execute",
            server.base
        ))
        .header("x-api-key", KEY)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (replayed, retry) = (header("idempotent-replayed"), header("x-should-retry"));
    let status = response.status().as_u16();
    (status, replayed, retry, response.json().await.unwrap())
}

async fn wait_for(path: &Path) {
    for _ in 0..3000 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{} never appeared", path.display());
}

fn files(dir: &Path, session: &str) -> PathBuf {
    dir.join("sessions").join(session).join("files")
}

fn cell(code: &str) -> Value {
    json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {"code_to_execute": code}})
}

/// The first caller gives up while its cell runs (an SDK's timeout): the
/// cell goes on, and the retry with the same key gets its answer (joined
/// while it runs, or stored once it finished), so it runs once.
#[tokio::test]
async fn a_caller_that_gives_up_does_not_stop_the_cell_and_its_retry_gets_the_answer() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let session = server.session(json!({"user_id": "retry"})).await;
    let files = files(dir.path(), &session);
    let first = tokio::spawn({
        let (base, session) = (server.base.clone(), session.clone());
        async move {
            reqwest::Client::new()
                .post(format!(
                    "{base}/api/v3.1/tool_router/session/{session}/execute"
                ))
                .header("x-api-key", KEY)
                .header("idempotency-key", "slow-1")
                .json(&cell(COUNTED))
                .send()
                .await
        }
    });
    wait_for(&files.join("started")).await;
    first.abort();
    let _ = first.await;
    let retry = tokio::spawn({
        let (server_base, session) = (server.base.clone(), session.clone());
        async move {
            // The same request with its keys in another order.
            let body = json!({"arguments": {"code_to_execute": COUNTED}, "tool_slug": "COMPOSIO_REMOTE_WORKBENCH"});
            let response = reqwest::Client::new()
                .post(format!(
                    "{server_base}/api/v3.1/tool_router/session/{session}/execute"
                ))
                .header("x-api-key", KEY)
                .header("idempotency-key", "slow-1")
                .json(&body)
                .send()
                .await
                .unwrap();
            let replayed = response.headers().get("idempotent-replayed").cloned();
            (replayed, response.json::<Value>().await.unwrap())
        }
    });
    std::fs::write(files.join("go"), b"").unwrap();
    let (replayed, body) = retry.await.unwrap();
    assert_eq!(body["data"]["results"], "1", "{body}");
    assert_eq!(replayed.unwrap(), "true");
    let runs = std::fs::read_to_string(files.join("runs")).unwrap();
    assert_eq!(runs.lines().count(), 1, "the cell ran once");

    // Once finished, the same request without a key is a new call.
    let (status, replayed, _, again) = post(&server, &session, &cell(COUNTED), None).await;
    assert_eq!((status, replayed), (200, None), "{again}");
    assert_eq!(again["data"]["results"], "2");
}

#[tokio::test]
async fn an_idempotency_key_replays_its_answer_for_its_request_only() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &up, &[]);
    let session = server.session(json!({"user_id": "keyed"})).await;
    std::fs::create_dir_all(files(dir.path(), &session)).unwrap();
    std::fs::write(files(dir.path(), &session).join("go"), b"").unwrap();

    let (status, replayed, _, first) = post(&server, &session, &cell(COUNTED), Some("job-1")).await;
    assert_eq!((status, replayed), (200, None), "{first}");
    assert_eq!(first["data"]["results"], "1");
    let (status, replayed, _, again) = post(&server, &session, &cell(COUNTED), Some("job-1")).await;
    assert_eq!(status, 200);
    assert_eq!(replayed.as_deref(), Some("true"));
    assert_eq!(again, first, "the stored answer, log id and all");

    // The key with another request is refused; another key runs.
    let (status, _, _, refused) = post(&server, &session, &cell("1 + 1"), Some("job-1")).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("job-1")
    );
    let (_, replayed, _, second) = post(&server, &session, &cell(COUNTED), Some("job-2")).await;
    assert_eq!(
        (second["data"]["results"].as_str(), replayed),
        (Some("2"), None)
    );

    // Bad keys are a 400 naming the header.
    for bad in ["", &"k".repeat(256)] {
        let (status, _, _, body) = post(&server, &session, &cell("1"), Some(bad)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key")
        );
    }

    // Kept across a restart.
    server.stop();
    let server = start_server(dir.path(), &up, &[]);
    let (status, replayed, _, after) = post(&server, &session, &cell(COUNTED), Some("job-1")).await;
    assert_eq!((status, replayed.as_deref()), (200, Some("true")));
    assert_eq!(after, first);
    let runs = std::fs::read_to_string(files(dir.path(), &session).join("runs")).unwrap();
    assert_eq!(runs.lines().count(), 2, "two keys, two runs");
}
