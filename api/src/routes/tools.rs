//! `GET /api/v3.1/tools/{slug}`: one tool's schema (agentic providers fall
//! back to it for slugs missing from their cached list).

use crate::error::ApiError;
use crate::extract::Project;
use crate::state::AppState;
use crate::tools::MetaTool;
use crate::wire::tool::ToolItem;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

/// The tool routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v3.1/tools/{slug}", get(tool))
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
    let tool = state.catalog.tool(&slug).ok_or_else(|| {
        ApiError::NotFound(format!("tool {} not found", crate::error::clip(&slug, 128)))
    })?;
    Ok(axum::Json(ToolItem::of(tool, &state.catalog)))
}
