//! `/api/v3.1/tool_router/session…`: create, retrieve, update, delete and
//! list sessions; their tools; execute and execute_meta.

use crate::error::ApiError;
use crate::extract::{Json, Project, Query};
use crate::keys;
use crate::replay;
use crate::routes::page::PageRequest;
use crate::session::SessionContext;
use crate::session::approval::{Answers, Asking, InputResponse};
use crate::session::config::SessionConfig;
use crate::session::custom_tools::Customs;
use crate::session::request::SessionPatch;
use crate::state::AppState;
use crate::store::{SessionRecord, now};
use crate::tools::execute::AppToolOptions;
use crate::tools::{self, MetaTool};
use crate::wire::execute::{ExecuteResponse, ResultType};
use crate::wire::page::Page;
use crate::wire::session::{
    ConfigHistory, ConfigVersionItem, Deleted, Experimental, McpConfig, RotatedToken, SessionList,
    SessionResponse, Warning,
};
use crate::wire::tool::ToolItem;
use crate::wire::toolkit::{ToolkitAccount, ToolkitItem, ToolkitMeta};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The session routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3.1/tool_router/session", post(create).get(list))
        .route(
            "/api/v3.1/tool_router/session/{id}",
            get(retrieve).patch(update).delete(delete),
        )
        .route("/api/v3.1/tool_router/session/{id}/memory", get(memory))
        .route("/api/v3.1/tool_router/session/{id}/attach", post(attach))
        .route(
            "/api/v3.1/tool_router/session/{id}/config_history",
            get(config_history),
        )
        .route("/api/v3.1/tool_router/session/{id}/tools", get(list_tools))
        .route("/api/v3.1/tool_router/session/{id}/execute", post(execute))
        // The v3 paths of Composio's sandbox helper (composio_helper.py).
        .route("/api/v3/tool_router/session/{id}/execute", post(execute))
        .route(
            "/api/v3.1/tool_router/session/{id}/execute_meta",
            post(execute_meta),
        )
        .route("/api/v3.1/tool_router/session/{id}/search", post(search))
        .route(
            "/api/v3.1/tool_router/session/{id}/proxy_execute",
            post(proxy_execute),
        )
        .route(
            "/api/v3/tool_router/session/{id}/proxy_execute",
            post(proxy_execute),
        )
        .route(
            "/api/v3.1/tool_router/session/{id}/mcp/rotate_token",
            post(rotate_mcp_token),
        )
        .route(
            "/api/v3.1/tool_router/session/{id}/toolkits",
            get(list_toolkits),
        )
}

/// The base URL clients reached us at: the configured public URL, else the
/// request's Host (the SDK requires the MCP URL to share its origin).
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get("host"))
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

fn session_response(
    state: &AppState,
    headers: &HeaderMap,
    record: &SessionRecord,
    config: &SessionConfig,
    customs: &Customs,
) -> SessionResponse {
    let (custom_tools, custom_toolkits) = customs.echo();
    let mut warnings = Vec::new();
    if config.preload_all() {
        warnings.push(Warning {
            code: "PRELOAD_TOOLS_HIGH_CONTEXT_USAGE",
            message: "preload.tools = \"all\" puts every allowed tool's schema in the agent's context",
        });
    }
    SessionResponse {
        session_id: record.id.clone(),
        config: config.clone(),
        config_version: record.config_version,
        mcp: mcp_config(state, headers, record),
        tool_router_tools: MetaTool::ALL
            .into_iter()
            .filter(|t| t.enabled_in(config))
            .map(MetaTool::slug)
            .collect(),
        experimental: Experimental {
            assistive_prompt: assistive_prompt(config),
            custom_tools,
            custom_toolkits,
            no_elicitation_support_fallback: config.no_elicitation_support_fallback,
        },
        warnings,
    }
}

/// What an MCP client needs to connect: the URL and the session's own MCP
/// token (never the project key), valid on that URL only.
fn mcp_config(state: &AppState, headers: &HeaderMap, record: &SessionRecord) -> McpConfig {
    McpConfig {
        kind: "http",
        url: format!("{}/tool_router/{}/mcp", base_url(state, headers), record.id),
        headers: [("x-api-key", state.store.mcp_token(record))].into(),
    }
}

