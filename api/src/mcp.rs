//! Every session is an MCP server: streamable HTTP at
//! `/tool_router/{session_id}/mcp` (the URL session create/retrieve return
//! in `mcp.url`), served by rmcp inside the same axum app.
//!
//! - **Protocol eras.** rmcp answers the handshake era (`initialize`,
//!   versions up to 2025-11-25) and the stateless 2026-07-28 revision
//!   (`server/discover`, per-request `_meta`). It runs without MCP sessions
//!   (`legacy_session_mode(false)`): the toolshed session comes from the
//!   URL path, never from MCP state, so the interpreter and files persist
//!   across MCP connections in every era.
//! - **Auth.** `authorize` runs before rmcp sees a request: the
//!   project's key (`x-api-key` or `Authorization: Bearer`) or 401, then the
//!   session of that project or 404. The loaded session travels to the
//!   handler in the request's extensions.
//! - **Tools.** `tools/list` is [`crate::tools::listed`], the list the REST
//!   `tools` endpoint gives; `tools/call` is [`crate::tools::execute`], what
//!   REST `execute` runs. A tool that ran and failed, and a call the agent
//!   can correct (bad arguments, a disabled tool, no account, a limit), is
//!   a result with `isError: true`; only an unknown tool is a JSON-RPC
//!   error.
//! - **Long calls.** A call runs to its own deadline (the cell timeout);
//!   when the client sent a progress token it gets a progress notification
//!   every few seconds meanwhile.

use crate::error::ApiError;
use crate::extract::Project;
use crate::session::SessionContext;
use crate::session::approval::{Answers, Asking, InputRequired, InputResponse};
use crate::state::AppState;
use crate::tool_error::ToolError;
use crate::tools::execute::{AppToolOptions, Ran, execute_asking};
use crate::wire::tool::ToolItem;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// How often a running call reports progress (when asked to).
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// The MCP routes. `allowed_hosts` are the `Host` values accepted (the
/// DNS-rebinding guard the MCP spec asks for; a name without a port
/// matches any port).
pub fn routes(state: &AppState, allowed_hosts: Vec<String>) -> Router<AppState> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        // The same body bound as the REST API (a cell's code may be long).
        .with_max_request_body_bytes(crate::MAX_BODY_BYTES)
        .with_allowed_hosts(allowed_hosts);
    let service = StreamableHttpService::new(
        || Ok(Handler::per_request()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/tool_router/{session_id}/mcp", service)
        .route_layer(axum::middleware::from_fn(as_json_rpc_errors))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ))
}

