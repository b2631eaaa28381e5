//! Project-level tools, as `composio.tools.*` calls them: the catalog's
//! tools listed and filtered (`GET /api/v3.1/tools`), one tool's schema
//! (`GET /api/v3.1/tools/{slug}`; agentic providers fall back to it), a
//! tool run for a user outside any session (`POST /tools/execute/{slug}`)
//! and an authenticated request to a toolkit's API with an account
//! (`POST /tools/execute/proxy`).

use crate::error::ApiError;
use crate::extract::{Json, Project, Query};
use crate::replay;
use crate::routes::page::PageRequest;
use crate::session::app_tools::{self, Caller};
use crate::session::config::SessionConfig;
use crate::session::proxy::{self, Method, Parameter};
use crate::state::AppState;
use crate::store::AccountRecord;
use crate::tools::MetaTool;
use crate::wire::page::Page;
use crate::wire::tool::{DirectExecuteResponse, ToolItem};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The tool routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3.1/tools", get(list))
        .route("/api/v3.1/tools/{slug}", get(tool))
        .route("/api/v3.1/tools/execute/proxy", post(proxy_execute))
        .route("/api/v3.1/tools/execute/{slug}", post(execute))
        .route("/api/v3.1/tools/execute/{slug}/input", post(input))
}

/// The user of a direct execute that names none.
const DEFAULT_USER: &str = "default";

/// Tools per page when the caller names no limit.
const DEFAULT_LIMIT: usize = 100;
/// The most tools one page holds (larger limits are clamped: the
/// TypeScript SDK asks for 9999).
const MAX_LIMIT: usize = 1000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only these toolkits (comma-separated slugs).
    toolkit_slug: Option<String>,
    /// Exactly these tools (comma-separated slugs); every match is
    /// returned, whatever the limit.
    tool_slugs: Option<String>,
    /// Only tools with one of these tags (comma-separated).
    tags: Option<String>,
    /// Full-text search, best matches first.
    query: Option<String>,
    /// The older name of `query`.
    search: Option<String>,
    /// Only the toolkits of these auth configs (comma-separated ids).
    auth_config_ids: Option<String>,
    /// `true`: only each toolkit's main tools (hand-written ones, and
    /// imported ones its overlay marks important), as the SDKs ask when
    /// they list a toolkit's tools.
    #[param(pattern = "^(true|false)$")]
    important: Option<String>,
    /// Tools per page (default 100; more than 1000 is 1000). A whole
    /// number (`10.0` is accepted too).
    #[param(pattern = "^[1-9][0-9]{0,8}(\\.0+)?$")]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]*$")]
    cursor: Option<String>,
}

