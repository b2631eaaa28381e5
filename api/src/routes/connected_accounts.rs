//! `/api/v3.1/connected_accounts`: create accounts with ready credentials
//! (Composio's `initiate` body or toolshed's own), read, list, update,
//! enable/disable and delete them. Links live in [`super::links`], OAuth2
//! completion in [`super::oauth_callback`], revocation in
//! [`super::revocation`]. Credentials are stored sealed and injected
//! upstream; responses never include them.

use crate::connections;
use crate::error::{ApiError, clip};
use crate::extract::{Json, Project, Query};
use crate::keys;
use crate::routes::page::PageRequest;
use crate::routes::sessions::base_url;
use crate::session::request::UserId;
use crate::state::AppState;
use crate::store::{AccountFilter, AccountRecord, AuthConfigRecord, now};
use crate::wire::account::AccountResponse;
use crate::wire::page::Page;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The connected-account routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3.1/connected_accounts", post(create).get(list))
        .route(
            "/api/v3.1/connected_accounts/{id}",
            get(retrieve).patch(update).delete(delete),
        )
        .route(
            "/api/v3.1/connected_accounts/{id}/status",
            axum::routing::patch(set_status),
        )
}

/// A `POST /connected_accounts` body: Composio's shape (an auth config and
/// the connection's state, as the SDKs' `initiate` sends) or toolshed's own
/// (a toolkit and ready credentials). The handler reads the body as one of
/// the two (by whether it has `auth_config`); this type is what the
/// document says.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(
    dead_code,
    reason = "the handler parses the variants itself; this type documents the body"
)]
enum CreateBody {
    /// Composio's shape.
    Initiate(InitiateBody),
    /// Toolshed's shape.
    Direct(DirectBody),
}

/// Composio's create body.
#[derive(Deserialize, utoipa::ToSchema)]
struct InitiateBody {
    /// The auth config the account is made under, as `{id}`.
    auth_config: AuthConfigId,
    /// Who connects, and with what.
    connection: Connection,
}

/// An auth config named by id.
#[derive(Deserialize, utoipa::ToSchema)]
struct AuthConfigId {
    /// `ac_...`.
    id: String,
}

/// The connection block of [`InitiateBody`].
#[derive(Deserialize, utoipa::ToSchema)]
struct Connection {
    /// The end user.
    user_id: UserId,
    /// A label to choose the account by.
    #[schema(max_length = 256)]
    alias: Option<String>,
    /// Where the browser goes after the hosted page (without `state`).
    callback_url: Option<String>,
    /// The credentials, as `{authScheme, val: {status, api_key | token |
    /// access_token | username, password, ...}}`.
    state: Option<ConnectionState>,
}

/// `{authScheme, val}`.
#[derive(Deserialize, utoipa::ToSchema)]
struct ConnectionState {
    /// The scheme (`auth_scheme` is accepted too).
    #[serde(rename = "authScheme", alias = "auth_scheme")]
    auth_scheme: String,
    /// The credential fields (and a `status`, which is ignored).
    #[schema(value_type = Object)]
    val: serde_json::Map<String, Value>,
}

/// A connected account with ready credentials (toolshed's shape).
#[derive(Deserialize, utoipa::ToSchema)]
struct DirectBody {
    /// The end user the account belongs to.
    user_id: UserId,
    /// The toolkit slug (`toolkit_slug` is accepted too).
    #[serde(alias = "toolkit_slug")]
    #[schema(min_length = 1, max_length = 64)]
    toolkit: String,
    /// API_KEY, BEARER_TOKEN, BASIC or OAUTH2; the toolkit's first scheme when left out.
    auth_scheme: Option<String>,
    /// A label to choose the account by, when the user has several.
    #[schema(max_length = 256)]
    alias: Option<String>,
    /// The credential fields the scheme needs: `api_key`, `token` (or
    /// `access_token`), or `username` and `password`.
    #[schema(value_type = Object)]
    credentials: serde_json::Map<String, Value>,
}

/// Largest credentials object, as JSON.
const MAX_CREDENTIALS_BYTES: usize = 16 << 10;

/// Composio's spellings of credential fields, mapped to toolshed's.
const FIELD_SPELLINGS: [(&str, &str); 2] =
    [("generic_api_key", "api_key"), ("bearer_token", "token")];

/// The credentials in a Composio state `val`: without its `status`, with
/// Composio's field spellings mapped to toolshed's.
fn composio_credentials(mut val: serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
    val.remove("status");
    for (composio, ours) in FIELD_SPELLINGS {
        if let Some(value) = val.remove(composio) {
            val.entry(ours).or_insert(value);
        }
    }
    val
}

