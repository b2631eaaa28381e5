//! The files mount API (`…/session/{id}/mounts/files/…`): list, upload and
//! download URLs (served by toolshed itself), delete. The mount is the
//! session's `/mnt/files`, shared with its sandbox.
//!
//! Upload and download URLs carry a random single-purpose token valid for
//! one hour; the token is the only credential they need (as presigned URLs
//! are). Paths are relative, normalised, and never leave the mount.

use crate::error::ApiError;
use crate::extract::{Json, Project};
use crate::routes::sessions::base_url;
use crate::session::SessionContext;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Component, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::AsyncWriteExt;

/// How long an upload or download URL stays valid.
const URL_TTL: Duration = Duration::from_secs(3600);
/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: u64 = 100 << 20;
/// The mount inside the sandbox.
const MOUNT: &str = "/mnt/files";

/// Outstanding upload/download tokens (in memory: they expire within an hour).
#[derive(Default)]
pub struct Tokens {
    tokens: Mutex<HashMap<String, Grant>>,
}

#[derive(Clone)]
struct Grant {
    path: PathBuf,
    upload: bool,
    mimetype: Option<String>,
    expires: Instant,
}

/// The file routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v3.1/tool_router/session/{id}/mounts/{mount}/items",
            get(list),
        )
        .route(
            "/api/v3.1/tool_router/session/{id}/mounts/{mount}/upload_url",
            post(upload_url),
        )
        .route(
            "/api/v3.1/tool_router/session/{id}/mounts/{mount}/download_url",
            post(download_url),
        )
        .route(
            "/api/v3.1/tool_router/session/{id}/mounts/{mount}/delete",
            post(delete),
        )
        .route("/api/v3.1/files/{token}", get(download).put(upload))
}

/// A mount-relative path, checked: relative, no `..`, not empty.
fn relative(path: &str, field: &str) -> Result<PathBuf, ApiError> {
    let trimmed = path.trim_start_matches('/');
    let trimmed = trimmed.strip_prefix("mnt/files/").unwrap_or(trimmed);
    let mut out = PathBuf::new();
    for component in std::path::Path::new(trimmed).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "{field}: must stay inside the mount (no ..)"
                )));
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(ApiError::BadRequest(format!("{field}: must name a file")));
    }
    Ok(out)
}

/// The host path of a mount-relative path, refusing symlinks on the way.
fn host_path(
    state: &AppState,
    session_id: &str,
    rel: &std::path::Path,
) -> Result<PathBuf, ApiError> {
    let root = state.session_files(session_id);
    let mut at = root.clone();
    for part in rel.components() {
        at.push(part);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(ApiError::BadRequest(
                "mount_relative_path: symbolic links are not followed".into(),
            ));
        }
    }
    Ok(at)
}

fn mount(mount: &str) -> Result<(), ApiError> {
    if mount == "files" {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "mount {mount} not found (the session has `files`)"
        )))
    }
}

fn expires_at() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        + URL_TTL.as_secs();
    crate::tools::search_tools::rfc3339(secs)
}

#[derive(Deserialize)]
struct ListQuery {
    mount_relative_prefix: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, mount_name)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    mount(&mount_name)?;
    SessionContext::load(&state, &project, &id)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest("limit: must be from 1 to 500".into()));
    }
    let prefix = query.mount_relative_prefix.unwrap_or_default();
    let root = state.session_files(&id);
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.retain(|(rel, _, _)| rel.starts_with(prefix.trim_start_matches('/')));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match query.cursor.filter(|c| !c.is_empty()) {
        None => 0,
        Some(after) => files.partition_point(|f| f.0 <= after),
    };
    let page: Vec<_> = files.iter().skip(start).take(limit).collect();
    let next = (start + page.len() < files.len())
        .then(|| page.last().map(|f| f.0.clone()))
        .flatten();
    let items: Vec<Value> = page
        .iter()
        .map(|(rel, size, modified)| {
            json!({"mount_relative_path": rel, "sandbox_mount_prefix": MOUNT, "size": size, "last_modified": modified})
        })
        .collect();
    Ok(axum::Json(json!({"items": items, "next_cursor": next})))
}

/// Regular files under `dir` (symlinks are skipped), relative to `root`.
fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, u64, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &path, out);
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let modified = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| crate::tools::search_tools::rfc3339(d.as_secs()))
                .unwrap_or_default();
            out.push((rel, meta.len(), modified));
        }
    }
}

#[derive(Deserialize)]
struct PathBody {
    mount_relative_path: Option<String>,
    mimetype: Option<String>,
}

