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

async fn tool(
    State(state): State<AppState>,
    Project(_project): Project,
    Path(slug): Path<String>,
) -> Result<axum::Json<ToolItem>, ApiError> {
    if let Some(meta) = MetaTool::from_slug(&slug) {
        return Ok(axum::Json(meta.schema()));
    }
    let tool = state.catalog.tool(&slug).ok_or_else(|| {
        ApiError::NotFound(format!("tool {} not found", crate::error::clip(&slug, 128)))
    })?;
    Ok(axum::Json(ToolItem::of(tool, &state.catalog)))
}
