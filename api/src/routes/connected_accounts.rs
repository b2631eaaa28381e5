//! `/api/v3.1/connected_accounts`: create accounts with API-key or
//! bearer-token credentials (full auth flows come later) and read them
//! back. Credentials are stored and injected upstream; responses never
//! include them.

use crate::error::{ApiError, clip};
use crate::extract::{Json, Project, Query};
use crate::keys;
use crate::state::AppState;
use crate::store::{AccountRecord, now};
use crate::wire::account::{AccountList, AccountResponse};
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

#[derive(Deserialize, utoipa::ToSchema)]
struct CreateBody {
    user_id: Option<String>,
    toolkit: Option<String>,
    toolkit_slug: Option<String>,
    auth_scheme: Option<String>,
    alias: Option<String>,
    #[serde(default)]
    credentials: Option<Value>,
    #[serde(default)]
    connection: Option<Value>,
}

/// Longest alias, in bytes.
const MAX_ALIAS_BYTES: usize = 256;
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
    let user_id = body
        .user_id
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| ApiError::BadRequest("user_id: is required".into()))?;
    if user_id.len() > crate::session::config::MAX_USER_ID_BYTES {
        return Err(ApiError::BadRequest(format!(
            "user_id: must be at most {} bytes",
            crate::session::config::MAX_USER_ID_BYTES
        )));
    }
    if body
        .alias
        .as_ref()
        .is_some_and(|a| a.len() > MAX_ALIAS_BYTES)
    {
        return Err(ApiError::BadRequest(format!(
            "alias: must be at most {MAX_ALIAS_BYTES} bytes"
        )));
    }
    let toolkit_slug = body
        .toolkit
        .or(body.toolkit_slug)
        .map(|t| t.to_ascii_lowercase())
        .ok_or_else(|| ApiError::BadRequest("toolkit: is required".into()))?;
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
    let credentials = body
        .credentials
        .or(body.connection)
        .filter(Value::is_object)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "credentials: an object like {\"api_key\": ...} or {\"token\": ...} is required"
                    .into(),
            )
        })?;
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
    user_ids: Option<String>,
    user_id: Option<String>,
    toolkit_slugs: Option<String>,
}

/// Most users one list request may name.
const MAX_LISTED_USERS: usize = 100;

#[utoipa::path(
    operation_id = "account_list", get, path = "/api/v3.1/connected_accounts", tag = "connected accounts", params(ListQuery),
    responses((status = 200, body = crate::wire::account::AccountList), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<AccountList>, ApiError> {
    let user = query
        .user_id
        .or(query.user_ids)
        .ok_or_else(|| ApiError::BadRequest("user_ids: is required".into()))?;
    let toolkits: Option<Vec<String>> = query.toolkit_slugs.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let users: Vec<String> = user
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    if users.len() > MAX_LISTED_USERS {
        return Err(ApiError::BadRequest(format!(
            "user_ids: at most {MAX_LISTED_USERS} users per request (got {})",
            users.len()
        )));
    }
    let accounts = state
        .store
        .run(move |store| {
            let mut all = Vec::new();
            for user in &users {
                all.extend(store.accounts_for_user(&project, user, None)?);
            }
            Ok(all)
        })
        .await
        .map_err(ApiError::internal)?;
    let items = accounts
        .iter()
        .filter(|a| toolkits.as_ref().is_none_or(|t| t.contains(&a.toolkit)))
        .map(AccountResponse::of)
        .collect();
    Ok(axum::Json(AccountList {
        items,
        next_cursor: None,
        total_pages: 1,
    }))
}