/// Checks credentials for `scheme`: their size and the field it needs.
fn check_credentials(
    scheme: &str,
    credentials: &serde_json::Map<String, Value>,
    field: &str,
) -> Result<(), ApiError> {
    let size = serde_json::to_vec(credentials).map_or(usize::MAX, |v| v.len());
    if size > MAX_CREDENTIALS_BYTES {
        return Err(ApiError::BadRequest(format!(
            "{field}: must be at most {MAX_CREDENTIALS_BYTES} bytes as JSON (got {size})"
        )));
    }
    let has = |k: &str| {
        credentials
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    let ok = match scheme {
        "API_KEY" => has("api_key"),
        "BEARER_TOKEN" | "OAUTH2" => has("token") || has("access_token"),
        "BASIC" => has("username"),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(ApiError::BadRequest(format!(
        "{field}: {scheme} needs {}",
        match scheme {
            "API_KEY" => "api_key",
            "BASIC" => "username (and password)",
            "OAUTH2" => "access_token",
            _ => "token",
        }
    )))
}

/// What create returns: the account, and Composio's connection data.
#[derive(Serialize, utoipa::ToSchema)]
struct CreatedAccount {
    #[serde(flatten)]
    account: AccountResponse,
    /// Where the user completes the connection (`null`: nothing to do).
    redirect_url: Option<String>,
    /// `{authScheme, val: {status, redirectUrl}}`, as the SDKs read it.
    #[serde(rename = "connectionData")]
    connection_data: ConnectionData,
}

/// Composio's connection data.
#[derive(Serialize, utoipa::ToSchema)]
struct ConnectionData {
    /// The scheme.
    #[serde(rename = "authScheme")]
    auth_scheme: String,
    /// `{status}`.
    val: ConnectionDataValue,
}

/// The value of [`ConnectionData`].
#[derive(Serialize, utoipa::ToSchema)]
struct ConnectionDataValue {
    /// ACTIVE, INITIATED, ...
    status: String,
    /// Where the user completes the connection (TS reads this spelling).
    #[serde(rename = "redirectUrl")]
    redirect_url: Option<String>,
    /// The same (Python reads this spelling).
    #[serde(rename = "redirect_url")]
    redirect_url_snake: Option<String>,
}

#[utoipa::path(
    operation_id = "account_create", post, path = "/api/v3.1/connected_accounts", tag = "connected accounts", request_body = CreateBody,
    responses((status = 200, body = CreatedAccount), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn create(
    State(state): State<AppState>,
    Project(project): Project,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> Result<axum::Json<CreatedAccount>, ApiError> {
    let (account, config) = if body.get("auth_config").is_some() {
        let body: InitiateBody = crate::tool_error::parse_arguments(body)?;
        if body.connection.state.is_none() {
            return linked(&state, &project, &headers, body).await;
        }
        initiated(&state, &project, body).await?
    } else {
        let body: DirectBody = crate::tool_error::parse_arguments(body)?;
        direct(&state, &project, body).await?
    };
    {
        let account = account.clone();
        state
            .store
            .run(move |store| store.create_account(&account))
            .await
            .map_err(ApiError::internal)?;
    }
    tracing::info!(account = %account.id, toolkit = %account.toolkit, "connected account created");
    Ok(axum::Json(CreatedAccount {
        redirect_url: None,
        connection_data: ConnectionData {
            auth_scheme: account.auth_scheme.clone(),
            val: ConnectionDataValue {
                status: account.status.clone(),
                redirect_url: None,
                redirect_url_snake: None,
            },
        },
        account: AccountResponse::of(&account, Some(&config)),
    }))
}

/// Composio's body without credentials: an INITIATED account and the link
/// where the user completes it.
async fn linked(
    state: &AppState,
    project: &str,
    headers: &axum::http::HeaderMap,
    body: InitiateBody,
) -> Result<axum::Json<CreatedAccount>, ApiError> {
    let connection = body.connection;
    connections::check_alias(connection.alias.as_deref())?;
    connections::check_callback(
        connection.callback_url.as_deref(),
        "connection.callback_url",
    )?;
    let config = named_config(state, project, &body.auth_config.id).await?;
    let link = crate::routes::links::start(
        state,
        config.clone(),
        connection.user_id.0,
        connection.alias,
        connection.callback_url,
    )
    .await?;
    let redirect =
        crate::routes::links::LinkResponse::of(&link, &base_url(state, headers)).redirect_url;
    Ok(axum::Json(CreatedAccount {
        redirect_url: Some(redirect.clone()),
        connection_data: ConnectionData {
            auth_scheme: link.account.auth_scheme.clone(),
            val: ConnectionDataValue {
                status: link.account.status.clone(),
                redirect_url: Some(redirect.clone()),
                redirect_url_snake: Some(redirect),
            },
        },
        account: AccountResponse::of(&link.account, Some(&config)),
    }))
}

/// The project's auth config `id`.
async fn named_config(
    state: &AppState,
    project: &str,
    id: &str,
) -> Result<AuthConfigRecord, ApiError> {
    let (project, key) = (project.to_owned(), id.to_owned());
    state
        .store
        .run(move |store| store.auth_config(&project, &key))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::NotFound(format!("auth config {} not found", clip(id, 64))))
}

/// An account from Composio's body, under the named auth config.
async fn initiated(
    state: &AppState,
    project: &str,
    body: InitiateBody,
) -> Result<(AccountRecord, AuthConfigRecord), ApiError> {
    let config = named_config(state, project, &body.auth_config.id).await?;
    if !config.enabled {
        return Err(ApiError::BadRequest(format!(
            "auth_config.id: {} is disabled; enable it or use another",
            config.id
        )));
    }
    let connection = body.connection;
    connections::check_alias(connection.alias.as_deref())?;
    let Some(connection_state) = connection.state else {
        return Err(ApiError::BadRequest(
            "connection.state: give the credentials as {authScheme, val: {...}}".into(),
        ));
    };
    let scheme = connection_state.auth_scheme.to_ascii_uppercase();
    if scheme != config.auth_scheme {
        return Err(ApiError::BadRequest(format!(
            "connection.state.authScheme: {} is a {} auth config, not {}",
            config.id,
            config.auth_scheme,
            clip(&scheme, 32)
        )));
    }
    let credentials = composio_credentials(connection_state.val);
    check_credentials(&scheme, &credentials, "connection.state.val")?;
    let timestamp = now();
    let account = AccountRecord {
        id: keys::new_id("ca_"),
        project_id: project.to_owned(),
        user_id: connection.user_id.0,
        toolkit: config.toolkit.clone(),
        auth_scheme: scheme,
        status: "ACTIVE".into(),
        credentials: Value::Object(credentials),
        alias: connection.alias.filter(|a| !a.is_empty()),
        created_at: timestamp,
        updated_at: timestamp,
        auth_config_id: config.id.clone(),
        status_reason: None,
        enabled: true,
    };
    Ok((account, config))
}

/// An account from toolshed's body, under the project's auth config for
/// the toolkit and scheme (made when there is none).
async fn direct(
    state: &AppState,
    project: &str,
    body: DirectBody,
) -> Result<(AccountRecord, AuthConfigRecord), ApiError> {
    connections::check_alias(body.alias.as_deref())?;
    let toolkit_slug = body.toolkit.to_ascii_lowercase();
    let catalog = state.catalog();
    let toolkit = catalog.toolkit(&toolkit_slug).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "toolkit: {} is not a known toolkit",
            clip(&toolkit_slug, 64)
        ))
    })?;
    let scheme = match body.auth_scheme {
        Some(scheme) => connections::scheme_for(toolkit, &scheme)?,
        None => connections::scheme_for(
            toolkit,
            toolkit
                .auth
                .schemes
                .first()
                .map_or("NO_AUTH", String::as_str),
        )?,
    };
    check_credentials(&scheme, &body.credentials, "credentials")?;
    let config = {
        let (project, toolkit, scheme) = (project.to_owned(), toolkit.clone(), scheme.clone());
        state
            .store
            .run(move |store| connections::config_for_account(store, &project, &toolkit, &scheme))
            .await
            .map_err(ApiError::internal)?
    };
    let timestamp = now();
    let account = AccountRecord {
        id: keys::new_id("ca_"),
        project_id: project.to_owned(),
        user_id: body.user_id.0,
        toolkit: toolkit_slug,
        auth_scheme: scheme,
        status: "ACTIVE".into(),
        credentials: Value::Object(body.credentials),
        alias: body.alias.filter(|a| !a.is_empty()),
        created_at: timestamp,
        updated_at: timestamp,
        auth_config_id: config.id.clone(),
        status_reason: None,
        enabled: true,
    };
    Ok((account, config))
}

