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