fn csv(list: Option<&str>) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `GET /api/v3.1/tools`: the catalog's tools, filtered; without a query,
/// each toolkit's main tools come first.
#[utoipa::path(
    operation_id = "tools_list", get, path = "/api/v3.1/tools", tag = "tools", params(ListQuery),
    responses((status = 200, body = crate::wire::page::Page<crate::wire::tool::ToolItem>), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "An auth config in auth_config_ids is not in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Page<ToolItem>>, ApiError> {
    let important = match query.important.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "important: must be true or false".into(),
            ));
        }
    };
    let limit = match query.limit.as_deref() {
        None => None,
        Some(text) => {
            let n = text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 1.0 && n.fract() == 0.0)
                .ok_or_else(|| {
                    ApiError::BadRequest("limit: must be a whole number, at least 1".into())
                })?;
            Some((n as usize).min(MAX_LIMIT))
        }
    };
    let catalog = &state.catalog();
    let mut toolkits: Vec<String> = csv(query.toolkit_slug.as_deref())
        .into_iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let configs = csv(query.auth_config_ids.as_deref());
    if !configs.is_empty() {
        let project = project.clone();
        let found = state
            .store
            .run(move |store| {
                configs
                    .iter()
                    .map(|id| store.auth_config(&project, id).map(|c| (id.clone(), c)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .map_err(ApiError::internal)?;
        for (id, config) in found {
            let config = config.ok_or_else(|| {
                ApiError::NotFound(format!(
                    "auth config {} not found",
                    crate::error::clip(&id, 64)
                ))
            })?;
            toolkits.push(config.toolkit);
        }
    }
    let tags: Vec<String> = csv(query.tags.as_deref())
        .into_iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let keep = |slug: &str| {
        let Some(tool) = catalog.tool(slug) else {
            return false;
        };
        (toolkits.is_empty() || toolkits.contains(&tool.toolkit))
            && (!important || tool.tool.is_important())
            && (tags.is_empty()
                || tool
                    .tool
                    .tags
                    .iter()
                    .any(|t| tags.contains(&t.to_ascii_lowercase())))
    };
    let wanted = csv(query.tool_slugs.as_deref());
    let search = query
        .query
        .as_deref()
        .or(query.search.as_deref())
        .map(str::trim)
        .filter(|q| !q.is_empty());
    let (slugs, default_limit): (Vec<String>, usize) = if !wanted.is_empty() {
        let all: Vec<String> = wanted
            .iter()
            .map(|s| s.to_ascii_uppercase())
            .filter(|s| keep(s))
            .collect();
        let n = all.len().max(1);
        (all, n)
    } else if let Some(search) = search {
        let hits = catalog.index().search(search, keep);
        (hits.into_iter().map(|h| h.slug).collect(), DEFAULT_LIMIT)
    } else {
        // A toolkit's main tools first (the SDKs read the first page when
        // they list a toolkit), then the rest; by slug within each.
        let mut all: Vec<(bool, String)> = catalog
            .tools()
            .filter(|t| keep(&t.tool.slug))
            .map(|t| (!t.tool.is_important(), t.tool.slug.clone()))
            .collect();
        all.sort();
        (
            all.into_iter().map(|(_, slug)| slug).collect(),
            DEFAULT_LIMIT,
        )
    };
    // Named tools come back all at once (the SDKs read one page).
    let limit = if wanted.is_empty() {
        limit.unwrap_or(default_limit)
    } else {
        default_limit
    };
    let page = PageRequest::new(
        Some(limit.clamp(1, MAX_LIMIT.max(default_limit))),
        query.cursor.as_deref(),
        DEFAULT_LIMIT,
        MAX_LIMIT.max(default_limit),
    )?;
    // Only the page's tools are built: a toolkit imported whole has a
    // thousand, and each carries its schemas.
    let total = slugs.len();
    let items = slugs
        .iter()
        .skip(page.offset)
        .take(page.limit)
        .filter_map(|slug| catalog.tool(slug))
        .map(|tool| ToolItem::of(tool, catalog))
        .collect();
    Ok(axum::Json(page.page(items, total)))
}

#[utoipa::path(
    operation_id = "tool_tool", get, path = "/api/v3.1/tools/{slug}", tag = "tools", params(("slug" = String, Path, description = "A tool slug")),
    responses((status = 200, body = crate::wire::tool::ToolItem), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn tool(
    State(state): State<AppState>,
    Project(_project): Project,
    Path(slug): Path<String>,
) -> Result<axum::Json<ToolItem>, ApiError> {
    if let Some(meta) = MetaTool::from_slug(&slug) {
        return Ok(axum::Json(meta.schema(state.config.limits.timeout)));
    }
    let catalog = state.catalog();
    let tool = catalog.tool(&slug).ok_or_else(|| not_found(&slug))?;
    Ok(axum::Json(ToolItem::of(tool, &catalog)))
}

fn not_found(slug: &str) -> ApiError {
    ApiError::NotFound(format!("tool {} not found", crate::error::clip(slug, 128)))
}

/// A `tools/execute/{slug}` body, as both SDKs send it.
#[derive(Deserialize, utoipa::ToSchema)]
struct DirectExecuteBody {
    /// The user to run it for (their account for the tool's toolkit is
    /// used); `default` when neither it nor `connected_account_id` is
    /// given (Composio's default entity).
    #[schema(min_length = 1, max_length = 256, pattern = "\\S")]
    user_id: Option<String>,
    /// The older name of `user_id`.
    #[schema(min_length = 1, max_length = 256, pattern = "\\S")]
    entity_id: Option<String>,
    /// The account to run it with (`ca_...`).
    #[schema(min_length = 1, max_length = 128)]
    connected_account_id: Option<String>,
    /// The tool's arguments.
    #[schema(value_type = Option<Object>)]
    arguments: Option<Map<String, Value>>,
    /// Accepted: `latest` or any version (there is one per tool).
    #[schema(max_length = 64)]
    version: Option<String>,
    /// The arguments described in words, written by the operator's model
    /// (`[llm]`; 400 without one); not together with `arguments`.
    #[schema(max_length = 16384)]
    text: Option<String>,
    /// Accepted and ignored.
    allow_tracing: Option<bool>,
    /// Not supported (400): connect an account instead.
    #[schema(ignore)]
    custom_auth_params: Option<Value>,
    /// Not supported (400): connect an account instead.
    #[schema(ignore)]
    custom_connection_data: Option<Value>,
}

/// Refuses what toolshed does not do, by field.
fn unsupported(auth: bool, connection: bool) -> Result<(), ApiError> {
    if auth || connection {
        let field = if auth {
            "custom_auth_params"
        } else {
            "custom_connection_data"
        };
        return Err(ApiError::BadRequest(format!(
            "{field}: not supported; connect an account (connected_accounts) and pass its id as connected_account_id"
        )));
    }
    Ok(())
}

/// The account named by `id` in `project`, for a user given or not.
async fn account(
    state: &AppState,
    project: &str,
    id: &str,
    user: Option<&str>,
) -> Result<AccountRecord, ApiError> {
    let (p, i) = (project.to_owned(), id.to_owned());
    let account = state
        .store
        .run(move |store| store.account(&p, &i))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "connected account {} not found",
                crate::error::clip(id, 64)
            ))
        })?;
    if let Some(user) = user
        && user != account.user_id
    {
        return Err(ApiError::NotFound(format!(
            "connected account {} not found for user {}",
            crate::error::clip(id, 64),
            crate::error::clip(user, 64)
        )));
    }
    Ok(account)
}

