//! `/api/v3.1/auth_configs` (and the same under `/api/v3`, where the SDKs'
//! older clients look): how a project's connections to each toolkit
//! authenticate. Create, list, get, update, enable/disable, delete.

use crate::connections;
use crate::error::{ApiError, clip};
use crate::extract::{Json, Project, Query};
use crate::routes::page::PageRequest;
use crate::state::AppState;
use crate::store::{AuthConfigFilter, AuthConfigRecord, now};
use crate::wire::auth_config::{
    AuthConfigResponse, CreateAuthConfig, CreatedAuthConfig, CreatedAuthConfigRef, Success,
    ToolkitSlug, UpdateAuthConfig,
};
use crate::wire::page::Page;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, patch};
use serde::Deserialize;
use serde_json::Value;

/// The auth-config routes, under both API versions.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for version in ["v3", "v3.1"] {
        router = router
            .route(
                &format!("/api/{version}/auth_configs"),
                get(list).post(create),
            )
            .route(
                &format!("/api/{version}/auth_configs/{{id}}"),
                get(retrieve).patch(update).delete(delete),
            )
            .route(
                &format!("/api/{version}/auth_configs/{{id}}/{{status}}"),
                patch(set_status),
            );
    }
    router
}

/// Not found, in the envelope.
fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("auth config {} not found", clip(id, 64)))
}

async fn load(state: &AppState, project: &str, id: &str) -> Result<AuthConfigRecord, ApiError> {
    let (project, key) = (project.to_owned(), id.to_owned());
    state
        .store
        .run(move |store| store.auth_config(&project, &key))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| not_found(id))
}