/// `POST .../mcp/rotate_token`: the session's MCP token stops working and a
/// new one is returned (the project key keeps working on the endpoint).
#[utoipa::path(
    operation_id = "session_rotate_mcp_token", post, path = "/api/v3.1/tool_router/session/{id}/mcp/rotate_token", tag = "mcp", params(("id" = String, Path, description = "The session id (trs_...)")),
    responses((status = 200, body = crate::wire::session::RotatedToken), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn rotate_mcp_token(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<axum::Json<RotatedToken>, ApiError> {
    let record = {
        let id = id.clone();
        state
            .store
            .run(move |store| store.rotate_mcp_token(&project, &id))
            .await
            .map_err(ApiError::internal)?
    }
    .ok_or_else(|| {
        ApiError::NotFound(format!("session {} not found", crate::error::clip(&id, 64)))
    })?;
    Ok(axum::Json(RotatedToken {
        mcp: mcp_config(&state, &headers, &record),
    }))
}

fn assistive_prompt(config: &SessionConfig) -> String {
    let mut prompt = String::from(
        "You have tools through a toolshed session. Use COMPOSIO_SEARCH_TOOLS to find the tools for a task, \
         then COMPOSIO_MULTI_EXECUTE_TOOL to run up to 50 of them at once.",
    );
    if config.flag("workbench") {
        prompt.push_str(
            " For bulk work or large results, use COMPOSIO_REMOTE_WORKBENCH: a persistent Python sandbox where \
             run_composio_tools(calls) runs many tool calls concurrently and files in /mnt/files persist.",
        );
    }
    prompt
}

#[utoipa::path(
    operation_id = "session_create", post, path = "/api/v3.1/tool_router/session", tag = "sessions",
    request_body = crate::session::request::SessionCreate,
    responses((status = 200, body = crate::wire::session::SessionResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn create(
    State(state): State<AppState>,
    Project(project): Project,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<axum::Json<SessionResponse>, ApiError> {
    let config =
        SessionConfig::from_request(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let customs = Customs::parse(body.get("experimental"), &state.catalog())?;
    let record = SessionRecord {
        id: keys::new_id("trs_"),
        project_id: project,
        user_id: config.user_id.clone(),
        config: serde_json::to_value(&config).map_err(ApiError::internal)?,
        config_version: 1,
        created_at: now(),
        mcp_token_generation: 0,
    };
    {
        let record = record.clone();
        state
            .store
            .run(move |store| store.create_session(&record))
            .await
            .map_err(ApiError::internal)?;
    }
    tracing::info!(session = %record.id, user = %record.user_id, "session created");
    Ok(axum::Json(session_response(
        &state, &headers, &record, &config, &customs,
    )))
}

#[utoipa::path(
    operation_id = "session_retrieve", get, path = "/api/v3.1/tool_router/session/{id}", tag = "sessions", params(("id" = String, Path, description = "The session id (trs_...)")),
    responses((status = 200, body = crate::wire::session::SessionResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn retrieve(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<axum::Json<SessionResponse>, ApiError> {
    let ctx = SessionContext::load(&state, &project, &id).await?;
    Ok(axum::Json(session_response(
        &state,
        &headers,
        &ctx.record,
        &ctx.config,
        &Customs::default(),
    )))
}

/// The body of `attach`.
#[derive(Deserialize, utoipa::ToSchema)]
struct AttachBody {
    /// `{custom_tools, custom_toolkits}`: the app's custom tools for this
    /// use of the session (they are not stored).
    #[schema(value_type = Option<Object>)]
    experimental: Option<Value>,
}

#[utoipa::path(
    operation_id = "session_attach", post, path = "/api/v3.1/tool_router/session/{id}/attach", tag = "sessions", params(("id" = String, Path, description = "The session id (trs_...)")),
    request_body = AttachBody,
    responses((status = 200, body = crate::wire::session::SessionResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
/// `composio.use(id, custom_tools=...)`: the session with the custom
/// tools the app brings checked and named (the echo the SDK routes by).
async fn attach(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<AttachBody>,
) -> Result<axum::Json<SessionResponse>, ApiError> {
    let ctx = SessionContext::load(&state, &project, &id).await?;
    let customs = Customs::parse(body.experimental.as_ref(), &state.catalog())?;
    Ok(axum::Json(session_response(
        &state,
        &headers,
        &ctx.record,
        &ctx.config,
        &customs,
    )))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// The user whose sessions to list.
    #[param(required = true, min_length = 1)]
    user_id: Option<String>,
}

#[utoipa::path(
    operation_id = "session_list", get, path = "/api/v3.1/tool_router/session", tag = "sessions", params(ListQuery),
    responses((status = 200, body = crate::wire::session::SessionList), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<axum::Json<SessionList>, ApiError> {
    let user = query
        .user_id
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::BadRequest("user_id: the query parameter is required".into()))?;
    let records = state
        .store
        .run(move |store| store.sessions_for_user(&project, &user))
        .await
        .map_err(ApiError::internal)?;
    let mut items = Vec::with_capacity(records.len());
    for record in &records {
        let config: SessionConfig =
            serde_json::from_value(record.config.clone()).map_err(ApiError::internal)?;
        items.push(session_response(
            &state,
            &headers,
            record,
            &config,
            &Customs::default(),
        ));
    }
    Ok(axum::Json(SessionList {
        total_items: items.len(),
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(
    operation_id = "session_update", patch, path = "/api/v3.1/tool_router/session/{id}", tag = "sessions", params(("id" = String, Path, description = "The session id (trs_...)")),
    request_body = SessionPatch,
    responses((status = 200, body = crate::wire::session::SessionResponse), (status = 409, description = "expected_config_version is stale, or user_id differs from the session's", body = crate::error::ErrorBody), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn update(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<axum::Json<SessionResponse>, ApiError> {
    let request = SessionPatch::parse(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let ctx = SessionContext::load(&state, &project, &id).await?;
    if request
        .user_id
        .as_ref()
        .is_some_and(|user| user.0 != ctx.record.user_id)
    {
        return Err(ApiError::Conflict(
            "user_id: a session's user cannot be changed; create a new session".into(),
        ));
    }
    let expected = request
        .expected_config_version
        .unwrap_or(ctx.record.config_version);
    if expected != ctx.record.config_version {
        return Err(ApiError::Conflict(format!(
            "config_version mismatch: expected {expected}, current is {}",
            ctx.record.config_version
        )));
    }
    let config = ctx
        .config
        .patched(request)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let value = serde_json::to_value(&config).map_err(ApiError::internal)?;
    let version = {
        let (project, id, value) = (project.clone(), id.clone(), value.clone());
        state
            .store
            .run(move |store| store.update_session_config(&project, &id, expected, &value))
            .await
            .map_err(ApiError::internal)?
    }
    .ok_or_else(|| {
        ApiError::Conflict(
            "config_version changed concurrently; retry with the current version".into(),
        )
    })?;
    let record = SessionRecord {
        config: value,
        config_version: version,
        ..ctx.record
    };
    Ok(axum::Json(session_response(
        &state,
        &headers,
        &record,
        &config,
        &Customs::default(),
    )))
}

#[utoipa::path(
    operation_id = "session_delete", delete, path = "/api/v3.1/tool_router/session/{id}", tag = "sessions", params(("id" = String, Path, description = "The session id (trs_...)")),
    responses((status = 200, body = crate::wire::session::Deleted), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn delete(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> Result<axum::Json<Deleted>, ApiError> {
    let deleted = {
        let id = id.clone();
        state
            .store
            .run(move |store| store.delete_session(&project, &id))
            .await
            .map_err(ApiError::internal)?
    };
    if !deleted {
        return Err(ApiError::NotFound(format!(
            "session {} not found",
            crate::error::clip(&id, 64)
        )));
    }
    state.sandboxes.stop(&id).await;
    state.tokens.revoke_session(&id);
    // The session's workbench and files go with it.
    let dir = state.config.data_dir.join("sessions").join(&id);
    if let Err(err) = tokio::fs::remove_dir_all(&dir).await
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(session = %id, error = %err, "could not remove the deleted session's files");
    }
    Ok(axum::Json(Deleted {
        session_id: id,
        deleted: true,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// Versions per page (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{0,18}$")]
    cursor: Option<String>,
}

/// A session's tool memory.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionMemory {
    /// The session.
    pub session_id: String,
    /// Its facts by app, each app's oldest first.
    pub memory: std::collections::BTreeMap<String, Vec<String>>,
    /// Facts in all.
    pub total_facts: usize,
}

#[utoipa::path(
    operation_id = "session_memory", get, path = "/api/v3.1/tool_router/session/{id}/memory", tag = "sessions", params(("id" = String, Path, description = "The session id (trs_...)")),
    responses((status = 200, body = SessionMemory),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
/// What the session's agents recorded with COMPOSIO_MULTI_EXECUTE_TOOL's
/// `memory` (and later searches return), for the operator.
async fn memory(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> Result<axum::Json<SessionMemory>, ApiError> {
    let ctx = SessionContext::load(&state, &project, &id).await?;
    let session = ctx.record.id.clone();
    let memory = state
        .store
        .run(move |store| store.memory(&session))
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(SessionMemory {
        session_id: ctx.record.id,
        total_facts: memory.values().map(Vec::len).sum(),
        memory,
    }))
}

#[utoipa::path(
    operation_id = "session_config_history", get, path = "/api/v3.1/tool_router/session/{id}/config_history", tag = "sessions", params(("id" = String, Path, description = "The session id (trs_...)"), HistoryQuery),
    responses((status = 200, body = crate::wire::session::ConfigHistory), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn config_history(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<axum::Json<ConfigHistory>, ApiError> {
    let ctx = SessionContext::load(&state, &project, &id).await?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadRequest("limit: must be from 1 to 100".into()));
    }
    let before = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::BadRequest("cursor: invalid cursor".into()))?,
        ),
    };
    let versions = state
        .store
        .run(move |store| store.config_history(&id, before, limit + 1))
        .await
        .map_err(ApiError::internal)?;
    let next_cursor = (versions.len() > limit).then(|| versions[limit - 1].version.to_string());
    let items = versions
        .into_iter()
        .take(limit)
        .map(|v| ConfigVersionItem {
            is_current: v.version == ctx.record.config_version,
            version: v.version,
            // Through the type, so versions stored before a field's
            // response shape changed read like new ones.
            config: serde_json::from_value::<SessionConfig>(v.config.clone())
                .ok()
                .and_then(|c| serde_json::to_value(c).ok())
                .unwrap_or(v.config),
            created_at: crate::timestamp::rfc3339(u64::try_from(v.created_at).unwrap_or(0)),
        })
        .collect();
    // Versions run 1..=current with no gaps, newest first.
    let total = ctx.record.config_version;
    let per_page = limit as i64;
    let top = before.map_or(total, |b| (b - 1).clamp(0, total));
    Ok(axum::Json(ConfigHistory {
        items,
        next_cursor,
        total_items: total,
        total_pages: (total + per_page - 1) / per_page,
        current_page: (total - top) / per_page + 1,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ToolsQuery {
    /// Tools per page (default 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]*$")]
    cursor: Option<String>,
}

#[utoipa::path(
    operation_id = "session_list_tools", get, path = "/api/v3.1/tool_router/session/{id}/tools", tag = "tools", params(("id" = String, Path, description = "The session id (trs_...)"), ToolsQuery),
    responses((status = 200, body = crate::wire::page::Page<crate::wire::tool::ToolItem>), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list_tools(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    Query(query): Query<ToolsQuery>,
) -> Result<axum::Json<Page<ToolItem>>, ApiError> {
    let ctx = SessionContext::load(&state, &project, &id).await?;
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), 500, 500)?;
    let all = tools::listed(&ctx);
    Ok(axum::Json(page.envelope(all)))
}

/// An `execute` body.
#[derive(Deserialize, utoipa::ToSchema)]
struct ExecuteBody {
    /// The tool to run (`slug` is accepted too).
    #[serde(alias = "slug")]
    #[schema(min_length = 1)]
    tool_slug: String,
    /// The tool's arguments, as its input schema describes them.
    #[schema(value_type = Option<Object>)]
    arguments: Option<serde_json::Map<String, Value>>,
    /// The connected account id or alias to run as, when the user has several.
    account: Option<String>,
    /// Whether a large result is written to the workbench instead of returned.
    enable_auto_workbench_offload: Option<bool>,
    /// The user's answers to an `input_required` answer, by request id.
    input_responses: Option<BTreeMap<String, InputResponse>>,
    /// That answer's `request_state`, unchanged.
    request_state: Option<String>,
    /// `{custom_tools, custom_toolkits}` the app brings (searches and
    /// schemas see them; they run in the app).
    #[schema(value_type = Option<Object>)]
    experimental: Option<Value>,
}

/// The answers of a repeated call, checked: both fields or neither.
fn answers(
    input_responses: Option<BTreeMap<String, InputResponse>>,
    request_state: Option<String>,
) -> Result<Option<Answers>, ApiError> {
    match (input_responses, request_state) {
        (None, None) => Ok(None),
        (Some(responses), Some(request_state)) => Ok(Some(Answers {
            responses,
            request_state,
        })),
        (Some(_), None) => Err(ApiError::BadRequest(
            "request_state: is required with input_responses (send back the one input_required returned)".into(),
        )),
        (None, Some(_)) => Err(ApiError::BadRequest(
            "input_responses: is required with request_state".into(),
        )),
    }
}

#[utoipa::path(
    operation_id = "session_execute", post, path = "/api/v3.1/tool_router/session/{id}/execute", tag = "tools", params(("id" = String, Path, description = "The session id (trs_...)"), ("Idempotency-Key" = Option<String>, Header, description = "Names this request: a repeat within 24 h gets the first answer (header idempotent-replayed: true) instead of running again; the key with another request is a 422")),
    request_body = ExecuteBody,
    responses((status = 200, body = crate::wire::execute::ExecuteReply), (status = 503, description = "A server-wide limit", body = crate::error::ErrorBody), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn execute(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<ExecuteBody>,
) -> Result<Response, ApiError> {
    if body.tool_slug.is_empty() {
        return Err(ApiError::BadRequest("tool_slug: is required".into()));
    }
    let options = AppToolOptions {
        account: body.account,
        offload: body.enable_auto_workbench_offload.unwrap_or(false),
    };
    let call = ToolCall {
        slug: body.tool_slug,
        arguments: body.arguments,
        options,
        answers: answers(body.input_responses, body.request_state)?,
        customs: Customs::parse(body.experimental.as_ref(), &state.catalog())?,
    };
    run_replayed(state, project, id, &headers, call).await
}

/// A tool call of `execute`/`execute_meta`.
struct ToolCall {
    slug: String,
    arguments: Option<serde_json::Map<String, Value>>,
    options: AppToolOptions,
    answers: Option<Answers>,
    customs: Customs,
}

/// Runs a tool for `execute`/`execute_meta` through [`replay`]: joined by
/// identical executes in flight, answered from the store for a repeated
/// `Idempotency-Key`.
async fn run_replayed(
    state: AppState,
    project: String,
    id: String,
    headers: &HeaderMap,
    call: ToolCall,
) -> Result<Response, ApiError> {
    let key = replay::idempotency_key(headers)?;
    let request = serde_json::json!({
        "session": id, "tool": call.slug, "arguments": call.arguments,
        "account": call.options.account, "offload": call.options.offload,
        "answers": call.answers,
        "custom_tools": call.customs.tools.iter().map(|t| &t.slug).collect::<Vec<_>>(),
    });
    let run = {
        let (state, project) = (state.clone(), project.clone());
        async move { run_tool(&state, &project, &id, call).await }
    };
    Ok(state
        .replays
        .execute(&state, &project, key, &request, run)
        .await)
}

/// An `execute_meta` body.
#[derive(Deserialize, utoipa::ToSchema)]
struct ExecuteMetaBody {
    /// The meta tool to run (`tool_slug` is accepted too).
    #[serde(alias = "tool_slug")]
    #[schema(value_type = MetaTool)]
    slug: String,
    /// The meta tool's arguments, as its input schema describes them.
    #[schema(value_type = Option<Object>)]
    arguments: Option<serde_json::Map<String, Value>>,
    /// The user's answers to an `input_required` answer, by request id.
    input_responses: Option<BTreeMap<String, InputResponse>>,
    /// That answer's `request_state`, unchanged.
    request_state: Option<String>,
    /// `{custom_tools, custom_toolkits}` the app brings.
    #[schema(value_type = Option<Object>)]
    experimental: Option<Value>,
}

#[utoipa::path(
    operation_id = "session_execute_meta", post, path = "/api/v3.1/tool_router/session/{id}/execute_meta", tag = "tools", params(("id" = String, Path, description = "The session id (trs_...)"), ("Idempotency-Key" = Option<String>, Header, description = "Names this request: a repeat within 24 h gets the first answer (header idempotent-replayed: true) instead of running again; the key with another request is a 422")),
    request_body = ExecuteMetaBody,
    responses((status = 200, body = crate::wire::execute::ExecuteReply), (status = 503, description = "A server-wide limit", body = crate::error::ErrorBody), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn execute_meta(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<ExecuteMetaBody>,
) -> Result<Response, ApiError> {
    if MetaTool::from_slug(&body.slug).is_none() {
        return Err(ApiError::BadRequest(format!(
            "slug: {} is not a meta tool (COMPOSIO_*)",
            crate::error::clip(&body.slug, 128)
        )));
    }
    let options = AppToolOptions::default();
    let call = ToolCall {
        slug: body.slug,
        arguments: body.arguments,
        options,
        answers: answers(body.input_responses, body.request_state)?,
        customs: Customs::parse(body.experimental.as_ref(), &state.catalog())?,
    };
    run_replayed(state, project, id, &headers, call).await
}

/// Runs a tool for `execute`/`execute_meta`, in the execute envelope.
async fn run_tool(
    state: &AppState,
    project: &str,
    session_id: &str,
    call: ToolCall,
) -> Result<Value, ApiError> {
    let ctx = SessionContext::load(state, project, session_id)
        .await?
        .with_customs(call.customs);
    let arguments = call.arguments.unwrap_or_default();
    let asking = Asking::Can {
        answers: call.answers,
    };
    let executed =
        match tools::execute::execute_asking(&ctx, &call.slug, arguments, call.options, asking)
            .await?
        {
            tools::execute::Ran::Executed(executed) => executed,
            tools::execute::Ran::InputRequired(question) => {
                return serde_json::to_value(question).map_err(ApiError::internal);
            }
        };
    let response = ExecuteResponse {
        data: executed.data,
        result_type: if executed.error.is_none() {
            ResultType::Completed
        } else {
            ResultType::Failed
        },
        error: executed.error,
        log_id: executed.log_id,
        instant_charge: None,
        premium_charge: None,
        hook_results: Vec::new(),
    };
    serde_json::to_value(response).map_err(ApiError::internal)
}

/// What `POST .../proxy_execute` returns.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct ProxyResult {
    /// Always `completed` (the upstream answered; see `status`).
    result_type: &'static str,
    /// The upstream's answer.
    #[serde(flatten)]
    output: tools::proxy_execute::Output,
}

/// `POST .../proxy_execute` (`session.proxy_execute`): an authenticated
/// request to a toolkit's API with the session user's account.
#[utoipa::path(
    operation_id = "session_proxy_execute", post, path = "/api/v3.1/tool_router/session/{id}/proxy_execute", tag = "tools", params(("id" = String, Path, description = "The session id (trs_...)")),
    request_body = tools::proxy_execute::Args,
    responses((status = 200, body = ProxyResult), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody),
        (status = 503, description = "The toolkit's API did not answer", body = crate::error::ErrorBody))
)]
async fn proxy_execute(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<axum::Json<ProxyResult>, ApiError> {
    let ctx = SessionContext::load(&state, &project, &id).await?;
    let args: tools::proxy_execute::Args = crate::tool_error::parse_arguments(body)?;
    let output = tools::proxy_execute::run(&ctx, args).await?;
    Ok(axum::Json(ProxyResult {
        result_type: "completed",
        output,
    }))
}

/// `POST .../search`: the SEARCH_TOOLS data, unwrapped.
#[utoipa::path(
    operation_id = "session_search", post, path = "/api/v3.1/tool_router/session/{id}/search", tag = "tools", params(("id" = String, Path, description = "The session id (trs_...)")),
    request_body = tools::search_tools::Args,
    responses((status = 200, body = crate::tools::search_tools::Output), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn search(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<axum::Json<tools::search_tools::Output>, ApiError> {
    let customs = Customs::parse(body.get("experimental"), &state.catalog())?;
    let ctx = SessionContext::load(&state, &project, &id)
        .await?
        .with_customs(customs);
    let args: tools::search_tools::Args = crate::tool_error::parse_arguments(body)?;
    let output = ctx
        .blocking(move |ctx| tools::search_tools::run(ctx, &args))
        .await?;
    Ok(axum::Json(output))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ToolkitsQuery {
    /// Only these toolkits (comma-separated slugs).
    toolkits: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]*$")]
    cursor: Option<String>,
    /// Toolkits per page (default 20).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<usize>,
    is_connected: Option<bool>,
    search: Option<String>,
}

/// `GET .../toolkits`: the session's toolkits with their connection.
#[utoipa::path(
    operation_id = "session_list_toolkits", get, path = "/api/v3.1/tool_router/session/{id}/toolkits", tag = "tools", params(("id" = String, Path, description = "The session id (trs_...)"), ToolkitsQuery),
    responses((status = 200, body = crate::wire::page::Page<crate::wire::toolkit::ToolkitItem>), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list_toolkits(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    Query(query): Query<ToolkitsQuery>,
) -> Result<axum::Json<Page<ToolkitItem>>, ApiError> {
    let ctx = SessionContext::load(&state, &project, &id).await?;
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), 20, 50)?;
    let wanted: Option<Vec<String>> = query.toolkits.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let needle = query.search.map(|s| s.to_lowercase());
    let user = ctx.record.user_id.clone();
    let (accounts, managed) = state
        .store
        .run(move |store| {
            let accounts = store.accounts_for_user(&project, &user, None)?;
            // Which of their auth configs use the operator's app.
            let mut managed = std::collections::HashMap::new();
            for account in &accounts {
                if !managed.contains_key(&account.auth_config_id) {
                    let config = store.auth_config(&project, &account.auth_config_id)?;
                    managed.insert(
                        account.auth_config_id.clone(),
                        config.is_some_and(|c| c.managed),
                    );
                }
            }
            Ok((accounts, managed))
        })
        .await
        .map_err(ApiError::internal)?;
    let mut items = Vec::new();
    for toolkit in state.catalog().toolkits() {
        if ctx
            .config
            .toolkits
            .as_ref()
            .is_some_and(|f| !f.allows(&toolkit.slug))
        {
            continue;
        }
        if wanted.as_ref().is_some_and(|w| !w.contains(&toolkit.slug)) {
            continue;
        }
        if needle.as_ref().is_some_and(|n| {
            !toolkit.slug.contains(n.as_str()) && !toolkit.name.to_lowercase().contains(n.as_str())
        }) {
            continue;
        }
        let no_auth = toolkit.auth.schemes.iter().all(|s| s == "NO_AUTH");
        let account = accounts
            .iter()
            .find(|a| a.toolkit == toolkit.slug && a.is_usable());
        let connected = no_auth || account.is_some();
        if query.is_connected.is_some_and(|c| c != connected) {
            continue;
        }
        items.push(ToolkitItem {
            slug: toolkit.slug.clone(),
            name: toolkit.name.clone(),
            enabled: true,
            is_no_auth: no_auth,
            composio_managed_auth_schemes: Vec::new(),
            meta: ToolkitMeta {
                description: toolkit.description.clone(),
                logo: toolkit.logo.clone(),
            },
            connected_account: account
                .map(|a| ToolkitAccount::of(a, managed.get(&a.auth_config_id) == Some(&true))),
        });
    }
    Ok(axum::Json(page.envelope(items)))
}
