//! Starting (stdio) or reaching (streamable HTTP) an MCP server, with the
//! handshake done, and listing its tools.
//!
//! What goes wrong is logged with its detail (a program that is not found,
//! the server's stderr, an HTTP error), with a connected account's
//! credential masked, and reported to callers in words that name neither
//! host paths nor URLs nor environment variables: tool errors reach agents.

use super::Server;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{Peer, RoleClient, RunningService, ServiceExt};
use rmcp::transport::streamable_http_client::StreamableHttpError;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Largest message accepted from a server over HTTP (stdio lines are
/// bounded at the same size by rmcp).
pub const MAX_MESSAGE_BYTES: usize = rmcp::transport::async_rw::DEFAULT_MAX_LINE_LENGTH;

/// Environment variables of toolshed a stdio server gets; `env` adds more.
const PASSED_ENV: [&str; 4] = ["PATH", "HOME", "LANG", "TMPDIR"];

/// Longest stderr line of a stdio server logged whole.
const MAX_LOGGED_LINE: usize = 4096;

/// Where a connected account's credential goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// An environment variable of a stdio server.
    Env,
    /// A header of an HTTP server's requests.
    Header,
    /// A query parameter of the HTTP server's URL.
    Query,
}

impl Place {
    /// The place `auth.inject.in` names.
    pub fn parse(location: &str) -> Option<Place> {
        match location {
            "env" => Some(Place::Env),
            "header" => Some(Place::Header),
            "query" => Some(Place::Query),
            _ => None,
        }
    }
}

/// A connected account's credential, where the toolkit puts it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Credential {
    /// Where.
    pub place: Place,
    /// The variable, header or parameter.
    pub name: String,
    /// Its value.
    pub value: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("place", &self.place)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `text` with `credential`'s value masked, for logs.
pub fn masked(text: &str, credential: Option<&Credential>) -> String {
    match credential.filter(|c| c.value.len() >= 4) {
        Some(c) => {
            let encoded: String =
                url::form_urlencoded::byte_serialize(c.value.as_bytes()).collect();
            text.replace(&c.value, "***").replace(&encoded, "***")
        }
        None => text.to_owned(),
    }
}

/// Why a connection could not be made.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ConnectError {
    /// The program could not be started.
    #[error("its MCP server could not be started (the server log says why)")]
    Start,
    /// The server could not be reached, or broke off the handshake.
    #[error("its MCP server is unavailable (the server log says why)")]
    Unavailable,
    /// The server refused the credential (HTTP 401).
    #[error("its MCP server refused the credential")]
    Refused,
    /// The server refused access with the credential (HTTP 403).
    #[error("its MCP server refused access (HTTP 403): the credential lacks a permission")]
    Forbidden,
    /// The server did not finish the handshake in time.
    #[error("its MCP server did not answer within {} s", .0.as_secs())]
    TimedOut(Duration),
    /// The toolkit's `[mcp]` table cannot be used now (a `${NAME}` that is
    /// not set any more, a header value that is not valid).
    #[error("its MCP server is misconfigured (the server log says why)")]
    Config,
}

/// A stdio server's process group, killed when the guard drops: closing a
/// connection for any reason (a timeout, eviction, shutdown, a start-up
/// that timed out) stops everything the program started.
struct ProcessGroup(nix::unistd::Pid);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // ESRCH (already gone) is what a clean exit leaves.
        let _ = nix::sys::signal::killpg(self.0, nix::sys::signal::Signal::SIGKILL);
    }
}

/// A live connection to an MCP server. Dropping it closes the connection
/// and kills a stdio server's process group.
pub struct Connection {
    service: Option<RunningService<RoleClient, ClientConfig>>,
    _group: Option<ProcessGroup>,
}

impl Connection {
    /// The server, to send requests to.
    pub fn peer(&self) -> Option<&Peer<RoleClient>> {
        self.service.as_ref().map(RunningService::peer)
    }

