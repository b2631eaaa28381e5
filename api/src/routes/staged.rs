//! Project files staged for tool arguments (`crate::staged`): the SDKs'
//! `files/upload/request` (v3 and v3.1 paths) and `files/list`. The bytes
//! are PUT to the returned URL, served by `routes::files`.

use crate::error::ApiError;
use crate::extract::{Json, Project, Query};
use crate::file_urls::Target;
use crate::routes::page::PageRequest;
use crate::routes::sessions::base_url;
use crate::staged::UploadRequest;
use crate::state::AppState;
use crate::wire::files::{StageMetadata, StageRequest, StageResponse, StagedItem};
use crate::wire::page::Page;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde::Deserialize;

/// The staged-file routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3.1/files/upload/request", post(request))
        .route("/api/v3/files/upload/request", post(request))
        .route("/api/v3.1/files/list", get(list))
}

#[utoipa::path(
    operation_id = "files_upload_request", post, path = "/api/v3.1/files/upload/request", tag = "files",
    request_body = StageRequest,
    responses((status = 200, body = StageResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn request(
    State(state): State<AppState>,
    Project(project): Project,
    headers: HeaderMap,
    Json(body): Json<StageRequest>,
) -> Result<axum::Json<StageResponse>, ApiError> {
    let record = state
        .staged
        .request(
            &state.store,
            &project,
            UploadRequest {
                filename: body.filename,
                mimetype: body.mimetype,
                md5: body.md5,
                tool_slug: body.tool_slug,
                toolkit_slug: body.toolkit_slug,
            },
        )
        .await?;
    let token = state.tokens.issue(
        &project,
        Target::Staged {
            key: record.key.clone(),
        },
        true,
    )?;
    let url = format!("{}/api/v3.1/files/{token}", base_url(&state, &headers));
    Ok(axum::Json(StageResponse {
        id: record.id,
        key: record.key,
        new_presigned_url: url.clone(),
        new_presigned_url_camel: url,
        kind: "new",
        metadata: StageMetadata {
            storage_backend: "s3",
        },
    }))
}

/// Query of the list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only files staged for this toolkit.
    toolkit_slug: Option<String>,
    /// Only files staged for this tool.
    tool_slug: Option<String>,
    /// Page size (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]*$")]
    cursor: Option<String>,
}

#[utoipa::path(
    operation_id = "files_list", get, path = "/api/v3.1/files/list", tag = "files", params(ListQuery),
    responses((status = 200, body = Page<StagedItem>), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Page<StagedItem>>, ApiError> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), 20, 100)?;
    state.staged.expire(&state.store).await;
    let toolkit = query
        .toolkit_slug
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase());
    let tool = query
        .tool_slug
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_uppercase());
    let (rows, total) = state
        .store
        .run(move |store| {
            store.list_staged(
                &project,
                toolkit.as_deref(),
                tool.as_deref(),
                page.offset,
                page.limit,
            )
        })
        .await
        .map_err(ApiError::internal)?;
    let items = rows
        .into_iter()
        .map(|r| StagedItem {
            toolkit_slug: r.toolkit_slug,
            tool_slug: r.tool_slug,
            filename: r.filename,
            mimetype: r.mimetype,
            md5: r.md5,
            key: r.key,
            size: r.size.unwrap_or(0),
            created_at: crate::timestamp::rfc3339(u64::try_from(r.created_at).unwrap_or(0)),
        })
        .collect();
    Ok(axum::Json(page.page(items, total)))
}
