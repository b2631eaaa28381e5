//! `/api/v3.1/connected_accounts`: create accounts with API-key or
//! bearer-token credentials (full auth flows come later) and read them
//! back. Credentials are stored and injected upstream; responses never
//! include them.

use crate::error::{ApiError, clip};
use crate::extract::{Json, Project, Query};
use crate::keys;
use crate::routes::page::PageRequest;
use crate::session::request::UserId;
use crate::state::AppState;
use crate::store::{AccountFilter, AccountRecord, now};
use crate::wire::account::AccountResponse;
use crate::wire::page::Page;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

/// The connected-account routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3.1/connected_accounts", post(create).get(list))
        .route("/api/v3.1/connected_accounts/{id}", get(retrieve))
}

/// A connected account with ready credentials.
#[derive(Deserialize, utoipa::ToSchema)]
struct CreateBody {
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
    /// `access_token`), or `username` and `password`. `connection` is
    /// accepted too.
    #[serde(alias = "connection")]
    #[schema(value_type = Object)]
    credentials: serde_json::Map<String, Value>,
}

/// Longest alias, in characters.
const MAX_ALIAS_CHARS: usize = 256;
/// Largest credentials object, as JSON.
const MAX_CREDENTIALS_BYTES: usize = 16 << 10;

#[utoipa::path(
    operation_id = "account_create", post, path = "/api/v3.1/connected_accounts", tag = "connected accounts", request_body = CreateBody,
    responses((status = 200, body = crate::wire::account::AccountResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn create(
    State(state): State<AppState>,
    Project(project): Project,
    Json(body): Json<CreateBody>,
) -> Result<axum::Json<AccountResponse>, ApiError> {
    let user_id = body.user_id.0;
    if body
        .alias
        .as_ref()
        .is_some_and(|a| a.chars().count() > MAX_ALIAS_CHARS)
    {
        return Err(ApiError::BadRequest(format!(
            "alias: must be at most {MAX_ALIAS_CHARS} characters"
        )));
    }
    let toolkit_slug = body.toolkit.to_ascii_lowercase();
    let toolkit = state.catalog.toolkit(&toolkit_slug).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "toolkit: {} is not a known toolkit",
            clip(&toolkit_slug, 64)
        ))
    })?;
    let scheme = body
        .auth_scheme
        .map(|s| clip(&s, 32).to_ascii_uppercase())
        .unwrap_or_else(|| toolkit.auth.schemes.first().cloned().unwrap_or_default());
    if !matches!(
        scheme.as_str(),
        "API_KEY" | "BEARER_TOKEN" | "BASIC" | "OAUTH2"
    ) {
        return Err(ApiError::BadRequest(format!(
            "auth_scheme: {scheme} accounts cannot be created with credentials; use API_KEY, BEARER_TOKEN, BASIC or OAUTH2 (with an access token)"
        )));
    }
    if !toolkit.auth.schemes.contains(&scheme) {
        return Err(ApiError::BadRequest(format!(
            "auth_scheme: {toolkit_slug} accepts {}, not {scheme}",
            toolkit.auth.schemes.join(", ")
        )));
    }
    let credentials = Value::Object(body.credentials);
    let size = serde_json::to_vec(&credentials).map_or(usize::MAX, |v| v.len());
    if size > MAX_CREDENTIALS_BYTES {
        return Err(ApiError::BadRequest(format!(
            "credentials: must be at most {MAX_CREDENTIALS_BYTES} bytes as JSON (got {size})"
        )));
    }
    let has = |k: &str| {
        credentials
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    let ok = match scheme.as_str() {
        "API_KEY" => has("api_key"),
        "BEARER_TOKEN" | "OAUTH2" => has("token") || has("access_token"),
        "BASIC" => has("username"),
        _ => false,
    };
    if !ok {
        return Err(ApiError::BadRequest(format!(
            "credentials: {scheme} needs {}",
            match scheme.as_str() {
                "API_KEY" => "api_key",
                "BASIC" => "username (and password)",
                _ => "token",
            }
        )));
    }
    let timestamp = now();
    let account = AccountRecord {
        id: keys::new_id("ca_"),
        project_id: project,
        user_id,
        toolkit: toolkit_slug,
        auth_scheme: scheme,
        status: "ACTIVE".into(),
        credentials,
        alias: body.alias.filter(|a| !a.is_empty()),
        created_at: timestamp,
        updated_at: timestamp,
    };
    let account = state
        .store
        .run(move |store| store.create_account(&account).map(|()| account))
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(AccountResponse::of(&account)))
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
            .run(move |store| store.account(&project, &id))
            .await
            .map_err(ApiError::internal)?
    }
    .ok_or_else(|| ApiError::NotFound(format!("connected account {} not found", clip(&id, 64))))?;
    Ok(axum::Json(AccountResponse::of(&account)))
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
    };
    let (accounts, total) = state
        .store
        .run(move |store| store.list_accounts(&project, &filter, page.offset, page.limit))
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(page.page(
        accounts.iter().map(AccountResponse::of).collect(),
        total,
    )))
}
