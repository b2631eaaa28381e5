//! Executing an app tool: its HTTP binding, the connected account's
//! credential injected, retries with backoff for idempotent calls (429 and
//! 5xx, honouring Retry-After), and a per-toolkit concurrency bound.

use super::CatalogTool;
use super::toolkit::{Style, Toolkit};
use base64::Engine as _;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

/// Attempts for an idempotent call (1 + retries).
const MAX_ATTEMPTS: u32 = 4;
/// Longest Retry-After honoured; longer waits fail the call instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// First backoff step when the upstream gives no Retry-After.
const BASE_BACKOFF: Duration = Duration::from_millis(200);
/// Calls to one toolkit in flight at once, per server.
pub const DEFAULT_TOOLKIT_CONCURRENCY: usize = 64;
/// Largest upstream response read into memory.
pub const MAX_RESPONSE_BYTES: usize = 256 << 20;
/// Largest spooled response parsed to build a preview (parsing needs a
/// few times its size in memory).
const MAX_PREVIEW_PARSE_BYTES: u64 = 256 << 20;
/// Largest upstream response streamed to a spool file.
pub const MAX_SPOOLED_BYTES: u64 = 2 << 30;
/// Per-request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A file sent as a multipart part: a staged file, opened.
#[derive(Clone, Debug)]
pub struct Attachment {
    /// The part's file name.
    pub name: String,
    /// The part's media type.
    pub mimetype: String,
    /// Bytes.
    pub size: u64,
    /// The open file (rewound for every attempt).
    pub file: Arc<std::fs::File>,
}

/// The files of a call, by argument name.
pub type Attachments = HashMap<String, Vec<Attachment>>;

/// One multipart part.
#[derive(Clone, Debug)]
pub(super) enum Part {
    Text(String),
    File(Attachment),
}

impl Part {
    /// The part for reqwest (a file is streamed from its start).
    fn form_part(&self) -> Result<reqwest::multipart::Part, String> {
        match self {
            Part::Text(text) => Ok(reqwest::multipart::Part::text(text.clone())),
            Part::File(file) => {
                use std::io::Seek;
                let mut handle = file
                    .file
                    .try_clone()
                    .map_err(|e| format!("cannot read the file {}: {e}", file.name))?;
                handle
                    .rewind()
                    .map_err(|e| format!("cannot read the file {}: {e}", file.name))?;
                let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(handle));
                reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::wrap_stream(stream),
                    file.size,
                )
                .file_name(file.name.clone())
                .mime_str(&file.mimetype)
                .map_err(|e| format!("{}: bad media type: {e}", file.name))
            }
        }
    }
}

/// One app-tool call: whose, which tool, its validated arguments and the
/// files they name.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// The calling project (concurrency is bounded per project).
    pub project_id: &'a str,
    /// The tool's toolkit.
    pub toolkit: &'a Toolkit,
    /// The tool.
    pub tool: &'a CatalogTool,
    /// Its arguments, valid against its schema.
    pub arguments: &'a Value,
    /// The staged files its file arguments name.
    pub files: &'a Attachments,
}

/// The outcome of one app-tool call.
#[derive(Clone, Debug, PartialEq)]
pub struct Execution {
    /// Whether it succeeded (2xx).
    pub successful: bool,
    /// The response data (JSON; text responses become `{"text": ...}`).
    pub data: Value,
    /// The error message when it failed.
    pub error: Option<String>,
    /// The upstream HTTP status, when there was a response.
    pub status: Option<u16>,
    /// When the body was large and a spool was offered: the file holding
    /// exactly the bytes the upstream sent, and their count.
    pub spooled: Option<(String, u64)>,
}

impl Execution {
    fn failed(message: impl Into<String>, status: Option<u16>, data: Value) -> Execution {
        Execution {
            successful: false,
            data,
            error: Some(message.into()),
            status,
            spooled: None,
        }
    }
}