#[utoipa::path(
    operation_id = "account_retrieve", get, path = "/api/v3.1/connected_accounts/{id}", tag = "connected accounts", params(("id" = String, Path, description = "The account id (ca_...)")),
    responses((status = 200, body = crate::wire::account::AccountResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn retrieve(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> Result<axum::Json<AccountResponse>, ApiError> {
    let account = {
        let id = id.clone();
        state
            .store
            .run(move |store| {
                // Links that ran out make their accounts EXPIRED before
                // anyone reads them (wait_for_connection polls this).
                store.expire_links(&project, now())?;
                store.account(&project, &id)
            })
            .await
            .map_err(ApiError::internal)?
    }
    .ok_or_else(|| ApiError::NotFound(format!("connected account {} not found", clip(&id, 64))))?;
    let mut shown = responses(&state, vec![account]).await?;
    Ok(axum::Json(shown.remove(0)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only these users (comma-separated).
    user_ids: Option<String>,
    /// One user (the same as `user_ids` with one entry).
    user_id: Option<String>,
    /// Only these toolkits (comma-separated slugs).
    toolkit_slugs: Option<String>,
    /// Only these statuses (comma-separated: ACTIVE, INITIATED, ...).
    statuses: Option<String>,
    /// Only those under these auth configs (comma-separated ids).
    auth_config_ids: Option<String>,
    /// Only these accounts (comma-separated ids).
    connected_account_ids: Option<String>,
    /// Accounts per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]*$")]
    cursor: Option<String>,
}

/// Most users one list request may name.
const MAX_LISTED_USERS: usize = 100;
/// Most toolkits or statuses one list request may name.
const MAX_LISTED_VALUES: usize = 100;

/// A comma-separated filter; `None` when absent or empty.
fn comma_list(
    field: &str,
    value: Option<String>,
    most: usize,
    normalize: fn(&str) -> String,
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    let values: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(normalize)
        .collect();
    if values.len() > most {
        return Err(ApiError::BadRequest(format!(
            "{field}: at most {most} values per request (got {})",
            values.len()
        )));
    }
    Ok((!values.is_empty()).then_some(values))
}

#[utoipa::path(
    operation_id = "account_list", get, path = "/api/v3.1/connected_accounts", tag = "connected accounts", params(ListQuery),
    responses((status = 200, body = Page<AccountResponse>), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Page<AccountResponse>>, ApiError> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), 100, 1000)?;
    let users = match (query.user_ids, query.user_id) {
        (Some(ids), Some(id)) => Some(format!("{ids},{id}")),
        (ids, id) => ids.or(id),
    };
    let filter = AccountFilter {
        users: comma_list("user_ids", users, MAX_LISTED_USERS, str::to_owned)?,
        toolkits: comma_list(
            "toolkit_slugs",
            query.toolkit_slugs,
            MAX_LISTED_VALUES,
            str::to_ascii_lowercase,
        )?,
        statuses: comma_list(
            "statuses",
            query.statuses,
            MAX_LISTED_VALUES,
            str::to_ascii_uppercase,
        )?,
        auth_configs: comma_list(
            "auth_config_ids",
            query.auth_config_ids,
            MAX_LISTED_VALUES,
            str::to_owned,
        )?,
        ids: comma_list(
            "connected_account_ids",
            query.connected_account_ids,
            MAX_LISTED_VALUES,
            str::to_owned,
        )?,
    };
    let (accounts, total) = state
        .store
        .run(move |store| {
            store.expire_links(&project, now())?;
            store.list_accounts(&project, &filter, page.offset, page.limit)
        })
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(
        page.page(responses(&state, accounts).await?, total),
    ))
}

/// The public views of `accounts` (of one project), with their auth configs.
async fn responses(
    state: &AppState,
    accounts: Vec<AccountRecord>,
) -> Result<Vec<AccountResponse>, ApiError> {
    state
        .store
        .run(move |store| {
            let mut configs = std::collections::HashMap::new();
            for account in &accounts {
                if !configs.contains_key(&account.auth_config_id) {
                    let config = store.auth_config(&account.project_id, &account.auth_config_id)?;
                    configs.insert(account.auth_config_id.clone(), config);
                }
            }
            Ok(accounts
                .iter()
                .map(|a| AccountResponse::of(a, configs[&a.auth_config_id].as_ref()))
                .collect())
        })
        .await
        .map_err(ApiError::internal)
}

async fn load(state: &AppState, project: &str, id: &str) -> Result<AccountRecord, ApiError> {
    let (project, key) = (project.to_owned(), id.to_owned());
    state
        .store
        .run(move |store| store.account(&project, &key))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::NotFound(format!("connected account {} not found", clip(id, 64))))
}

async fn save(state: &AppState, account: &AccountRecord) -> Result<(), ApiError> {
    let stored = account.clone();
    let found = state
        .store
        .run(move |store| store.update_account(&stored))
        .await
        .map_err(ApiError::internal)?;
    if found {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "connected account {} not found",
            account.id
        )))
    }
}

