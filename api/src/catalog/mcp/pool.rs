//! Calls to MCP servers over pooled connections: one live connection per
//! project, toolkit, server config and credential, opened on first use and
//! shared by that project's concurrent calls (MCP multiplexes requests).
//! One tenant never shares a server process or session with another.
//!
//! A connection that died (the server exited, the HTTP session ended) is
//! replaced on the next call; one whose call timed out is retired (and a
//! stdio server's process group killed), since a server stuck on one call
//! is likely stuck on the next. A call cut off mid-way is made again only
//! when the tool says it is read-only or idempotent. Connections idle for
//! ten minutes close, as do those of toolkits a reload removed or changed.

use super::connect::{self, ConnectError, Connection, Credential};
use super::{McpTool, Server};
use crate::catalog::http::{Execution, Spool};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::ServiceError;
use rmcp::transport::streamable_http_client::StreamableHttpError;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest error text taken from a tool's result.
const MAX_ERROR_BYTES: usize = 4096;
/// An unused connection closes after this long.
const IDLE: Duration = Duration::from_secs(600);

/// Pooled connections. Cheap to clone.
#[derive(Clone, Default)]
pub struct Pool {
    slots: Arc<Mutex<HashMap<Key, Arc<Slot>>>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = self.slots.lock().map(|s| s.len()).unwrap_or_default();
        f.debug_struct("Pool").field("slots", &open).finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    project: String,
    toolkit: String,
    /// The server's config as loaded: a reload that changes it connects
    /// anew (and [`Pool::retain`] closes the old connections).
    server: Server,
    credential: Option<Credential>,
}

/// One pooled connection: opened by the first call that needs it; the
/// async mutex makes concurrent first calls wait for one attempt.
struct Slot {
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    last_used: Mutex<Instant>,
    /// When the last attempt to connect failed, and why: the calls that
    /// were waiting for that attempt get its error at once instead of each
    /// waiting out a connect timeout of its own; later calls try again.
    failed: Mutex<Option<(Instant, ConnectError)>>,
}

/// Why a call failed.
enum Failure {
    /// The connection was closed before the request went out: nothing ran.
    Closed,
    /// The connection died while the call was in flight: it may have run.
    CutOff,
    /// The server did not answer in time: the connection is retired.
    TimedOut(String),
    /// Anything else: the message for the caller, and the status for the
    /// caller's OAuth handling (401: the credential was refused).
    Other(String, Option<u16>),
}

/// One call: whose, to which server, with what.
pub struct Call<'a> {
    /// The calling project.
    pub project: &'a str,
    /// The toolkit's slug.
    pub toolkit: &'a str,
    /// Its server.
    pub server: &'a Server,
    /// The tool.
    pub tool: &'a McpTool,
    /// Its arguments (an object).
    pub arguments: &'a Value,
    /// The connected account's credential, where the toolkit puts it.
    pub credential: Option<Credential>,
}

impl Pool {
    /// Makes `call`; a large result goes to `spool`.
    pub async fn call(&self, call: Call<'_>, spool: Option<&Spool>) -> Execution {
        let toolkit = call.toolkit;
        let key = Key {
            project: call.project.to_owned(),
            toolkit: toolkit.to_owned(),
            server: call.server.clone(),
            credential: call.credential,
        };
        let slot = self.slot(&key, call.server.max_connections);
        // At most two tries: a dead pooled connection is replaced once.
        let mut tries = 0;
        loop {
            tries += 1;
            let connection = match connection(&slot, &key).await {
                Ok(connection) => connection,
                Err(err) => {
                    let status = matches!(err, ConnectError::Refused).then_some(401);
                    return failed(format!("{toolkit}: {err}"), status);
                }
            };
            let outcome = call_once(&connection, call.server, call.tool, call.arguments).await;
            let outcome = outcome.map_err(|err| classify(err, key.credential.as_ref()));
            match outcome {
                Ok(result) => return settle(toolkit, result, spool),
                Err(Failure::Closed) if tries < 2 => forget(&slot, &connection).await,
                Err(Failure::CutOff) if tries < 2 && call.tool.retry_safe => {
                    forget(&slot, &connection).await;
                }
                Err(Failure::Closed) => {
                    forget(&slot, &connection).await;
                    return failed(
                        format!(
                            "{toolkit}: its MCP server closed the connection before the call was sent; try again"
                        ),
                        None,
                    );
                }
                Err(Failure::CutOff) => {
                    forget(&slot, &connection).await;
                    return failed(
                        format!(
                            "{toolkit}: its MCP server closed the connection during the call; it may or may not have run (the next call reconnects)"
                        ),
                        None,
                    );
                }
                Err(Failure::TimedOut(message)) => {
                    forget(&slot, &connection).await;
                    return failed(format!("{toolkit}: {message}"), None);
                }
                Err(Failure::Other(message, status)) => {
                    if status == Some(401) {
                        forget(&slot, &connection).await;
                    }
                    return failed(format!("{toolkit}: {message}"), status);
                }
            }
        }
    }

