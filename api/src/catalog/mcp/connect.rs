//! Starting (stdio) or reaching (streamable HTTP) an MCP server, with the
//! handshake done, and listing its tools.
//!
//! What goes wrong is logged with its detail (a program that is not found,
//! the server's stderr, an HTTP error) and reported to callers in words
//! that name neither host paths nor URLs: tool errors reach agents.

use super::Server;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// A live connection to an MCP server (dropping it closes the connection
/// and stops a stdio server's whole process group).
pub type Connection = RunningService<RoleClient, ClientConfig>;

/// Largest message accepted from a server over HTTP (stdio lines are
/// bounded at the same size by rmcp).
pub const MAX_MESSAGE_BYTES: usize = rmcp::transport::async_rw::DEFAULT_MAX_LINE_LENGTH;

/// Environment variables of toolshed a stdio server gets; `env` adds more.
const PASSED_ENV: [&str; 4] = ["PATH", "HOME", "LANG", "TMPDIR"];

/// A connected account's credential, where the toolkit puts it: an
/// environment variable of a stdio server, or a header or query parameter
/// of an HTTP server's requests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Credential {
    /// `env`, `header` or `query`.
    pub location: String,
    /// The variable, header or parameter.
    pub name: String,
    /// Its value.
    pub value: String,
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
    /// The server refused the credential (HTTP 401 or 403).
    #[error("its MCP server refused the credential")]
    Refused,
    /// The server did not finish the handshake in time.
    #[error("its MCP server did not answer within {} s", .0.as_secs())]
    TimedOut(Duration),
    /// `${NAME}` in the toolkit's `env` or `headers` names a variable that
    /// is not set (any more).
    #[error("its MCP server is misconfigured: {0}")]
    Config(String),
}

/// Opens a connection to `server` for toolkit `slug`, with `credential`
/// (if any) where the toolkit says.
pub async fn open(
    server: &Server,
    slug: &str,
    credential: Option<&Credential>,
) -> Result<Connection, ConnectError> {
    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("toolshed", env!("CARGO_PKG_VERSION")),
    );
    let started = tokio::time::timeout(server.connect_timeout(), async {
        if let Some(url) = &server.url {
            let transport = http_transport(server, url, credential)?;
            client.serve(transport).await.map_err(|err| {
                if err.auth_challenge().is_some() || is_refusal(&err.to_string()) {
                    tracing::warn!(toolkit = slug, error = %err, "the MCP server refused the credential");
                    ConnectError::Refused
                } else {
                    tracing::warn!(toolkit = slug, error = %err, "cannot reach the MCP server");
                    ConnectError::Unavailable
                }
            })
        } else {
            let transport = stdio_transport(server, slug, credential)?;
            client.serve(transport).await.map_err(|err| {
                tracing::warn!(toolkit = slug, error = %err, "the MCP server broke off the handshake");
                ConnectError::Unavailable
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

/// Whether a transport error is an HTTP 401 or 403.
pub fn is_refusal(message: &str) -> bool {
    message.contains("401") || message.contains("403") || message.contains("Auth required")
}

fn stdio_transport(
    server: &Server,
    slug: &str,
    credential: Option<&Credential>,
) -> Result<rmcp::transport::TokioChildProcess, ConnectError> {
    let program = resolve(&server.folder, &server.command[0]);
    let mut command = tokio::process::Command::new(program);
    command.args(&server.command[1..]);
    command.env_clear();
    for name in PASSED_ENV {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    for (name, value) in &server.env {
        command.env(name, super::expand(value).map_err(ConnectError::Config)?);
    }
    if let Some(credential) = credential.filter(|c| c.location == "env") {
        command.env(&credential.name, &credential.value);
    }
    command.current_dir(match &server.cwd {
        Some(cwd) => server.folder.join(cwd),
        None => server.folder.clone(),
    });
    let mut wrapped = process_wrap::tokio::CommandWrap::from(command);
    // Its own process group: closing the connection stops whatever the
    // program started too (`npx` runs node as a child).
    wrapped.wrap(process_wrap::tokio::ProcessGroup::leader());
    wrapped.wrap(process_wrap::tokio::KillOnDrop);
    let (transport, stderr) = rmcp::transport::TokioChildProcess::builder(wrapped)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|err| {
            tracing::warn!(toolkit = slug, error = %err, "cannot start the MCP server");
            ConnectError::Start
        })?;
    if let Some(stderr) = stderr {
        tokio::spawn(log_stderr(slug.to_owned(), stderr));
    }
    Ok(transport)
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
/// cut at 4 KiB), until it exits.
async fn log_stderr(slug: String, stderr: tokio::process::ChildStderr) {
    use futures::StreamExt;
    let codec = tokio_util::codec::LinesCodec::new_with_max_length(4096);
    let mut lines = tokio_util::codec::FramedRead::new(stderr, codec);
    while let Some(line) = lines.next().await {
        match line {
            Ok(line) => tracing::info!(toolkit = %slug, "mcp server: {line}"),
            Err(tokio_util::codec::LinesCodecError::MaxLineLengthExceeded) => {
                tracing::info!(toolkit = %slug, "mcp server: (a line longer than 4 KiB)");
            }
            Err(_) => break,
        }
    }
}

type HttpTransport = rmcp::transport::StreamableHttpClientTransport<reqwest_mcp::Client>;

fn http_transport(
    server: &Server,
    url: &str,
    credential: Option<&Credential>,
) -> Result<HttpTransport, ConnectError> {
    let mut headers = HashMap::new();
    let mut add = |name: &str, value: &str| -> Result<(), ConnectError> {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ConnectError::Config(format!("{name} is not a header name")))?;
        let value = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
            ConnectError::Config(format!("the value of header {name} is not valid"))
        })?;
        headers.insert(name, value);
        Ok(())
    };
    for (name, value) in &server.headers {
        add(name, &super::expand(value).map_err(ConnectError::Config)?)?;
    }
    let mut url = reqwest::Url::parse(url).map_err(|_| ConnectError::Config("bad url".into()))?;
    match credential {
        Some(c) if c.location == "header" => add(&c.name, &c.value)?,
        Some(c) if c.location == "query" => {
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
const MAX_PAGES: usize = 200;

/// Every page of the server's tools, up to MAX_TOOLS.
async fn list_tools(
    peer: &rmcp::service::Peer<RoleClient>,
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
/// works from start-up code and from inside a runtime alike). Only the
/// `[mcp]` table's own `env` and `headers` are used: no account's
/// credential.
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
                    let connection = open(&server, &slug, None)
                        .await
                        .map_err(|e| e.to_string())?;
                    let listed = tokio::time::timeout(
                        server.connect_timeout(),
                        list_tools(connection.peer(), &slug),
                    )
                    .await;
                    let _ = connection.cancel().await;
                    match listed {
                        Ok(Ok(tools)) => Ok(tools),
                        Ok(Err(err)) => {
                            tracing::warn!(toolkit = %slug, error = %err, "cannot list the MCP server's tools");
                            Err(format!("its MCP server did not list its tools: {err}"))
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