/// `PATCH /connected_accounts/{id}/status`.
#[derive(Deserialize, utoipa::ToSchema)]
struct StatusBody {
    /// Whether tools may use the account.
    enabled: bool,
}

/// `{success}` (and the account's id and status).
#[derive(Serialize, utoipa::ToSchema)]
struct Changed {
    /// Always true.
    success: bool,
    /// The account.
    id: String,
    /// Its status.
    status: String,
}

#[utoipa::path(
    operation_id = "account_set_status", patch, path = "/api/v3.1/connected_accounts/{id}/status", tag = "connected accounts", params(("id" = String, Path, description = "The account id (ca_...)")),
    request_body = StatusBody,
    responses((status = 200, body = Changed), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such account in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn set_status(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    Json(body): Json<StatusBody>,
) -> Result<axum::Json<Changed>, ApiError> {
    let mut account = load(&state, &project, &id).await?;
    account.enabled = body.enabled;
    account.updated_at = now();
    save(&state, &account).await?;
    Ok(axum::Json(Changed {
        success: true,
        id: account.id,
        status: account.status,
    }))
}

/// `PATCH /connected_accounts/{id}`.
#[derive(Deserialize, utoipa::ToSchema)]
struct UpdateBody {
    /// A new label (empty removes it).
    #[schema(max_length = 256)]
    alias: Option<String>,
    /// New credentials, as `{state: {authScheme, val: {...}}}` (the scheme
    /// cannot change).
    connection: Option<UpdateConnection>,
}

/// The connection block of [`UpdateBody`].
#[derive(Deserialize, utoipa::ToSchema)]
struct UpdateConnection {
    /// `{authScheme, val}`.
    state: ConnectionState,
}

#[utoipa::path(
    operation_id = "account_update", patch, path = "/api/v3.1/connected_accounts/{id}", tag = "connected accounts", params(("id" = String, Path, description = "The account id (ca_...)")),
    request_body = UpdateBody,
    responses((status = 200, body = Changed), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such account in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn update(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    Json(body): Json<UpdateBody>,
) -> Result<axum::Json<Changed>, ApiError> {
    let mut account = load(&state, &project, &id).await?;
    if let Some(alias) = body.alias {
        connections::check_alias(Some(&alias))?;
        account.alias = Some(alias).filter(|a| !a.is_empty());
    }
    if let Some(connection) = body.connection {
        let scheme = connection.state.auth_scheme.to_ascii_uppercase();
        if scheme != account.auth_scheme {
            return Err(ApiError::BadRequest(format!(
                "connection.state.authScheme: the account is {}, not {}",
                account.auth_scheme,
                clip(&scheme, 32)
            )));
        }
        let credentials = composio_credentials(connection.state.val);
        check_credentials(&scheme, &credentials, "connection.state.val")?;
        account.credentials = Value::Object(credentials);
        account.status = "ACTIVE".into();
        account.status_reason = None;
    }
    account.updated_at = now();
    save(&state, &account).await?;
    Ok(axum::Json(Changed {
        success: true,
        id: account.id,
        status: account.status,
    }))
}

#[utoipa::path(
    operation_id = "account_delete", delete, path = "/api/v3.1/connected_accounts/{id}", tag = "connected accounts", params(("id" = String, Path, description = "The account id (ca_...)")),
    responses((status = 200, body = crate::wire::auth_config::Success), (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such account in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn delete(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> Result<axum::Json<crate::wire::auth_config::Success>, ApiError> {
    let key = id.clone();
    let deleted = state
        .store
        .run(move |store| {
            let account = store.account(&project, &key)?;
            Ok(store
                .delete_account(&project, &key)?
                .then_some(account)
                .flatten())
        })
        .await
        .map_err(ApiError::internal)?;
    let Some(account) = deleted else {
        return Err(ApiError::NotFound(format!(
            "connected account {} not found",
            clip(&id, 64)
        )));
    };
    super::revocation::revoke_in_background(&state, account).await;
    Ok(axum::Json(crate::wire::auth_config::Success {
        success: true,
        message: format!("connected account {id} deleted"),
    }))
}