    /// The slot for `key`. Idle slots close first; opening one beyond the
    /// toolkit's `max_connections` closes its least recently used
    /// connection (calls in flight keep theirs to the end).
    fn slot(&self, key: &Key, max_connections: usize) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        slots.retain(|_, slot| Arc::strong_count(slot) > 1 || now - slot.used() < IDLE);
        if let Some(slot) = slots.get(key) {
            return slot.clone();
        }
        let mut same_toolkit: Vec<(Instant, Key)> = slots
            .iter()
            .filter(|(k, _)| k.toolkit == key.toolkit)
            .map(|(k, slot)| (slot.used(), k.clone()))
            .collect();
        if same_toolkit.len() >= max_connections {
            same_toolkit.sort_by_key(|(used, _)| *used);
            let excess = same_toolkit.len() + 1 - max_connections;
            for (_, old) in same_toolkit.iter().take(excess) {
                slots.remove(old);
            }
        }
        let slot = Arc::new(Slot {
            connection: tokio::sync::Mutex::new(None),
            last_used: Mutex::new(now),
            failed: Mutex::new(None),
        });
        slots.insert(key.clone(), slot.clone());
        slot
    }

    /// Closes the connections of toolkits that `still_served` says are no
    /// longer served with the same server config (after a reload).
    pub fn retain(&self, still_served: impl Fn(&str, &Server) -> bool) {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|key, _| still_served(&key.toolkit, &key.server));
    }

    /// Closes every pooled connection (at shutdown).
    pub fn clear(&self) {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

impl Slot {
    fn used(&self) -> Instant {
        *self.last_used.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn connection(slot: &Slot, key: &Key) -> Result<Arc<Connection>, ConnectError> {
    let arrived = Instant::now();
    *slot.last_used.lock().unwrap_or_else(|p| p.into_inner()) = arrived;
    let mut held = slot.connection.lock().await;
    if let Some(connection) = held.as_ref()
        && !connection.is_closed()
    {
        return Ok(connection.clone());
    }
    if let Some((at, err)) = slot
        .failed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        && *at >= arrived
    {
        return Err(err.clone());
    }
    match connect::open(&key.server, &key.toolkit, key.credential.as_ref(), false).await {
        Ok(connection) => {
            let connection = Arc::new(connection);
            *held = Some(connection.clone());
            Ok(connection)
        }
        Err(err) => {
            *slot.failed.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((Instant::now(), err.clone()));
            Err(err)
        }
    }
}

/// Drops `connection` from `slot` if it is still the slot's (it closes
/// when the last call using it ends).
async fn forget(slot: &Slot, connection: &Arc<Connection>) {
    let mut held = slot.connection.lock().await;
    if held.as_ref().is_some_and(|c| Arc::ptr_eq(c, connection)) {
        *held = None;
    }
}

/// A call's own failure, before it is classified.
enum Raw {
    Closed,
    TimedOut,
    Service(ServiceError),
}

async fn call_once(
    connection: &Connection,
    server: &Server,
    tool: &McpTool,
    arguments: &Value,
) -> Result<CallToolResult, (Raw, u64)> {
    let timeout = server.timeout_secs;
    let Some(peer) = connection.peer().filter(|_| !connection.is_closed()) else {
        return Err((Raw::Closed, timeout));
    };
    let arguments = match arguments {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let request = CallToolRequestParams::new(tool.name.clone()).with_arguments(arguments);
    // Dropping the call at the deadline sends the server a cancellation.
    match tokio::time::timeout(server.timeout(), peer.call_tool(request)).await {
        Err(_) => Err((Raw::TimedOut, timeout)),
        Ok(Ok(result)) => Ok(result),
        Ok(Err(err)) => Err((Raw::Service(err), timeout)),
    }
}

fn classify((raw, timeout): (Raw, u64), credential: Option<&Credential>) -> Failure {
    let err = match raw {
        Raw::Closed => return Failure::Closed,
        Raw::TimedOut => {
            return Failure::TimedOut(format!(
                "its MCP server did not answer within {timeout} s (answers over {} MiB are dropped)",
                connect::MAX_MESSAGE_BYTES >> 20
            ));
        }
        Raw::Service(err) => err,
    };
    match err {
        ServiceError::McpError(error) => Failure::Other(
            format!(
                "its MCP server answered with an error ({}): {}",
                error.code.0,
                crate::error::clip(&error.message, MAX_ERROR_BYTES)
            ),
            None,
        ),
        ServiceError::TransportClosed => Failure::CutOff,
        ServiceError::TransportSend(err) => {
            tracing::warn!(error = %connect::masked(&err.to_string(), credential), "sending to an MCP server failed");
            let inner = err.error.as_ref();
            match connect::http_refusal(inner) {
                Some(401) => {
                    return Failure::Other(
                        "its MCP server refused the credential".into(),
                        Some(401),
                    );
                }
                Some(_) => {
                    return Failure::Other(
                        "its MCP server refused access (HTTP 403): the credential lacks a permission"
                            .into(),
                        None,
                    );
                }
                None => {}
            }
            if let Some(message) = http_failure(inner) {
                Failure::Other(message, None)
            } else if never_sent(inner) {
                Failure::Closed
            } else {
                Failure::CutOff
            }
        }
        ServiceError::Timeout { timeout } => Failure::TimedOut(format!(
            "its MCP server did not answer within {} s",
            timeout.as_secs()
        )),
        other => Failure::Other(
            format!(
                "its MCP server's answer could not be used: {}",
                crate::error::clip(
                    &connect::masked(&other.to_string(), credential),
                    MAX_ERROR_BYTES
                )
            ),
            None,
        ),
    }
}

/// An HTTP answer that is an error of its own: the server answered (so
/// the connection is fine) but not with a result.
fn http_failure(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(err);
    while let Some(current) = source {
        match current.downcast_ref::<StreamableHttpError<reqwest_mcp::Error>>() {
            Some(StreamableHttpError::HttpStatus(status)) => {
                return Some(format!(
                    "its MCP server answered HTTP {}; the call may or may not have run",
                    status.status
                ));
            }
            Some(StreamableHttpError::ResponseBodyTooLarge { max_size }) => {
                return Some(format!(
                    "its MCP server's answer is larger than {} MiB",
                    max_size >> 20
                ));
            }
            _ => {}
        }
        source = current.source();
    }
    None
}

/// Whether a send failed before the server could have acted on it: the
/// connection was refused or already gone, or the HTTP session had expired
/// (the server answers 404 without running anything). Any other failure
/// (a reset mid-request, a broken answer) may come after the server ran
/// the call.
fn never_sent(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(current) = source {
        if current
            .downcast_ref::<reqwest_mcp::Error>()
            .is_some_and(reqwest_mcp::Error::is_connect)
        {
            return true;
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::NotConnected
            )
        {
            return true;
        }
        if matches!(
            current.downcast_ref::<StreamableHttpError<reqwest_mcp::Error>>(),
            Some(StreamableHttpError::SessionExpired | StreamableHttpError::TransportChannelClosed)
        ) {
            return true;
        }
        source = current.source();
    }
    false
}

fn failed(message: String, status: Option<u16>) -> Execution {
    Execution {
        successful: false,
        data: Value::Null,
        error: Some(message),
        status,
        spooled: None,
    }
}

/// A tool result as an execution: `isError` fails the call with the
/// result's text; otherwise the data is the structured content when there
/// is an object of it, `{"text"}` when the content is all text, else
/// `{"content": [...]}` (MCP content blocks: images, audio, resources).
fn settle(toolkit: &str, result: CallToolResult, spool: Option<&Spool>) -> Execution {
    let texts: Vec<&str> = result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|t| t.text.as_str()))
        .collect();
    let structured = result.structured_content.filter(Value::is_object);
    if result.is_error == Some(true) {
        let text = texts.join("\n");
        let message = if text.trim().is_empty() {
            format!("{toolkit}: the tool reported an error")
        } else {
            crate::error::clip(&text, MAX_ERROR_BYTES)
        };
        return Execution {
            successful: false,
            data: structured.unwrap_or(Value::Null),
            error: Some(message),
            status: None,
            spooled: None,
        };
    }
    let data = if let Some(structured) = structured {
        structured
    } else if texts.len() == result.content.len() {
        json!({"text": texts.join("\n")})
    } else {
        json!({"content": serde_json::to_value(&result.content).unwrap_or(Value::Null)})
    };
    let mut execution = Execution {
        successful: true,
        data,
        error: None,
        status: None,
        spooled: None,
    };
    if let Some(spool) = spool {
        match super::super::http::spool_value(spool, &execution.data) {
            Ok(spooled) => execution.spooled = spooled,
            Err(message) => return failed(message, None),
        }
    }
    execution
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(project: &str, toolkit: &str, credential: &str) -> Key {
        Key {
            project: project.into(),
            toolkit: toolkit.into(),
            server: Server::default(),
            credential: Some(Credential {
                place: connect::Place::Header,
                name: "X-Key".into(),
                value: credential.into(),
            }),
        }
    }

    #[test]
    fn slots_are_per_project_and_credential_and_the_least_recently_used_goes_first() {
        let pool = Pool::default();
        let a = pool.slot(&key("p1", "edge", "a"), 2);
        drop(a);
        let b = pool.slot(&key("p1", "edge", "b"), 2);
        drop(b);
        // Another project's slot for the same credential is its own.
        let other = pool.slot(&key("p2", "other", "a"), 2);
        assert_eq!(pool.slots.lock().unwrap().len(), 3);
        // "a" was used again after "b": "b" is the one that goes.
        *pool.slots.lock().unwrap()[&key("p1", "edge", "a")]
            .last_used
            .lock()
            .unwrap() = Instant::now() + Duration::from_secs(1);
        let c = pool.slot(&key("p1", "edge", "c"), 2);
        let slots = pool.slots.lock().unwrap();
        assert!(slots.contains_key(&key("p1", "edge", "a")));
        assert!(!slots.contains_key(&key("p1", "edge", "b")));
        assert!(slots.contains_key(&key("p1", "edge", "c")));
        assert!(
            slots.contains_key(&key("p2", "other", "a")),
            "other toolkits keep theirs"
        );
        drop(slots);
        drop((c, other));
        pool.retain(|toolkit, _| toolkit != "edge");
        assert_eq!(pool.slots.lock().unwrap().len(), 1);
        pool.clear();
        assert!(pool.slots.lock().unwrap().is_empty());
    }

    #[test]
    fn credentials_never_show_in_debug_output_or_logs() {
        let credential = Credential {
            place: connect::Place::Query,
            name: "key".into(),
            value: "s3cret value".into(),
        };
        assert!(!format!("{:?}", key("p", "t", "s3cret value")).contains("s3cret"));
        let logged = connect::masked(
            "error sending request for url (https://mcp.example/mcp?key=s3cret+value)",
            Some(&credential),
        );
        assert!(!logged.contains("s3cret"), "{logged}");
    }
}