    /// Whether the connection can no longer carry requests.
    pub fn is_closed(&self) -> bool {
        self.service
            .as_ref()
            .is_none_or(|s| s.is_closed() || s.peer().is_transport_closed())
    }

    /// Closes the connection the way MCP asks (a stdio server's stdin is
    /// closed and it is given a moment to exit), then kills what is left.
    pub async fn close(mut self) {
        if let Some(service) = self.service.take() {
            let _ = service.cancel().await;
        }
    }
}

/// Opens a connection to `server` for toolkit `slug`, with `credential`
/// (if any) where the toolkit says. `listing` sends the table's
/// `listing_headers` / `listing_env` (the operator's credential for
/// listing) instead of an account's.
pub async fn open(
    server: &Server,
    slug: &str,
    credential: Option<&Credential>,
    listing: bool,
) -> Result<Connection, ConnectError> {
    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("toolshed", env!("CARGO_PKG_VERSION")),
    );
    let log = |what: &str, err: &dyn std::fmt::Display| {
        tracing::warn!(toolkit = slug, error = %masked(&err.to_string(), credential), "{what}");
    };
    // The guard lives in the future: a timeout drops it, killing the group.
    let started = tokio::time::timeout(server.connect_timeout(), async {
        if let Some(url) = &server.url {
            let transport = http_transport(server, slug, url, credential, listing)?;
            let service = client.serve(transport).await.map_err(|err| {
                let refusal = match &err {
                    rmcp::service::ClientInitializeError::TransportError { error, .. } => {
                        http_refusal(error.error.as_ref())
                    }
                    _ => None,
                };
                log("cannot open a connection to the MCP server", &err);
                match refusal {
                    Some(403) => ConnectError::Forbidden,
                    Some(_) => ConnectError::Refused,
                    None => ConnectError::Unavailable,
                }
            })?;
            Ok(Connection {
                service: Some(service),
                _group: None,
            })
        } else {
            let (transport, group) = stdio_transport(server, slug, credential, listing)?;
            let service = client.serve(transport).await.map_err(|err| {
                log("the MCP server broke off the handshake", &err);
                ConnectError::Unavailable
            })?;
            Ok(Connection {
                service: Some(service),
                _group: group,
            })
        }
    })
    .await;
    match started {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                toolkit = slug,
                seconds = server.connect_timeout_secs,
                "the MCP server did not finish its handshake in time"
            );
            Err(ConnectError::TimedOut(server.connect_timeout()))
        }
    }
}

