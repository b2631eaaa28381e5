//! What the end-to-end suites share: the real `toolshed serve` binary on a
//! free port, the upstream fixture, and small HTTP helpers.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const KEY: &str = "ts_test_key_for_the_suite";

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads the child's stdout until a line containing `http://`; returns the
/// address after it.
pub fn address_from_stdout(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("read stdout");
        if let Some(at) = line.find("http://") {
            let addr = line[at + 7..].trim().to_owned();
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return addr;
        }
    }
    panic!("the process exited before printing its address");
}

pub struct Upstream {
    pub _proc: Proc,
    pub addr: String,
}

impl Upstream {
    /// The last `limit` requests the fixture received, oldest first.
    pub async fn requests(&self, limit: usize) -> Vec<Value> {
        reqwest::get(format!(
            "http://{}/_control/requests?limit={limit}",
            self.addr
        ))
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
    }
}

pub fn upstream() -> Upstream {
    let mut child = Command::new("python3")
        .arg(workspace().join("fixtures/upstream/server.py"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the upstream fixture");
    let addr = address_from_stdout(&mut child);
    Upstream {
        _proc: Proc(child),
        addr,
    }
}

/// An API key of a new project named `name` (the CLI, on the server's
/// data directory).
pub fn new_project_key(data: &Path, name: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_toolshed"))
        .args(["keys", "create", "--new-project", name, "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub struct Server {
    pub proc: Option<Proc>,
    pub base: String,
    pub data: PathBuf,
    pub client: reqwest::Client,
}

pub fn start_server(data: &Path, upstream: &Upstream, extra_env: &[(&str, &str)]) -> Server {
    start_server_with_args(data, upstream, extra_env, &[])
}

pub fn start_server_with_args(
    data: &Path,
    upstream: &Upstream,
    extra_env: &[(&str, &str)],
    extra_args: &[&str],
) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolshed"));
    cmd.arg("serve")
        .args(["--addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .args(extra_args)
        .env("TOOLSHED_API_KEY", KEY)
        .env("RUST_LOG", "warn")
        .env(
            "TOOLSHED_BASE_URL_ALL",
            format!("http://{}/{{slug}}", upstream.addr),
        )
        .stdout(Stdio::piped());
    if !extra_args.contains(&"--toolkits") {
        cmd.arg("--toolkits")
            .arg(workspace().join("fixtures/toolkits"));
    }
    if !extra_args.contains(&"--cell-timeout-ms") {
        cmd.args(["--cell-timeout-ms", "20000"]);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("toolshed serve starts");
    let addr = address_from_stdout(&mut child);
    Server {
        proc: Some(Proc(child)),
        base: format!("http://{addr}"),
        data: data.to_owned(),
        client: reqwest::Client::new(),
    }
}

impl Server {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = self.client.request(method.parse().unwrap(), url);
        if let Some(key) = key {
            req = req.header("x-api-key", key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, body, Some(KEY)).await;
        assert_eq!(status, 200, "{method} {path}: {value}");
        value
    }

    pub async fn session(&self, body: Value) -> String {
        self.ok("POST", "/api/v3.1/tool_router/session", Some(body))
            .await["session_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn execute(&self, session: &str, slug: &str, arguments: Value) -> Value {
        self.ok(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/execute"),
            Some(json!({"tool_slug": slug, "arguments": arguments})),
        )
        .await
    }

    pub async fn connect(
        &self,
        user: &str,
        toolkit: &str,
        scheme: &str,
        credentials: Value,
    ) -> String {
        self.ok(
            "POST",
            "/api/v3.1/connected_accounts",
            Some(json!({"user_id": user, "toolkit": toolkit, "auth_scheme": scheme, "credentials": credentials})),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn stop(&mut self) {
        self.proc.take();
    }
}

/// A client that shows redirects instead of following them.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn post_form(url: &str, form: &str) -> (u16, String, Option<String>) {
    let resp = no_redirects()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (status, resp.text().await.unwrap(), location)
}