/// Where to put a large response body instead of memory: a file name
/// inside a directory capability (symlinks cannot lead out of it).
#[derive(Clone, Debug)]
pub struct Spool {
    /// The directory the file goes in.
    pub dir: std::sync::Arc<cap_std::fs::Dir>,
    /// The file's name in it (created or truncated).
    pub name: String,
    /// Bodies longer than this many bytes go to the file.
    pub threshold: usize,
    /// Bytes the session's disk quota has left, shared by the spools of one
    /// batch; a body that does not fit fails (and leaves no file).
    pub budget: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Spool {
    /// Takes `bytes` from the budget, or says why it cannot.
    fn charge(&self, bytes: u64) -> Result<(), String> {
        use std::sync::atomic::Ordering;
        self.budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(bytes)
            })
            .map(|_| ())
            .map_err(|left| {
                format!(
                    "cannot save the response: it does not fit the session's disk quota ({left} bytes free); delete files in /mnt/files or /home/user"
                )
            })
    }
}

/// A response body: in memory, or streamed to a spool file.
pub(super) enum Body {
    Memory(Vec<u8>),
    File(String, u64),
}

/// Runs app tools over HTTP. Cheap to clone.
#[derive(Clone)]
pub struct Executor {
    client: reqwest::Client,
    mcp: super::mcp::pool::Pool,
    limits: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    per_toolkit: usize,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("per_toolkit", &self.per_toolkit)
            .finish()
    }
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new(DEFAULT_TOOLKIT_CONCURRENCY)
    }
}