/// rmcp answers transport-level refusals (a body that is not a JSON-RPC
/// message, a wrong `Accept` or `Content-Type`, a foreign `Host`, a body
/// over the limit) in plain text. Clients read JSON-RPC errors out of
/// non-2xx answers, so these become `{"jsonrpc", "id": null, "error"}`
/// with the same message; a body that does not parse is a 400 parse error
/// (-32700), not a 415.
async fn as_json_rpc_errors(request: Request, next: Next) -> Response {
    use axum::http::{StatusCode, header};
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let unparsable =
        status == StatusCode::UNSUPPORTED_MEDIA_TYPE && text.starts_with("fail to deserialize");
    let (status, code) = if unparsable {
        (StatusCode::BAD_REQUEST, -32700)
    } else if status == StatusCode::METHOD_NOT_ALLOWED {
        (status, -32601)
    } else {
        (status, -32600)
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_owned()
    } else {
        crate::error::clip(&text, 512)
    };
    let mut response = (
        status,
        axum::Json(serde_json::json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": {"code": code, "message": message},
        })),
    )
        .into_response();
    for name in [header::ALLOW, header::CONNECTION] {
        if let Some(value) = parts.headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// The session an MCP request is for.
#[derive(Clone)]
struct Target(SessionContext);

/// Prefix of per-session MCP tokens (see [`crate::store::Store::mcp_token`]).
pub const MCP_TOKEN_PREFIX: &str = "tsm_";

/// The caller's credential, then the session, before anything runs: the
/// session's own MCP token (valid on this endpoint only), or a key of the
/// session's project. 401 for a wrong credential, 404 for a session the
/// key's project does not have.
async fn authorize(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let key = crate::extract::presented_key(request.headers())?;
    let ctx = if key.starts_with(MCP_TOKEN_PREFIX) {
        let store = state.store.clone();
        let id = session_id.clone();
        let record = state
            .store
            .run(move |s| s.session_by_id(&id))
            .await
            .map_err(ApiError::internal)?
            .filter(|record| store.is_mcp_token(record, &key))
            .ok_or_else(|| {
                ApiError::Unauthorized("this MCP token is not valid for this session".into())
            })?;
        crate::extract::check_rate(&state, &record.project_id)?;
        SessionContext::from_record(&state, record)?
    } else {
        let (mut parts, body) = request.into_parts();
        let Project(project) =
            <Project as axum::extract::FromRequestParts<AppState>>::from_request_parts(
                &mut parts, &state,
            )
            .await?;
        request = Request::from_parts(parts, body);
        SessionContext::load(&state, &project, &session_id).await?
    };
    request.extensions_mut().insert(Target(ctx));
    Ok(next.run(request).await)
}

/// The rmcp handler. Over HTTP it is stateless and every request carries
/// its session (set by `authorize`); over stdio it serves one session.
#[derive(Clone)]
pub struct Handler {
    session: Option<SessionContext>,
}

impl Handler {
    /// A handler that takes each request's session from the request.
    fn per_request() -> Handler {
        Handler { session: None }
    }

    /// A handler for one session (the stdio transport).
    pub fn for_session(session: SessionContext) -> Handler {
        Handler {
            session: Some(session),
        }
    }

    fn target(&self, context: &RequestContext<RoleServer>) -> Result<SessionContext, ErrorData> {
        if let Some(session) = &self.session {
            return Ok(session.clone());
        }
        context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Target>())
            .map(|target| target.0.clone())
            .ok_or_else(|| ErrorData::internal_error("the request carries no session", None))
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("toolshed", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "A toolshed session: COMPOSIO_SEARCH_TOOLS finds tools, COMPOSIO_MULTI_EXECUTE_TOOL runs up to 50 at once, COMPOSIO_REMOTE_WORKBENCH runs Python in a persistent sandbox.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let ctx = self.target(&context)?;
        let tools = crate::tools::listed(&ctx).iter().map(mcp_tool).collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let ctx = self.target(&context)?;
        let asking = asking(&context, request.input_responses, request.request_state)
            .map_err(|message| ErrorData::invalid_params(message, None))?;
        let arguments = request.arguments.unwrap_or_default();
        let run = execute_asking(
            &ctx,
            &request.name,
            arguments,
            AppToolOptions::default(),
            asking,
        );
        let executed = match context.meta.get_progress_token() {
            None => run.await,
            Some(token) => {
                let mut run = std::pin::pin!(run);
                let mut tick = tokio::time::interval(PROGRESS_EVERY);
                tick.tick().await;
                let mut seconds = 0u64;
                loop {
                    tokio::select! {
                        executed = &mut run => break executed,
                        _ = tick.tick() => {
                            seconds += PROGRESS_EVERY.as_secs();
                            let progress = ProgressNotificationParam::new(token.clone(), seconds as f64)
                                .with_message(format!("{} running for {seconds} s", request.name));
                            // A client that stopped listening does not stop the call.
                            let _ = context.peer.notify_progress(progress).await;
                        }
                    }
                }
            }
        };
        let executed = match executed {
            Ok(Ran::Executed(executed)) => Ok(executed),
            Ok(Ran::InputRequired(question)) => {
                return Ok(CallToolResponse::InputRequired(input_required(question)?));
            }
            Err(err) => Err(err),
        };
        let result = match executed {
            Ok(executed) => {
                let data = serde_json::to_string_pretty(&executed.data).unwrap_or_default();
                let empty = executed.data.as_object().is_some_and(|d| d.is_empty());
                let mut result = match executed.error {
                    None => CallToolResult::success(vec![ContentBlock::text(data)]),
                    Some(error) if empty => CallToolResult::error(vec![ContentBlock::text(error)]),
                    Some(error) => CallToolResult::error(vec![ContentBlock::text(format!(
                        "{error}\n\n{data}"
                    ))]),
                };
                result.structured_content = Some(executed.data);
                result
            }
            // What the agent can act on is a failed result it reads (the
            // spec's SEP-1303: input errors are tool errors, so the model
            // can correct its call); limits it can wait out, too.
            Err(
                err @ (ToolError::InvalidArguments(_)
                | ToolError::Disabled(_)
                | ToolError::NoAccount(_)
                | ToolError::NotFound(_)
                | ToolError::NotApproved(_)
                | ToolError::Busy(_)
                | ToolError::Unavailable(_)),
            ) => CallToolResult::error(vec![ContentBlock::text(err.to_string())]),
            Err(ToolError::Internal(source)) => {
                tracing::error!(error = %source, tool = %request.name, "an MCP tool call failed");
                return Err(ErrorData::internal_error(
                    "internal error; the server log has the details",
                    None,
                ));
            }
            // An unknown tool is the one protocol error.
            Err(err @ ToolError::UnknownTool(_)) => {
                return Err(ErrorData::invalid_params(err.to_string(), None));
            }
        };
        Ok(result.into())
    }
}

/// Whether this call can ask the user: a client on the 2026-07-28
/// revision that declared elicitation gets approvals as an
/// `InputRequiredResult` (SEP-2322) and answers them in its retry. Older
/// clients cannot be asked within a call (toolshed keeps no MCP sessions),
/// so the session's `no_elicitation_support_fallback` applies.
fn asking(
    context: &RequestContext<RoleServer>,
    responses: Option<rmcp::model::InputResponses>,
    request_state: Option<String>,
) -> Result<Asking, String> {
    let modern = context
        .protocol_version()
        .is_some_and(|v| v >= rmcp::model::ProtocolVersion::V_2026_07_28);
    let elicits = context
        .client_capabilities()
        .is_some_and(|c| c.elicitation.is_some());
    if !(modern && elicits) {
        return Ok(Asking::Cannot);
    }
    let answers = match (responses, request_state) {
        (Some(responses), Some(request_state)) => {
            let responses = responses
                .into_iter()
                .map(|(id, value)| {
                    serde_json::from_value::<InputResponse>(value)
                        .map(|r| (id.clone(), r))
                        .map_err(|e| format!("inputResponses.{id}: {e}"))
                })
                .collect::<Result<_, _>>()?;
            Some(Answers {
                responses,
                request_state,
            })
        }
        _ => None,
    };
    Ok(Asking::Can { answers })
}

/// An approval question as MCP's `InputRequiredResult`: each request an
/// `elicitation/create` form.
fn input_required(question: InputRequired) -> Result<rmcp::model::InputRequiredResult, ErrorData> {
    let mut requests = rmcp::model::InputRequests::new();
    for (id, request) in question.input_requests {
        let elicitation = serde_json::json!({
            "method": "elicitation/create",
            "params": {
                "mode": "form",
                "message": request["message"],
                "requestedSchema": {
                    "type": "object",
                    "properties": {"decision": {
                        "type": "string",
                        "title": "Decision",
                        "enum": ["approve", "always_approve", "deny"]
                    }},
                    "required": ["decision"]
                }
            }
        });
        let request = serde_json::from_value(elicitation)
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        requests.insert(id, request);
    }
    Ok(rmcp::model::InputRequiredResult::new(
        Some(requests),
        Some(question.request_state),
    ))
}

/// A tool item as an MCP tool: slug as name, the display name as title,
/// the input schema, and annotations from the MCP hint tags.
fn mcp_tool(item: &ToolItem) -> Tool {
    let schema: Map<String, Value> = item
        .input_parameters
        .as_object()
        .cloned()
        .unwrap_or_default();
    let hint = |name: &str| item.tags.iter().any(|t| t == name).then_some(true);
    let mut annotations = ToolAnnotations::new();
    annotations.read_only_hint = hint("readOnlyHint");
    annotations.destructive_hint = hint("destructiveHint");
    annotations.idempotent_hint = hint("idempotentHint");
    annotations.open_world_hint = hint("openWorldHint");
    Tool::new(
        item.slug.clone(),
        item.description.clone(),
        Arc::new(schema),
    )
    .with_title(item.name.clone())
    .with_annotations(annotations)
}
