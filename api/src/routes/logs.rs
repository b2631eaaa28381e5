//! `GET /api/v3.1/logs/tool_execution/{id}`.

use crate::error::ApiError;
use crate::extract::Project;
use crate::state::AppState;
use crate::wire::log::LogResponse;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

/// The log routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v3.1/logs/tool_execution/{id}", get(log))
}

#[utoipa::path(
    operation_id = "log_log", get, path = "/api/v3.1/logs/tool_execution/{id}", tag = "logs", params(("id" = String, Path, description = "A log_id from an execute answer")),
    responses((status = 200, body = crate::wire::log::LogResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn log(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> Result<axum::Json<LogResponse>, ApiError> {
    let log = state
        .store
        .run({
            let id = id.clone();
            move |store| store.log(&project, &id)
        })
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::NotFound(format!("log {} not found", crate::error::clip(&id, 64)))
        })?;
    Ok(axum::Json(LogResponse::from(log)))
}