impl Executor {
    /// An executor allowing `per_toolkit` calls per toolkit at once.
    pub fn new(per_toolkit: usize) -> Executor {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(same_origin_redirects())
            .user_agent(concat!("toolshed/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Executor {
            client,
            mcp: super::mcp::pool::Pool::default(),
            limits: Arc::default(),
            per_toolkit: per_toolkit.max(1),
        }
    }

    /// The permits of one project's calls to one toolkit. Per project, not
    /// per server: upstream limits are per credential, and one tenant's bulk
    /// job must not queue another tenant's single call behind it.
    fn semaphore(&self, project_id: &str, toolkit: &str) -> Arc<Semaphore> {
        let mut limits = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        limits
            .entry(format!("{project_id}/{toolkit}"))
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_toolkit)))
            .clone()
    }

    /// The pool of MCP connections (closed on reload and at shutdown).
    pub fn mcp_pool(&self) -> &super::mcp::pool::Pool {
        &self.mcp
    }

    /// Makes `call`; `credentials` are the connected account's secrets
    /// (`{"token"}`, `{"api_key"}`, `{"username","password"}`), or `None`
    /// for no-auth toolkits.
    pub async fn execute(
        &self,
        call: &Call<'_>,
        credentials: Option<&Value>,
        spool: Option<&Spool>,
    ) -> Execution {
        let Call {
            project_id,
            toolkit,
            tool,
            arguments,
            files,
        } = *call;
        let semaphore = self.semaphore(project_id, &toolkit.slug);
        if let (Some(binding), Some(server)) = (&tool.tool.mcp, &toolkit.mcp) {
            let credential = match mcp_credential(toolkit, credentials) {
                Ok(credential) => credential,
                Err(message) => return Execution::failed(message, None, Value::Null),
            };
            let _permit = semaphore.acquire_owned().await;
            let call = super::mcp::pool::Call {
                project: project_id,
                toolkit: &toolkit.slug,
                server,
                tool: binding,
                arguments,
                credential,
            };
            return self.mcp.call(call, spool).await;
        }
        let request = match build(toolkit, tool, arguments, credentials, files) {
            Ok(request) => request,
            Err(message) => return Execution::failed(message, None, Value::Null),
        };
        let idempotent = tool.tool.http.is_idempotent();
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Held for the request only, not while waiting to retry.
            let permit = semaphore.clone().acquire_owned().await;
            let response = self.send(&request, spool).await;
            drop(permit);
            let retry_after = match &response {
                Ok((status, headers, _)) if *status == 429 || (500..600).contains(status) => Some(
                    retry_delay(headers.get("retry-after").map(String::as_str), attempt),
                ),
                Err(_) if idempotent => Some(retry_delay(None, attempt)),
                _ => None,
            };
            match retry_after {
                Some(Some(delay)) if idempotent && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(tool = %tool.tool.slug, attempt, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                    continue;
                }
                _ => {
                    let execution = finish(response, spool);
                    return match &tool.tool.graphql {
                        Some(graphql) => super::graphql::settle(graphql, execution),
                        None => execution,
                    };
                }
            }
        }
    }

    pub(super) async fn send(
        &self,
        request: &Prepared,
        spool: Option<&Spool>,
    ) -> Result<Response, String> {
        let mut builder = self
            .client
            .request(request.method.clone(), &request.url)
            .query(&request.query);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        if let Some(form) = &request.form {
            builder = builder.form(form);
        }
        if !request.parts.is_empty() {
            let mut form = reqwest::multipart::Form::new();
            for (name, part) in &request.parts {
                form = form.part(name.clone(), part.form_part()?);
            }
            builder = builder.multipart(form);
        }
        let mut response = builder.send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned()))
            })
            .collect();
        let mut body = Vec::new();
        let mut file: Option<(tokio::fs::File, u64)> = None;
        let mut created = false;
        let streamed = async {
            while let Some(chunk) = response.chunk().await.map_err(describe)? {
                if let Some((out, written)) = file.as_mut() {
                    *written += chunk.len() as u64;
                    if *written > MAX_SPOOLED_BYTES {
                        return Err(format!(
                            "the upstream response is larger than {} MiB",
                            MAX_SPOOLED_BYTES >> 20
                        ));
                    }
                    if let Some(spool) = spool {
                        spool.charge(chunk.len() as u64)?;
                    }
                    out.write_all(&chunk)
                        .await
                        .map_err(|e| format!("cannot save the response: {e}"))?;
                    continue;
                }
                body.extend_from_slice(&chunk);
                if let Some(spool) = spool.filter(|s| body.len() > s.threshold) {
                    // Large: from here on the body streams to disk.
                    spool.charge(body.len() as u64)?;
                    let out = spool
                        .dir
                        .create(&spool.name)
                        .map_err(|e| format!("cannot save the response: {e}"))?;
                    let mut out = tokio::fs::File::from_std(out.into_std());
                    created = true;
                    out.write_all(&body)
                        .await
                        .map_err(|e| format!("cannot save the response: {e}"))?;
                    file = Some((out, body.len() as u64));
                    body = Vec::new();
                } else if body.len() > MAX_RESPONSE_BYTES {
                    return Err(format!(
                        "the upstream response is larger than {} MiB",
                        MAX_RESPONSE_BYTES >> 20
                    ));
                }
            }
            Ok(())
        }
        .await;
        if let Err(err) = streamed {
            // Leave nothing half-written behind.
            if let (true, Some(spool)) = (created, spool) {
                let _ = spool.dir.remove_file(&spool.name);
            }
            return Err(err);
        }
        match (file, spool) {
            (Some((mut out, written)), Some(spool)) => {
                out.flush()
                    .await
                    .map_err(|e| format!("cannot save the response: {e}"))?;
                Ok((status, headers, Body::File(spool.name.clone(), written)))
            }
            _ => Ok((status, headers, Body::Memory(body))),
        }
    }
}

/// What came back: status, lower-cased headers, body.
pub(super) type Response = (u16, HashMap<String, String>, Body);

/// A request ready to send (and to resend on retry).
pub(super) struct Prepared {
    pub(super) method: reqwest::Method,
    pub(super) url: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Option<Value>,
    /// A form-urlencoded body (sent instead of a JSON body).
    pub(super) form: Option<Vec<(String, String)>>,
    /// Multipart parts (sent instead of a JSON body when not empty).
    pub(super) parts: Vec<(String, Part)>,
}