#[utoipa::path(
    operation_id = "auth_config_create", post, path = "/api/v3.1/auth_configs", tag = "auth configs", request_body = CreateAuthConfig,
    responses((status = 200, body = CreatedAuthConfig), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such toolkit", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn create(
    State(state): State<AppState>,
    Project(project): Project,
    Json(body): Json<CreateAuthConfig>,
) -> Result<axum::Json<CreatedAuthConfig>, ApiError> {
    let slug = body.toolkit.slug.to_ascii_lowercase();
    let catalog = state.catalog();
    let toolkit = catalog
        .toolkit(&slug)
        .ok_or_else(|| ApiError::NotFound(format!("toolkit {} not found", clip(&slug, 64))))?;
    let config = connections::new_config(&project, toolkit, &state.oauth, body.auth_config)?;
    {
        let config = config.clone();
        state
            .store
            .run(move |store| store.create_auth_config(&config))
            .await
            .map_err(ApiError::internal)?;
    }
    tracing::info!(auth_config = %config.id, toolkit = %config.toolkit, "auth config created");
    Ok(axum::Json(CreatedAuthConfig {
        toolkit: ToolkitSlug {
            slug: config.toolkit.clone(),
        },
        auth_config: CreatedAuthConfigRef {
            restrict_to_following_tools: config
                .settings
                .get("restrict_to_following_tools")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default(),
            id: config.id,
            auth_scheme: config.auth_scheme,
            is_composio_managed: config.managed,
        },
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this toolkit's.
    toolkit_slug: Option<String>,
    /// Only managed (true) or only custom (false) ones.
    is_composio_managed: Option<bool>,
    /// Include disabled ones (default false).
    show_disabled: Option<bool>,
    /// Only those whose name, id or toolkit contains this.
    #[param(max_length = 256)]
    search: Option<String>,
    /// Configs per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]*$")]
    cursor: Option<String>,
}

#[utoipa::path(
    operation_id = "auth_config_list", get, path = "/api/v3.1/auth_configs", tag = "auth configs", params(ListQuery),
    responses((status = 200, body = Page<AuthConfigResponse>), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Page<AuthConfigResponse>>, ApiError> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), 100, 1000)?;
    if query
        .search
        .as_ref()
        .is_some_and(|s| s.chars().count() > 256)
    {
        return Err(ApiError::BadRequest(
            "search: must be at most 256 characters".into(),
        ));
    }
    let filter = AuthConfigFilter {
        toolkit: query
            .toolkit_slug
            .filter(|t| !t.is_empty())
            .map(|t| t.to_ascii_lowercase()),
        managed: query.is_composio_managed,
        show_disabled: query.show_disabled.unwrap_or(false),
        search: query.search.filter(|s| !s.is_empty()),
    };
    let (configs, total) = state
        .store
        .run(move |store| store.list_auth_configs(&project, &filter, page.offset, page.limit))
        .await
        .map_err(ApiError::internal)?;
    let items = configs
        .iter()
        .map(|(config, accounts)| {
            AuthConfigResponse::of(config, state.catalog().toolkit(&config.toolkit), *accounts)
        })
        .collect();
    Ok(axum::Json(page.page(items, total)))
}

/// The number of accounts under a config.
async fn connections_of(state: &AppState, config: &AuthConfigRecord) -> Result<usize, ApiError> {
    let (project, id) = (config.project_id.clone(), config.id.clone());
    state
        .store
        .run(move |store| {
            let filter = crate::store::AccountFilter {
                auth_configs: Some(vec![id]),
                ..Default::default()
            };
            store
                .list_accounts(&project, &filter, 0, 0)
                .map(|(_, total)| total)
        })
        .await
        .map_err(ApiError::internal)
}

#[utoipa::path(
    operation_id = "auth_config_retrieve", get, path = "/api/v3.1/auth_configs/{id}", tag = "auth configs", params(("id" = String, Path, description = "The auth config id (ac_...)")),
    responses((status = 200, body = AuthConfigResponse), (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such auth config in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn retrieve(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> Result<axum::Json<AuthConfigResponse>, ApiError> {
    let config = load(&state, &project, &id).await?;
    let accounts = connections_of(&state, &config).await?;
    Ok(axum::Json(AuthConfigResponse::of(
        &config,
        state.catalog().toolkit(&config.toolkit),
        accounts,
    )))
}

#[utoipa::path(
    operation_id = "auth_config_update", patch, path = "/api/v3.1/auth_configs/{id}", tag = "auth configs", params(("id" = String, Path, description = "The auth config id (ac_...)")),
    request_body = UpdateAuthConfig,
    responses((status = 200, body = AuthConfigResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such auth config in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn update(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    Json(body): Json<UpdateAuthConfig>,
) -> Result<axum::Json<AuthConfigResponse>, ApiError> {
    let mut config = load(&state, &project, &id).await?;
    if let Some(name) = body.name.filter(|n| !n.trim().is_empty()) {
        config.name = name;
    }
    for (key, value) in body.credentials.into_iter().flatten() {
        config.credentials.insert(key, value);
    }
    if let Some(scopes) = body.scopes {
        config.credentials.insert("scopes".into(), scopes);
    }
    if let Some(access) = body.tool_access_config.filter(|a| !a.is_empty()) {
        let mut merged = config
            .settings
            .get("tool_access_config")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        merged.extend(access);
        config
            .settings
            .insert("tool_access_config".into(), Value::Object(merged));
    }
    if let Some(tools) = body.restrict_to_following_tools {
        config
            .settings
            .insert("restrict_to_following_tools".into(), tools.into());
    }
    if let Some(enabled) = body.is_enabled_for_tool_router {
        config
            .settings
            .insert("is_enabled_for_tool_router".into(), enabled.into());
    }
    connections::check_updated(&config)?;
    config.updated_at = now();
    save(&state, &config).await?;
    let accounts = connections_of(&state, &config).await?;
    Ok(axum::Json(AuthConfigResponse::of(
        &config,
        state.catalog().toolkit(&config.toolkit),
        accounts,
    )))
}

async fn save(state: &AppState, config: &AuthConfigRecord) -> Result<(), ApiError> {
    let stored = config.clone();
    let found = state
        .store
        .run(move |store| store.update_auth_config(&stored))
        .await
        .map_err(ApiError::internal)?;
    if found {
        Ok(())
    } else {
        Err(not_found(&config.id))
    }
}

#[utoipa::path(
    operation_id = "auth_config_set_status", patch, path = "/api/v3.1/auth_configs/{id}/{status}", tag = "auth configs",
    params(("id" = String, Path, description = "The auth config id (ac_...)"), ("status" = String, Path, description = "ENABLED or DISABLED")),
    responses((status = 200, body = Success), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such auth config in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn set_status(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, status)): Path<(String, String)>,
) -> Result<axum::Json<Success>, ApiError> {
    let enabled = match status.to_ascii_uppercase().as_str() {
        "ENABLED" => true,
        "DISABLED" => false,
        _ => {
            return Err(ApiError::NotFound(format!(
                "status {} not found: use ENABLED or DISABLED",
                clip(&status, 32)
            )));
        }
    };
    let mut config = load(&state, &project, &id).await?;
    config.enabled = enabled;
    config.updated_at = now();
    save(&state, &config).await?;
    Ok(axum::Json(Success {
        success: true,
        message: format!(
            "auth config {} {}",
            config.id,
            if enabled { "enabled" } else { "disabled" }
        ),
    }))
}

#[utoipa::path(
    operation_id = "auth_config_delete", delete, path = "/api/v3.1/auth_configs/{id}", tag = "auth configs", params(("id" = String, Path, description = "The auth config id (ac_...)")),
    responses((status = 200, body = Success), (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such auth config in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn delete(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> Result<axum::Json<Success>, ApiError> {
    let key = id.clone();
    let deleted = state
        .store
        .run(move |store| store.delete_auth_config(&project, &key))
        .await
        .map_err(ApiError::internal)?;
    if !deleted {
        return Err(not_found(&id));
    }
    tracing::info!(auth_config = %id, "auth config deleted with its accounts");
    Ok(axum::Json(Success {
        success: true,
        message: format!("auth config {id} and its connected accounts deleted"),
    }))
}
