//! Calls to MCP servers over pooled connections: one live connection per
//! toolkit, server config and credential, opened on first use and shared
//! by concurrent calls (MCP multiplexes requests). A connection that died
//! (the server exited or the HTTP session ended) is replaced on the next
//! call; a call cut off mid-way is made again only when the tool says it
//! is read-only or idempotent. Each call has a deadline; a server that is
//! down or stuck costs the caller a clear tool error, not a hang.

use super::connect::{self, ConnectError, Connection, Credential};
use super::{McpTool, Server};
use crate::catalog::http::{Execution, Spool};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::ServiceError;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Longest error text taken from a tool's result.
const MAX_ERROR_BYTES: usize = 4096;

/// Pooled connections, by toolkit, config and credential. Cheap to clone.
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
    toolkit: String,
    /// The server's config as loaded (a reload that changes it connects
    /// anew; the old connections close as they are evicted).
    server: String,
    credential: Option<Credential>,
}

/// One pooled connection: opened by the first call that needs it; the
/// async mutex makes concurrent first calls wait for one connection.
#[derive(Default)]
struct Slot {
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    last_used: Mutex<Option<Instant>>,
    /// When the last attempt to connect failed, and why: the calls that
    /// were waiting for that attempt get its error at once instead of each
    /// waiting out a connect timeout of its own; later calls try again.
    failed: Mutex<Option<(Instant, ConnectError)>>,
}

/// Why a call failed before the server answered.
enum Failure {
    /// The connection was closed before the request went out: nothing ran.
    Closed,
    /// The connection died while the call was in flight: it may have run.
    CutOff,
    /// Anything else: the message for the caller.
    Other(String, Option<u16>),
}

impl Pool {
    /// Calls `tool` of `toolkit`'s server with `arguments`.
    pub async fn call(
        &self,
        toolkit: &str,
        server: &Server,
        tool: &McpTool,
        arguments: &Value,
        credential: Option<Credential>,
        spool: Option<&Spool>,
    ) -> Execution {
        let key = Key {
            toolkit: toolkit.to_owned(),
            server: format!("{server:?}"),
            credential,
        };
        let slot = self.slot(&key, server.max_connections);
        // At most two tries: a dead pooled connection is replaced once.
        let mut tries = 0;
        loop {
            tries += 1;
            let connection = match self.connection(&slot, &key, server).await {
                Ok(connection) => connection,
                Err(err) => {
                    let status = matches!(err, ConnectError::Refused).then_some(401);
                    return failed(format!("{toolkit}: {err}"), status);
                }
            };
            match call_once(&connection, server, tool, arguments).await {
                Ok(result) => return settle(toolkit, result, spool),
                Err(Failure::Closed) if tries < 2 => {
                    forget(&slot, &connection).await;
                }
                Err(Failure::CutOff) if tries < 2 && tool.retry_safe => {
                    forget(&slot, &connection).await;
                }
                Err(Failure::Closed | Failure::CutOff) => {
                    forget(&slot, &connection).await;
                    return failed(
                        format!(
                            "{toolkit}: its MCP server closed the connection during the call; it may or may not have run (the next call reconnects)"
                        ),
                        None,
                    );
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

    /// The slot for `key`; opening one beyond the toolkit's
    /// `max_connections` closes its least recently used connection.
    fn slot(&self, key: &Key, max_connections: usize) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get(key) {
            return slot.clone();
        }
        let mut same_toolkit: Vec<(Option<Instant>, Key)> = slots
            .iter()
            .filter(|(k, _)| k.toolkit == key.toolkit)
            .map(|(k, slot)| {
                let used = *slot.last_used.lock().unwrap_or_else(|p| p.into_inner());
                (used, k.clone())
            })
            .collect();
        if same_toolkit.len() >= max_connections {
            same_toolkit.sort_by_key(|(used, _)| *used);
            for (_, old) in same_toolkit
                .iter()
                .take(same_toolkit.len() + 1 - max_connections)
            {
                // Calls in flight keep their connection (an Arc) to the end.
                slots.remove(old);
            }
        }
        let slot = Arc::new(Slot::default());
        slots.insert(key.clone(), slot.clone());
        slot
    }

    async fn connection(
        &self,
        slot: &Slot,
        key: &Key,
        server: &Server,
    ) -> Result<Arc<Connection>, ConnectError> {
        let arrived = Instant::now();
        *slot.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Some(arrived);
        let mut held = slot.connection.lock().await;
        if let Some(connection) = held.as_ref()
            && !connection.is_closed()
            && !connection.peer().is_transport_closed()
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
        match connect::open(server, &key.toolkit, key.credential.as_ref()).await {
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

    /// Closes every pooled connection (at shutdown, and in tests).
    pub fn clear(&self) {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Drops `connection` from `slot` if it is still the slot's.
async fn forget(slot: &Slot, connection: &Arc<Connection>) {
    let mut held = slot.connection.lock().await;
    if held.as_ref().is_some_and(|c| Arc::ptr_eq(c, connection)) {
        *held = None;
    }
}

async fn call_once(
    connection: &Connection,
    server: &Server,
    tool: &McpTool,
    arguments: &Value,
) -> Result<CallToolResult, Failure> {
    if connection.is_closed() || connection.peer().is_transport_closed() {
        return Err(Failure::Closed);
    }
    let arguments = match arguments {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let request = CallToolRequestParams::new(tool.name.clone()).with_arguments(arguments);
    // Dropping the call at the deadline sends the server a cancellation.
    match tokio::time::timeout(server.timeout(), connection.peer().call_tool(request)).await {
        Err(_) => Err(Failure::Other(
            format!(
                "its MCP server did not answer within {} s (answers over {} MiB are dropped)",
                server.timeout_secs,
                connect::MAX_MESSAGE_BYTES >> 20
            ),
            None,
        )),
        Ok(Ok(result)) => Ok(result),
        Ok(Err(err)) => Err(classify(err)),
    }
}

fn classify(err: ServiceError) -> Failure {
    if err.auth_challenge().is_some() {
        return Failure::Other("its MCP server refused the credential".into(), Some(401));
    }
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
            let message = err.to_string();
            tracing::warn!(error = %message, "sending to an MCP server failed");
            if connect::is_refusal(&message) {
                Failure::Other("its MCP server refused the credential".into(), Some(401))
            } else if never_sent(err.error.as_ref()) {
                Failure::Closed
            } else {
                Failure::CutOff
            }
        }
        ServiceError::Timeout { timeout } => Failure::Other(
            format!(
                "its MCP server did not answer within {} s",
                timeout.as_secs()
            ),
            None,
        ),
        other => Failure::Other(
            format!(
                "its MCP server's answer could not be used: {}",
                crate::error::clip(&other.to_string(), MAX_ERROR_BYTES)
            ),
            None,
        ),
    }
}

/// Whether a send failed before the server could have acted on it: the
/// connection was refused or already gone, or the HTTP session had expired
/// (the server answers 404 without running anything). Any other failure
/// (an HTTP error status, a reset mid-request) may come after the server
/// ran the call.
fn never_sent(err: &(dyn std::error::Error + 'static)) -> bool {
    use rmcp::transport::streamable_http_client::StreamableHttpError;
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