/// The HTTP status of an authentication refusal (401 or 403) somewhere in
/// `err`'s chain: rmcp's typed challenges, or an unchallenged 401/403,
/// which rmcp reports as an unexpected response starting `HTTP 401`.
pub fn http_refusal(err: &(dyn std::error::Error + 'static)) -> Option<u16> {
    let mut source = Some(err);
    while let Some(current) = source {
        match current.downcast_ref::<StreamableHttpError<reqwest_mcp::Error>>() {
            Some(StreamableHttpError::AuthRequired(_)) => return Some(401),
            Some(StreamableHttpError::InsufficientScope(_)) => return Some(403),
            Some(StreamableHttpError::UnexpectedServerResponse(text)) => {
                for status in [401, 403] {
                    if text.starts_with(&format!("HTTP {status} ")) {
                        return Some(status);
                    }
                }
            }
            _ => {}
        }
        source = current.source();
    }
    None
}

fn stdio_transport(
    server: &Server,
    slug: &str,
    credential: Option<&Credential>,
    listing: bool,
) -> Result<(rmcp::transport::TokioChildProcess, Option<ProcessGroup>), ConnectError> {
    let program = resolve(&server.folder, &server.command[0]);
    let mut command = tokio::process::Command::new(program);
    command.args(&server.command[1..]);
    command.env_clear();
    for name in PASSED_ENV {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let listing_env = listing.then_some(&server.listing_env).into_iter().flatten();
    for (name, value) in server.env.iter().chain(listing_env) {
        let value = super::expand(value).map_err(|problem| {
            tracing::warn!(toolkit = slug, variable = %name, %problem, "cannot start the MCP server");
            ConnectError::Config
        })?;
        command.env(name, value);
    }
    if let Some(credential) = credential.filter(|c| c.place == Place::Env) {
        command.env(&credential.name, &credential.value);
    }
    command.current_dir(match &server.cwd {
        Some(cwd) => server.folder.join(cwd),
        None => server.folder.clone(),
    });
    let mut wrapped = process_wrap::tokio::CommandWrap::from(command);
    // Its own process group, so that what it starts (`npx` runs node as a
    // child) can be stopped with it.
    wrapped.wrap(process_wrap::tokio::ProcessGroup::leader());
    wrapped.wrap(process_wrap::tokio::KillOnDrop);
    let (transport, stderr) = rmcp::transport::TokioChildProcess::builder(wrapped)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|err| {
            tracing::warn!(toolkit = slug, error = %err, "cannot start the MCP server");
            ConnectError::Start
        })?;
    let group = transport
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .map(|pid| ProcessGroup(nix::unistd::Pid::from_raw(pid)));
    if let Some(stderr) = stderr {
        tokio::spawn(log_stderr(slug.to_owned(), stderr));
    }
    Ok((transport, group))
}

/// A program name as the child will be started with: a relative path with
/// a `/` is the toolkit folder's; a bare name is looked up in `PATH`.
fn resolve(folder: &std::path::Path, program: &str) -> PathBuf {
    let path = PathBuf::from(program);
    if path.is_relative() && program.contains('/') {
        folder.join(path)
    } else {
        path
    }
}

/// Logs what a stdio server writes to stderr, a line at a time (long lines
/// cut at 4 KiB), until it closes stderr: reading never stops early, so
/// the server never blocks on (or dies of) a full or closed pipe.
async fn log_stderr(slug: String, mut stderr: tokio::process::ChildStderr) {
    use tokio::io::AsyncReadExt;
    let mut line: Vec<u8> = Vec::new();
    let mut cut = false;
    let mut chunk = [0u8; 8192];
    loop {
        let n = match stderr.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &byte in &chunk[..n] {
            if byte == b'\n' {
                let text = String::from_utf8_lossy(&line);
                let more = if cut { " (cut)" } else { "" };
                tracing::info!(toolkit = %slug, "mcp server: {text}{more}");
                line.clear();
                cut = false;
            } else if line.len() < MAX_LOGGED_LINE {
                line.push(byte);
            } else {
                cut = true;
            }
        }
    }
}

type HttpTransport = rmcp::transport::StreamableHttpClientTransport<reqwest_mcp::Client>;

fn http_transport(
    server: &Server,
    slug: &str,
    url: &str,
    credential: Option<&Credential>,
    listing: bool,
) -> Result<HttpTransport, ConnectError> {
    let mut headers = HashMap::new();
    let mut add = |name: &str, value: &str| -> Result<(), ConnectError> {
        let parsed = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .ok()
            .zip(reqwest::header::HeaderValue::from_str(value).ok());
        let Some((name, value)) = parsed else {
            tracing::warn!(toolkit = slug, header = %name, "an MCP header name or value is not valid");
            return Err(ConnectError::Config);
        };
        headers.insert(name, value);
        Ok(())
    };
    let listing_headers = listing
        .then_some(&server.listing_headers)
        .into_iter()
        .flatten();
    for (name, value) in server.headers.iter().chain(listing_headers) {
        let value = super::expand(value).map_err(|problem| {
            tracing::warn!(toolkit = slug, header = %name, %problem, "cannot reach the MCP server");
            ConnectError::Config
        })?;
        add(name, &value)?;
    }
    let mut url = reqwest::Url::parse(url).map_err(|_| ConnectError::Config)?;
    match credential {
        Some(c) if c.place == Place::Header => add(&c.name, &c.value)?,
        Some(c) if c.place == Place::Query => {
            url.query_pairs_mut().append_pair(&c.name, &c.value);
        }
        _ => {}
    }
    let config =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            url.as_str(),
        )
        .custom_headers(headers)
        .max_json_response_size(MAX_MESSAGE_BYTES)
        .max_sse_event_size(MAX_MESSAGE_BYTES);
    Ok(HttpTransport::with_client(http_client()?, config))
}