fn build(
    toolkit: &Toolkit,
    tool: &CatalogTool,
    arguments: &Value,
    credentials: Option<&Value>,
    files: &Attachments,
) -> Result<Prepared, String> {
    let args = arguments.as_object().cloned().unwrap_or_default();
    let http = &tool.tool.http;
    let mut path = http.path.clone();
    for name in http.placeholders() {
        let value = args
            .get(&name)
            .ok_or_else(|| format!("arguments.{name}: is required"))?;
        let text = scalar(value);
        // A dot segment would climb the upstream's path (URL parsing removes
        // `..`), reaching endpoints the tool does not bind.
        if text.is_empty() || text == "." || text == ".." {
            return Err(format!(
                "arguments.{name}: must not be empty, \".\" or \"..\""
            ));
        }
        let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        path = path.replace(&format!("{{{name}}}"), &encoded.replace('+', "%20"));
    }
    // Placeholders side by side (`/{a}{b}`) could still make a dot segment.
    if path
        .split(['/', '?'])
        .any(|segment| segment == "." || segment == "..")
    {
        return Err("arguments: the path would have a \".\" or \"..\" segment".into());
    }
    // Query, header and form values: scalars as text; lists and objects as
    // the argument's style says (comma-joined by default).
    let flat = |names: &[String]| -> Vec<(String, String)> {
        let mut out = Vec::new();
        for name in names {
            let Some(value) = args.get(name).filter(|v| !v.is_null()) else {
                continue;
            };
            let wire = http.wire_name(name);
            match http.styles.get(name).copied().unwrap_or_default() {
                Style::Comma => out.push((wire.to_owned(), comma_joined(value))),
                Style::Repeat => match value {
                    Value::Array(items) => {
                        out.extend(items.iter().map(|v| (wire.to_owned(), scalar(v))));
                    }
                    other => out.push((wire.to_owned(), scalar(other))),
                },
                Style::Deep => deep_object(wire, value, &mut out),
            }
        }
        out
    };
    let mut query = flat(&http.query);
    let body = if let Some(graphql) = &tool.tool.graphql {
        let name = super::graphql::operation(&graphql.document)
            .ok()
            .and_then(|op| op.name);
        Some(super::graphql::request_body(
            graphql,
            name.as_deref(),
            arguments,
        ))
    } else if let Some(name) = &http.body_whole {
        args.get(name).filter(|v| !v.is_null()).cloned()
    } else if http.body.is_empty() {
        None
    } else {
        let mut body = Map::new();
        for name in &http.body {
            if let Some(value) = args.get(name).filter(|v| !v.is_null()) {
                body.insert(http.wire_name(name).to_owned(), value.clone());
            }
        }
        Some(Value::Object(body))
    };
    let form = if http.form.is_empty() {
        None
    } else {
        Some(flat(&http.form))
    };
    let mut parts = Vec::new();
    for name in &http.multipart {
        if let Some(files) = files.get(name) {
            let wire = http.wire_name(name).to_owned();
            parts.extend(files.iter().map(|f| (wire.clone(), Part::File(f.clone()))));
            continue;
        }
        let wire = http.wire_name(name).to_owned();
        match args.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                parts.extend(items.iter().map(|v| (wire.clone(), Part::Text(scalar(v)))));
            }
            Some(value) => parts.push((wire, Part::Text(scalar(value)))),
        }
    }
    let mut headers: Vec<(String, String)> = http
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    headers.extend(flat(&http.header));
    if let Some(inject) = &toolkit.auth.inject {
        let credentials = credentials.ok_or_else(|| no_account(toolkit))?;
        let value = credential_value(&inject.format, credentials)?;
        match inject.location.as_str() {
            "query" => query.push((inject.name.clone(), value)),
            _ => headers.push((inject.name.clone(), value)),
        }
    }
    let method = reqwest::Method::from_bytes(http.method.as_bytes()).map_err(|e| e.to_string())?;
    Ok(Prepared {
        method,
        url: format!("{}{}", toolkit.base_url.trim_end_matches('/'), path),
        query,
        headers,
        body,
        form,
        parts,
    })
}