fn grant(state: &AppState, path: PathBuf, upload: bool, mimetype: Option<String>) -> String {
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut tokens = state
        .tokens
        .tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    tokens.retain(|_, g| g.expires > now);
    tokens.insert(
        token.clone(),
        Grant {
            path,
            upload,
            mimetype,
            expires: now + URL_TTL,
        },
    );
    token
}

async fn upload_url(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, mount_name)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<PathBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let (rel, path) = resolve(&state, &project, &id, &mount_name, &body)?;
    let token = grant(&state, path, true, body.mimetype);
    let url = format!("{}/api/v3.1/files/{token}", base_url(&state, &headers));
    Ok(axum::Json(url_response("upload_url", url, &rel)))
}

async fn download_url(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, mount_name)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<PathBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let (rel, path) = resolve(&state, &project, &id, &mount_name, &body)?;
    if !path.is_file() {
        return Err(ApiError::NotFound(format!(
            "file {} not found in the mount",
            rel.display()
        )));
    }
    let token = grant(&state, path, false, None);
    let url = format!("{}/api/v3.1/files/{token}", base_url(&state, &headers));
    Ok(axum::Json(url_response("download_url", url, &rel)))
}

async fn delete(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, mount_name)): Path<(String, String)>,
    Json(body): Json<PathBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let (rel, path) = resolve(&state, &project, &id, &mount_name, &body)?;
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::NotFound(format!(
                "file {} not found in the mount",
                rel.display()
            )));
        }
        Err(e) => return Err(ApiError::internal(e)),
    }
    Ok(axum::Json(
        json!({"mount_relative_path": rel.to_string_lossy(), "sandbox_mount_prefix": MOUNT}),
    ))
}

/// The checked mount-relative path of a request body, and its host path.
fn resolve(
    state: &AppState,
    project: &str,
    session_id: &str,
    mount_name: &str,
    body: &PathBody,
) -> Result<(PathBuf, PathBuf), ApiError> {
    mount(mount_name)?;
    SessionContext::load(state, project, session_id)?;
    let raw = body
        .mount_relative_path
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("mount_relative_path: is required".into()))?;
    let rel = relative(raw, "mount_relative_path")?;
    let host = host_path(state, session_id, &rel)?;
    Ok((rel, host))
}

/// The body of an upload/download URL response.
fn url_response(kind: &str, url: String, rel: &std::path::Path) -> Value {
    json!({
        kind: url,
        "expires_at": expires_at(),
        "mount_relative_path": rel.to_string_lossy(),
        "sandbox_mount_prefix": MOUNT,
    })
}

fn take_grant(state: &AppState, token: &str, upload: bool) -> Result<Grant, ApiError> {
    let tokens = state
        .tokens
        .tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    match tokens.get(token) {
        Some(g) if g.upload == upload && g.expires > Instant::now() => Ok(g.clone()),
        _ => Err(ApiError::NotFound(
            "this file URL is unknown or expired".into(),
        )),
    }
}

async fn upload(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let grant = take_grant(&state, &token, true)?;
    if let Some(dir) = grant.path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(ApiError::internal)?;
    }
    let partial = grant.path.with_extension("toolshed-upload");
    let mut file = tokio::fs::File::create(&partial)
        .await
        .map_err(ApiError::internal)?;
    let mut stream = body.into_data_stream();
    let mut written: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("upload interrupted: {e}")))?;
        written += chunk.len() as u64;
        if written > MAX_UPLOAD_BYTES {
            drop(file);
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(ApiError::PayloadTooLarge(format!(
                "uploads are limited to {} MiB",
                MAX_UPLOAD_BYTES >> 20
            )));
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)?;
    drop(file);
    tokio::fs::rename(&partial, &grant.path)
        .await
        .map_err(ApiError::internal)?;
    let _ = grant.mimetype;
    Ok(StatusCode::OK.into_response())
}

async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let grant = take_grant(&state, &token, false)?;
    let file = tokio::fs::File::open(&grant.path)
        .await
        .map_err(|_| ApiError::NotFound("the file no longer exists".into()))?;
    let len = file.metadata().await.map_err(ApiError::internal)?.len();
    let stream = tokio_util::io::ReaderStream::new(file);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside() {
        assert_eq!(relative("a/b.txt", "p").unwrap(), PathBuf::from("a/b.txt"));
        assert_eq!(
            relative("/mnt/files/a.txt", "p").unwrap(),
            PathBuf::from("a.txt")
        );
        assert_eq!(relative("./a/./b", "p").unwrap(), PathBuf::from("a/b"));
        assert!(relative("../x", "p").is_err());
        assert!(relative("a/../../x", "p").is_err());
        assert!(relative("", "p").is_err());
    }
}