/// The HTTP client of MCP connections: rustls with the webpki roots (as
/// toolshed's other clients), no redirects (a credential must not follow
/// one to another host).
fn http_client() -> Result<reqwest_mcp::Client, ConnectError> {
    static CLIENT: std::sync::OnceLock<Option<reqwest_mcp::Client>> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .ok()?
            .with_root_certificates(roots)
            .with_no_client_auth();
            reqwest_mcp::Client::builder()
                .tls_backend_preconfigured(tls)
                .redirect(reqwest_mcp::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("toolshed/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|err| tracing::error!(error = %err, "cannot build the MCP HTTP client"))
                .ok()
        })
        .clone()
        .ok_or(ConnectError::Unavailable)
}

/// Most tools taken from one server, and most pages of them asked for: a
/// server that pages forever cannot keep a load going or fill memory.
pub const MAX_TOOLS: usize = 5000;
const MAX_PAGES: usize = 20;

/// Every page of the server's tools, up to MAX_TOOLS.
async fn list_tools(
    peer: &Peer<RoleClient>,
    slug: &str,
) -> Result<Vec<rmcp::model::Tool>, rmcp::service::ServiceError> {
    let mut tools = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let params = rmcp::model::PaginatedRequestParams::default().with_cursor(cursor);
        let page = peer.list_tools(Some(params)).await?;
        tools.extend(page.tools);
        if tools.len() >= MAX_TOOLS {
            tracing::warn!(
                toolkit = slug,
                "the MCP server lists more than {MAX_TOOLS} tools; the rest are left out"
            );
            tools.truncate(MAX_TOOLS);
            return Ok(tools);
        }
        match page.next_cursor {
            Some(next) if !next.is_empty() => cursor = Some(next),
            _ => return Ok(tools),
        }
    }
    tracing::warn!(
        toolkit = slug,
        "the MCP server's tool list goes on past {MAX_PAGES} pages; the rest are left out"
    );
    Ok(tools)
}

/// The server's tools, listed over a connection made for the purpose
/// (blocking: it runs on a thread of its own with its own runtime, so it
/// works from start-up code and from inside a runtime alike), with the
/// `[mcp]` table's own `env` / `headers` and its `listing_env` /
/// `listing_headers`: no account's credential.
pub fn list_blocking(server: &Server, slug: &str) -> Result<Vec<rmcp::model::Tool>, String> {
    let server = server.clone();
    let slug = slug.to_owned();
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start a runtime: {e}"))?;
                runtime.block_on(async {
                    let connection = open(&server, &slug, None, true)
                        .await
                        .map_err(|e| e.to_string())?;
                    let listed = match connection.peer() {
                        Some(peer) => {
                            tokio::time::timeout(server.connect_timeout(), list_tools(peer, &slug))
                                .await
                        }
                        None => return Err("the connection closed".to_owned()),
                    };
                    connection.close().await;
                    match listed {
                        Ok(Ok(tools)) => Ok(tools),
                        Ok(Err(err)) => {
                            tracing::warn!(toolkit = %slug, error = %err, "cannot list the MCP server's tools");
                            Err("its MCP server did not list its tools (the server log says why)"
                                .to_owned())
                        }
                        Err(_) => Err(format!(
                            "its MCP server did not list its tools within {} s",
                            server.connect_timeout_secs
                        )),
                    }
                })
            })
            .join()
            .unwrap_or_else(|_| Err("listing the MCP server's tools panicked".into()))
    })
}