/// The session config a project-level call runs under: the user's, with
/// every toolkit allowed.
fn user_config(user: &str) -> Result<SessionConfig, ApiError> {
    SessionConfig::from_request(&json!({"user_id": user}))
        .map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// `POST /api/v3.1/tools/execute/{slug}` (`composio.tools.execute`): runs an
/// app tool for a user outside any session, with their account for the
/// tool's toolkit (or the one named). A tool that fails is a 200 with
/// `successful: false` and the error.
#[utoipa::path(
    operation_id = "tools_execute", post, path = "/api/v3.1/tools/execute/{slug}", tag = "tools",
    params(("slug" = String, Path, description = "An app tool's slug"), ("Idempotency-Key" = Option<String>, Header, description = "Names this request: a repeat within 24 h gets the first answer instead of running again")),
    request_body = DirectExecuteBody,
    responses((status = 200, body = crate::wire::tool::DirectExecuteResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such tool or account in the key's project", body = crate::error::ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn execute(
    State(state): State<AppState>,
    Project(project): Project,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Json(body): Json<DirectExecuteBody>,
) -> Result<Response, ApiError> {
    let _ = (&body.version, body.allow_tracing);
    unsupported(
        body.custom_auth_params.is_some(),
        body.custom_connection_data.is_some(),
    )?;
    if body.text.is_some() && body.arguments.as_ref().is_some_and(|a| !a.is_empty()) {
        return Err(ApiError::BadRequest(
            "text: give arguments or text, not both".into(),
        ));
    }
    if MetaTool::from_slug(&slug).is_some() {
        return Err(ApiError::BadRequest(format!(
            "{}: meta tools run in a session (POST /api/v3.1/tool_router/session/{{id}}/execute)",
            crate::error::clip(&slug, 64)
        )));
    }
    if state.catalog().tool(&slug).is_none() {
        return Err(not_found(&slug));
    }
    let key = replay::idempotency_key(&headers)?;
    let named_user = body.user_id.or(body.entity_id);
    let user = match &body.connected_account_id {
        Some(id) => {
            account(&state, &project, id, named_user.as_deref())
                .await?
                .user_id
        }
        None => named_user.unwrap_or_else(|| DEFAULT_USER.to_owned()),
    };
    let config = user_config(&user)?;
    let arguments = Value::Object(body.arguments.unwrap_or_default());
    let text = body.text;
    let request = json!({
        "direct": slug, "user": user, "account": body.connected_account_id,
        "arguments": arguments, "text": text,
    });
    let run = {
        let (state, project, account) = (state.clone(), project.clone(), body.connected_account_id);
        async move {
            // Arguments written as text: the operator's model writes them
            // (inside the run, so a replayed request does not ask again).
            let arguments = match text {
                None => arguments,
                Some(text) => {
                    write_arguments(&state, &slug, &text, None, None)
                        .await
                        .map_err(|failed| match failed {
                            Written::NoModel(why) => {
                                ApiError::BadRequest(format!("text: needs a language model: {why}"))
                            }
                            other => ApiError::Unprocessable(format!(
                                "text: no arguments could be written from it: {}",
                                other.message()
                            )),
                        })?
                        .0
                }
            };
            let caller = Caller {
                project_id: &project,
                session_id: None,
                user_id: &user,
                config: &config,
                approved: &crate::session::approval::NOT_ASKED,
            };
            let outcome = app_tools::execute(
                &state.app_tools(),
                &caller,
                &slug,
                &arguments,
                account.as_deref(),
            )
            .await?;
            state.store.logs_committed().await;
            let execution = outcome.execution;
            let response = DirectExecuteResponse {
                data: crate::tools::execute::as_object(execution.data),
                successful: execution.successful,
                error: execution.error,
                log_id: outcome.log_id,
                session_info: None,
            };
            serde_json::to_value(response).map_err(ApiError::internal)
        }
    };
    Ok(state
        .replays
        .execute(&state, &project, key, &request, run)
        .await)
}

/// A `tools/execute/proxy` body.
#[derive(Deserialize, utoipa::ToSchema)]
struct DirectProxyBody {
    /// A path under the account's toolkit API, or a full URL under it.
    #[schema(min_length = 1, max_length = 2048)]
    endpoint: String,
    /// The HTTP method.
    method: Method,
    /// The JSON body.
    #[schema(value_type = Option<Object>)]
    body: Option<Value>,
    /// The account whose credentials sign the request (`ca_...`).
    #[schema(min_length = 1, max_length = 128)]
    connected_account_id: String,
    /// Checked against the account's user when given.
    #[schema(max_length = 256)]
    user_id: Option<String>,
    /// Headers and query parameters.
    #[serde(default)]
    parameters: Vec<Parameter>,
    /// Not supported (400): send JSON in `body`.
    #[schema(ignore)]
    binary_body: Option<Value>,
    /// Not supported (400): connect an account instead.
    #[schema(ignore)]
    custom_connection_data: Option<Value>,
}

/// `POST /api/v3.1/tools/execute/proxy` (`composio.tools.proxy`): an
/// authenticated request to the API of the named account's toolkit.
#[utoipa::path(
    operation_id = "tools_proxy", post, path = "/api/v3.1/tools/execute/proxy", tag = "tools",
    request_body = DirectProxyBody,
    responses((status = 200, body = crate::session::proxy::Output), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such account in the key's project", body = crate::error::ErrorBody),
        (status = 409, description = "The account is not active", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody),
        (status = 503, description = "The toolkit's API did not answer", body = crate::error::ErrorBody))
)]
async fn proxy_execute(
    State(state): State<AppState>,
    Project(project): Project,
    Json(body): Json<DirectProxyBody>,
) -> Result<axum::Json<proxy::Output>, ApiError> {
    if body.binary_body.is_some() {
        return Err(ApiError::BadRequest(
            "binary_body: not supported; send JSON in body".into(),
        ));
    }
    unsupported(false, body.custom_connection_data.is_some())?;
    let id = body.connected_account_id;
    let account = account(&state, &project, &id, body.user_id.as_deref()).await?;
    if !account.is_usable() {
        return Err(ApiError::Conflict(format!(
            "connected account {} is {}{}, not an active account: reconnect it or use another",
            crate::error::clip(&id, 64),
            account.status,
            if account.enabled { "" } else { " and disabled" }
        )));
    }
    let config = user_config(&account.user_id)?;
    let caller = Caller {
        project_id: &project,
        session_id: None,
        user_id: &account.user_id,
        config: &config,
        approved: &crate::session::approval::NOT_ASKED,
    };
    let args = proxy::Args {
        toolkit_slug: account.toolkit.clone(),
        endpoint: body.endpoint,
        method: body.method,
        body: body.body,
        parameters: body.parameters,
        account: Some(id),
    };
    let output = proxy::run(&state.app_tools(), &caller, args)
        .await
        .map_err(ApiError::from)?;
    Ok(axum::Json(output))
}