/// Where an MCP toolkit's server gets the connected account's credential.
fn mcp_credential(
    toolkit: &Toolkit,
    credentials: Option<&Value>,
) -> Result<Option<super::mcp::connect::Credential>, String> {
    let Some(inject) = &toolkit.auth.inject else {
        return Ok(None);
    };
    let credentials = credentials.ok_or_else(|| no_account(toolkit))?;
    let place = super::mcp::connect::Place::parse(&inject.location).ok_or_else(|| {
        format!(
            "{}: auth.inject.in is not env, header or query",
            toolkit.slug
        )
    })?;
    Ok(Some(super::mcp::connect::Credential {
        place,
        name: inject.name.clone(),
        value: credential_value(&inject.format, credentials)?,
    }))
}

fn no_account(toolkit: &Toolkit) -> String {
    format!(
        "no connected account for {}: connect one (COMPOSIO_MANAGE_CONNECTIONS or POST /api/v3.1/connected_accounts)",
        toolkit.slug
    )
}

/// Saves `data` (as JSON) to `spool` when it is larger than the spool's
/// threshold: the saved file's name and size, or `None` when it is small.
pub(super) fn spool_value(spool: &Spool, data: &Value) -> Result<Option<(String, u64)>, String> {
    let bytes = serde_json::to_vec(data).map_err(|e| format!("cannot save the response: {e}"))?;
    if bytes.len() <= spool.threshold {
        return Ok(None);
    }
    spool.charge(bytes.len() as u64)?;
    let written = spool
        .dir
        .write(&spool.name, &bytes)
        .map_err(|e| format!("cannot save the response: {e}"));
    if let Err(message) = written {
        let _ = spool.dir.remove_file(&spool.name);
        return Err(message);
    }
    Ok(Some((spool.name.clone(), bytes.len() as u64)))
}

pub(super) fn credential_value(format: &str, credentials: &Value) -> Result<String, String> {
    let get = |k: &str| {
        credentials
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let token = get("token")
        .or_else(|| get("access_token"))
        .or_else(|| get("api_key"));
    let api_key = get("api_key").or_else(|| get("token"));
    let mut value = format.to_owned();
    if value.contains("{token}") {
        value = value.replace(
            "{token}",
            &token.ok_or("the connected account has no token")?,
        );
    }
    if value.contains("{api_key}") {
        value = value.replace(
            "{api_key}",
            &api_key.ok_or("the connected account has no api_key")?,
        );
    }
    if value.contains("{basic}") {
        let user = get("username").ok_or("the connected account has no username")?;
        let password = get("password").unwrap_or_default();
        value = value.replace(
            "{basic}",
            &base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")),
        );
    }
    Ok(value)
}

fn comma_joined(value: &Value) -> String {
    match value {
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(","),
        other => scalar(other),
    }
}

/// `name[key]=value` pairs (OpenAPI's `deepObject`, and how Rails, PHP and
/// Stripe read nested form fields): objects by key, lists as `name[]`
/// (lists of objects by index), nested as deep as the value.
fn deep_object(name: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                deep_object(&format!("{name}[{key}]"), inner, out);
            }
        }
        Value::Array(items) => {
            let nested = items.iter().any(|v| v.is_object() || v.is_array());
            for (i, inner) in items.iter().enumerate() {
                let key = if nested {
                    format!("{name}[{i}]")
                } else {
                    format!("{name}[]")
                };
                deep_object(&key, inner, out);
            }
        }
        Value::Null => {}
        other => out.push((name.to_owned(), scalar(other))),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

/// Follows redirects only to the origin (scheme, host, port) of the request
/// that started the chain, so credentials injected into the request (in
/// any header, query or body) never reach another host. A redirect
/// elsewhere is not followed: the tool call fails and says where it led.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin || attempt.previous().len() > MAX_REDIRECTS {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// The delay before the next attempt: Retry-After (seconds or an HTTP date
/// is not parsed: seconds only), else exponential backoff. `None` when the
/// upstream asks for longer than we wait.
fn retry_delay(retry_after: Option<&str>, attempt: u32) -> Option<Duration> {
    if let Some(secs) = retry_after.and_then(|v| v.trim().parse::<f64>().ok()) {
        // "inf", "1e300" and NaN are not durations: too long to wait.
        let delay = Duration::try_from_secs_f64(secs.max(0.0)).ok()?;
        return (delay <= MAX_RETRY_AFTER).then_some(delay);
    }
    Some(BASE_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1)))
}

pub(super) fn finish(response: Result<Response, String>, spool: Option<&Spool>) -> Execution {
    let (status, headers, body) = match response {
        Ok(parts) => parts,
        Err(message) => return Execution::failed(message, None, Value::Null),
    };
    let is_json = headers
        .get("content-type")
        .is_some_and(|ct| ct.contains("json"));
    let (parsed, spooled) = match body {
        Body::Memory(bytes) if bytes.is_empty() => (Ok(Value::Object(Map::new())), None),
        Body::Memory(bytes) => (
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| (e.to_string(), String::from_utf8_lossy(&bytes).into_owned())),
            None,
        ),
        Body::File(name, len) if len > MAX_PREVIEW_PARSE_BYTES => {
            // Too large to parse for a preview: the file is the result.
            let note = serde_json::json!({
                "note": format!("the {len}-byte response is too large to preview; it is saved whole in the workbench"),
                "size_bytes": len,
            });
            (Ok(note), Some((name, len)))
        }
        Body::File(name, len) => {
            // The only in-memory copy of a large body: its parsed form.
            let parsed = spool
                .ok_or_else(|| "no spool".to_owned())
                .and_then(|s| s.dir.open(&name).map_err(|e| e.to_string()))
                .map(cap_std::fs::File::into_std)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    serde_json::from_reader::<_, Value>(std::io::BufReader::new(f))
                        .map_err(|e| e.to_string())
                })
                .map_err(|e| (e, format!("(the {len}-byte response is in the saved file)")));
            (parsed, Some((name, len)))
        }
    };
    let data = match parsed {
        Ok(value) => value,
        Err((e, _)) if is_json => {
            let mut failed = Execution::failed(
                format!("the upstream sent malformed JSON (HTTP {status}): {e}"),
                Some(status),
                Value::Null,
            );
            failed.spooled = spooled;
            return failed;
        }
        Err((_, text)) => serde_json::json!({"text": text}),
    };
    if (300..400).contains(&status) {
        // Only redirects the policy refused to follow end up here.
        let target = headers
            .get("location")
            .and_then(|l| reqwest::Url::parse(l).ok())
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_else(|| "elsewhere".into());
        let mut failed = Execution::failed(
            format!(
                "the upstream redirected (HTTP {status}) to {target}: redirects are followed only within the toolkit's origin (at most {MAX_REDIRECTS}), so credentials never reach another host"
            ),
            Some(status),
            Value::Null,
        );
        failed.spooled = spooled;
        return failed;
    }
    if (200..300).contains(&status) {
        Execution {
            successful: true,
            data,
            error: None,
            status: Some(status),
            spooled,
        }
    } else {
        let detail = data
            .get("message")
            .or_else(|| data.get("error"))
            .map(|m| match m {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        let mut failed = Execution::failed(
            format!("upstream returned HTTP {status}: {detail}"),
            Some(status),
            data,
        );
        failed.spooled = spooled;
        failed
    }
}

#[cfg(test)]
mod retry_tests {
    use super::*;

    #[test]
    fn hostile_retry_after_values_do_not_panic() {
        for value in ["inf", "-inf", "NaN", "1e300", "-5", "18446744073709551616"] {
            let delay = retry_delay(Some(value), 1);
            assert!(
                delay.is_none_or(|d| d <= MAX_RETRY_AFTER),
                "{value}: {delay:?}"
            );
        }
        assert_eq!(
            retry_delay(Some("0.5"), 1),
            Some(Duration::from_millis(500))
        );
        assert_eq!(retry_delay(Some("inf"), 1), None);
    }
}

fn describe(err: reqwest::Error) -> String {
    if err.is_timeout() {
        "the upstream did not answer in time".into()
    } else if err.is_connect() {
        "cannot connect to the upstream".into()
    } else {
        format!("upstream request failed: {}", err.without_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays() {
        assert_eq!(retry_delay(Some("1"), 1), Some(Duration::from_secs(1)));
        assert_eq!(retry_delay(Some("3600"), 1), None);
        assert_eq!(retry_delay(None, 1), Some(BASE_BACKOFF));
        assert_eq!(retry_delay(None, 3), Some(BASE_BACKOFF * 4));
    }

    #[test]
    fn credential_formats() {
        let creds = serde_json::json!({"token": "t0k", "username": "u", "password": "p"});
        assert_eq!(
            credential_value("Bearer {token}", &creds).unwrap(),
            "Bearer t0k"
        );
        assert_eq!(
            credential_value("Basic {basic}", &creds).unwrap(),
            "Basic dTpw"
        );
        assert!(credential_value("{api_key}", &serde_json::json!({})).is_err());
    }
}

#[cfg(test)]
mod path_tests {
    use super::*;
    use crate::catalog::toolkit::{Auth, Http, Tool};

    fn tool(path: &str) -> (Toolkit, CatalogTool) {
        let http = Http {
            method: "GET".into(),
            path: path.into(),
            ..Http::default()
        };
        let tool = Tool {
            slug: "T_GET".into(),
            name: "Get".into(),
            description: "Gets.".into(),
            tags: Vec::new(),
            http,
            graphql: None,
            mcp: None,
            input_parameters: serde_json::json!({"type": "object"}),
            output_parameters: serde_json::json!({"type": "object"}),
            example: None,
            imported: false,
        };
        let toolkit = Toolkit {
            slug: "t".into(),
            name: "T".into(),
            description: "T.".into(),
            logo: String::new(),
            base_url: "https://t.example/api".into(),
            categories: Vec::new(),
            auth: Auth {
                schemes: vec!["NO_AUTH".into()],
                inject: None,
                oauth2: None,
            },
            tools: Vec::new(),
            mcp: None,
            tools_count: 0,
        };
        let tool = CatalogTool {
            tool,
            toolkit: "t".into(),
            validator: std::sync::OnceLock::new(),
        };
        (toolkit, tool)
    }

    #[test]
    fn list_and_object_arguments_follow_their_style() {
        let (toolkit, mut t) = tool("/items");
        t.tool.http.query = vec!["ids".into(), "filter".into(), "tags".into()];
        t.tool.http.styles = [
            ("ids".into(), Style::Repeat),
            ("filter".into(), Style::Deep),
        ]
        .into_iter()
        .collect();
        let args = serde_json::json!({
            "ids": [1, 2],
            "filter": {"state": "open", "labels": ["a", "b"], "by": [{"n": 1}]},
            "tags": ["x", "y"],
        });
        let built = build(&toolkit, &t, &args, None, &Attachments::new())
            .ok()
            .unwrap();
        let pairs: Vec<(&str, &str)> = built
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("ids", "1"),
                ("ids", "2"),
                ("filter[state]", "open"),
                ("filter[labels][]", "a"),
                ("filter[labels][]", "b"),
                ("filter[by][0][n]", "1"),
                ("tags", "x,y"),
            ]
        );
    }

    #[test]
    fn placeholders_cannot_make_dot_segments_together() {
        let (toolkit, t) = tool("/files/{a}{b}");
        let files = Attachments::new();
        for (a, b) in [(".", "."), ("", "."), (".", "")] {
            let args = serde_json::json!({"a": a, "b": b});
            let built = build(&toolkit, &t, &args, None, &files);
            assert!(built.is_err(), "{a:?} {b:?}");
        }
        let args = serde_json::json!({"a": "x", "b": "y."});
        let built = build(&toolkit, &t, &args, None, &files).ok().unwrap();
        assert_eq!(built.url, "https://t.example/api/files/xy.");
        let args = serde_json::json!({"a": "../", "b": "x"});
        let built = build(&toolkit, &t, &args, None, &files).ok().unwrap();
        assert_eq!(built.url, "https://t.example/api/files/..%2Fx");
    }
}