/// A `tools/execute/{slug}/input` body.
#[derive(Deserialize, utoipa::ToSchema)]
struct InputBody {
    /// What the arguments should do, in words.
    #[schema(min_length = 1, max_length = 16384)]
    text: String,
    /// A description of the tool to use instead of its own.
    #[schema(max_length = 16384)]
    custom_description: Option<String>,
    /// Instructions for the model, before the tool's.
    #[schema(max_length = 16384)]
    system_prompt: Option<String>,
    /// Accepted: there is one version per tool.
    #[schema(max_length = 64)]
    version: Option<String>,
}

/// What `tools/execute/{slug}/input` answers: the arguments, or why there
/// are none (`error`), or both when they do not fit the tool's schema.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct InputResponse {
    /// The tool's arguments, as the model wrote them.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<Value>,
    /// Why the arguments are missing or do not fit the tool's schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `POST /api/v3.1/tools/execute/{slug}/input` (`composio.tools.getInput`):
/// a tool's arguments from a description in words, written by the
/// operator's model (`[llm]`) and checked against the tool's schema.
#[utoipa::path(
    operation_id = "tools_input", post, path = "/api/v3.1/tools/execute/{slug}/input", tag = "tools",
    params(("slug" = String, Path, description = "An app tool's slug")),
    request_body = InputBody,
    responses((status = 200, body = InputResponse), (status = 400, description = "Bad input, or no model configured", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such tool", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn input(
    State(state): State<AppState>,
    Project(_project): Project,
    Path(slug): Path<String>,
    Json(body): Json<InputBody>,
) -> Result<axum::Json<InputResponse>, ApiError> {
    let _ = &body.version;
    if state.catalog().tool(&slug).is_none() {
        return Err(not_found(&slug));
    }
    if body.text.trim().is_empty() {
        return Err(ApiError::BadRequest("text: must not be empty".into()));
    }
    match write_arguments(
        &state,
        &slug,
        &body.text,
        body.custom_description.as_deref(),
        body.system_prompt.as_deref(),
    )
    .await
    {
        Ok((arguments, error)) => Ok(axum::Json(InputResponse {
            arguments: Some(arguments),
            error,
        })),
        Err(Written::NoModel(why)) => Err(ApiError::BadRequest(why)),
        Err(other) => Ok(axum::Json(InputResponse {
            arguments: None,
            error: Some(other.message()),
        })),
    }
}

/// Why no arguments were written.
enum Written {
    /// The server has no model.
    NoModel(String),
    /// The model failed.
    Failed(String),
    /// The model's answer is not a JSON object.
    NotJson(String),
}

impl Written {
    fn message(self) -> String {
        match self {
            Written::NoModel(why) | Written::Failed(why) => why,
            Written::NotJson(answer) => format!(
                "the model did not answer with a JSON object: {}",
                crate::error::clip(&answer, 300)
            ),
        }
    }
}

/// The arguments of `slug` written by the operator's model from `text`,
/// with why they do not fit the tool's schema, if they do not.
async fn write_arguments(
    state: &AppState,
    slug: &str,
    text: &str,
    custom_description: Option<&str>,
    system_prompt: Option<&str>,
) -> Result<(Value, Option<String>), Written> {
    let catalog = state.catalog();
    let tool = catalog
        .tool(slug)
        .ok_or_else(|| Written::Failed(format!("no tool {}", crate::error::clip(slug, 64))))?;
    let description = custom_description.unwrap_or(&tool.tool.description);
    let system = format!(
        "{}You write the JSON arguments of the tool {} ({description}). Its input JSON Schema is:\n{}\nAnswer with the JSON object of arguments only, no prose.",
        system_prompt
            .map(|p| format!("{p}\n\n"))
            .unwrap_or_default(),
        tool.tool.slug,
        tool.tool.input_parameters,
    );
    let answer = state
        .config
        .helpers
        .complete(&system, text)
        .await
        .map_err(|err| {
            if err.starts_with("this server has no language model") {
                Written::NoModel(err)
            } else {
                Written::Failed(err)
            }
        })?;
    // Models often fence JSON in a code block.
    let json_text = answer
        .trim()
        .trim_start_matches("```json")
        .trim_start_matches("```")
        .trim_end_matches("```")
        .trim();
    match serde_json::from_str::<Value>(json_text) {
        Ok(value @ Value::Object(_)) => {
            let error = tool.validate(&value).err();
            Ok((value, error))
        }
        _ => Err(Written::NotJson(answer)),
    }
}
