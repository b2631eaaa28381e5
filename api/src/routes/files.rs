//! The files mount API (`…/session/{id}/mounts/files/…`): list, upload and
//! download URLs (served by toolshed itself), delete. The mount is the
//! session's `/mnt/files`, shared with its sandbox.
//!
//! Upload and download URLs carry a random single-purpose token valid for
//! one hour; the token is the only credential they need (as presigned URLs
//! are). Paths are relative, normalised, and never leave the mount.

use crate::error::ApiError;
use crate::extract::{Json, Project, Query};
use crate::routes::sessions::base_url;
use crate::session::SessionContext;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::Deserialize;
use std::path::{Component, PathBuf};
use std::time::SystemTime;
use tokio::io::AsyncWriteExt;

use crate::file_urls::{Grant, Target, URL_TTL};
use crate::wire::files::{FileItem, FileList, FileUrl, MountPath, UrlKind};

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: u64 = 100 << 20;
/// The mount inside the sandbox.
const MOUNT: &str = "/mnt/files";

/// Longest mount-relative path accepted, in bytes.
const MAX_PATH_CHARS: usize = 1024;

/// The session's files mount as a capability: every open, create, rename
/// and delete resolves inside it, and symlinks (which the sandbox may plant)
/// can never lead outside.
fn files_dir(state: &AppState, session_id: &str) -> Result<cap_std::fs::Dir, ApiError> {
    state
        .session_files_dir(session_id)
        .map_err(ApiError::internal)
}

/// A filesystem error from inside the mount, as the client should see it.
fn fs_error(err: std::io::Error, rel: &std::path::Path) -> ApiError {
    match err.kind() {
        // A name no file can have (too long, or under a regular file) is
        // not found either.
        std::io::ErrorKind::NotFound
        | std::io::ErrorKind::NotADirectory
        | std::io::ErrorKind::InvalidFilename => {
            ApiError::NotFound(format!("file {} not found in the mount", rel.display()))
        }
        std::io::ErrorKind::PermissionDenied => ApiError::BadRequest(format!(
            "mount_relative_path: {} leads outside the mount",
            rel.display()
        )),
        std::io::ErrorKind::IsADirectory | std::io::ErrorKind::DirectoryNotEmpty => {
            ApiError::BadRequest(format!(
                "mount_relative_path: {} is a directory, not a file",
                rel.display()
            ))
        }
        _ => ApiError::internal(err),
    }
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
    if path.chars().count() > MAX_PATH_CHARS {
        return Err(ApiError::BadRequest(format!(
            "{field}: longer than {MAX_PATH_CHARS} characters"
        )));
    }
    if path.contains('\0') {
        return Err(ApiError::BadRequest(format!(
            "{field}: must not contain NUL"
        )));
    }
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
    crate::timestamp::rfc3339(secs)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only paths under this prefix.
    mount_relative_prefix: Option<String>,
    /// The last path of the previous page.
    cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

#[utoipa::path(
    operation_id = "file_list", get, path = "/api/v3.1/tool_router/session/{id}/mounts/{mount}/items", tag = "files", params(("id" = String, Path, description = "The session id (trs_...)"), ("mount" = String, Path, description = "Always files"), ListQuery),
    responses((status = 200, body = crate::wire::files::FileList), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, mount_name)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<FileList>, ApiError> {
    mount(&mount_name)?;
    SessionContext::load(&state, &project, &id).await?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest("limit: must be from 1 to 500".into()));
    }
    let prefix = query.mount_relative_prefix.unwrap_or_default();
    let dir = files_dir(&state, &id)?;
    // A bounded walk through directory handles, off the async workers.
    let mut files = tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        let mut budget = MAX_LISTED_ENTRIES;
        walk(&dir, "", 0, &mut budget, &mut files);
        files
    })
    .await
    .map_err(ApiError::internal)?;
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
    let items = page
        .iter()
        .map(|(rel, size, modified)| FileItem {
            mount_relative_path: rel.clone(),
            sandbox_mount_prefix: MOUNT,
            size: *size,
            last_modified: modified.clone(),
        })
        .collect();
    Ok(axum::Json(FileList {
        items,
        next_cursor: next,
    }))
}

/// Most directory entries one listing visits (the files mount holds at most
/// the session's inode quota, 100,000 by default).
const MAX_LISTED_ENTRIES: usize = 200_000;
/// Deepest directory a listing descends into.
const MAX_LISTED_DEPTH: usize = 64;

/// Regular files under `dir`, with paths relative to the mount, through
/// directory handles: a symlink is never followed (the sandbox may swap a
/// directory for one at any time), and the walk stops after `budget`
/// entries or [`MAX_LISTED_DEPTH`] levels.
fn walk(
    dir: &cap_std::fs::Dir,
    rel: &str,
    depth: usize,
    budget: &mut usize,
    out: &mut Vec<(String, u64, String)>,
) {
    let Ok(entries) = dir.entries() else {
        return;
    };
    for entry in entries.flatten() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if meta.is_dir() {
            if depth < MAX_LISTED_DEPTH
                && let Ok(sub) = entry.open_dir()
            {
                walk(&sub, &path, depth + 1, budget, out);
            }
        } else if meta.is_file() {
            let modified = meta
                .modified()
                .ok()
                .map(cap_std::time::SystemTime::into_std)
                .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| crate::timestamp::rfc3339(d.as_secs()))
                .unwrap_or_default();
            out.push((path, meta.len(), modified));
        }
    }
}

/// A file in the mount.
#[derive(Deserialize, utoipa::ToSchema)]
struct PathBody {
    /// The path relative to the mount (`/mnt/files/` may lead it): at least
    /// one name, no `..` component, no NUL. (The pattern says that without
    /// lookarounds: `.`/empty components up to a first name, then names,
    /// `.` or empty components.)
    #[schema(
        max_length = 1024,
        pattern = r"^(?:\.?/)*(?:[^/.\u0000][^/\u0000]*|\.[^/.\u0000][^/\u0000]*|\.\.[^/\u0000]+)(?:/(?:\.?|(?:[^/.\u0000][^/\u0000]*|\.[^/.\u0000][^/\u0000]*|\.\.[^/\u0000]+)))*$"
    )]
    mount_relative_path: String,
}

#[utoipa::path(
    operation_id = "file_upload_url", post, path = "/api/v3.1/tool_router/session/{id}/mounts/{mount}/upload_url", tag = "files", params(("id" = String, Path, description = "The session id (trs_...)"), ("mount" = String, Path, description = "Always files")), request_body = PathBody,
    responses((status = 200, body = crate::wire::files::FileUrl), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn upload_url(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, mount_name)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<PathBody>,
) -> Result<axum::Json<FileUrl>, ApiError> {
    let rel = resolve(&state, &project, &id, &mount_name, &body).await?;
    let token = state.tokens.issue(
        &project,
        Target::SessionFile {
            session_id: id.clone(),
            rel: rel.clone(),
        },
        true,
    )?;
    let url = format!("{}/api/v3.1/files/{token}", base_url(&state, &headers));
    Ok(axum::Json(url_response(UrlKind::Upload(url), &rel)))
}

#[utoipa::path(
    operation_id = "file_download_url", post, path = "/api/v3.1/tool_router/session/{id}/mounts/{mount}/download_url", tag = "files", params(("id" = String, Path, description = "The session id (trs_...)"), ("mount" = String, Path, description = "Always files")), request_body = PathBody,
    responses((status = 200, body = crate::wire::files::FileUrl), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn download_url(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, mount_name)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<PathBody>,
) -> Result<axum::Json<FileUrl>, ApiError> {
    let rel = resolve(&state, &project, &id, &mount_name, &body).await?;
    let meta = files_dir(&state, &id)?
        .metadata(&rel)
        .map_err(|e| fs_error(e, &rel))?;
    if !meta.is_file() {
        return Err(ApiError::NotFound(format!(
            "file {} not found in the mount",
            rel.display()
        )));
    }
    let token = state.tokens.issue(
        &project,
        Target::SessionFile {
            session_id: id.clone(),
            rel: rel.clone(),
        },
        false,
    )?;
    let url = format!("{}/api/v3.1/files/{token}", base_url(&state, &headers));
    Ok(axum::Json(url_response(UrlKind::Download(url), &rel)))
}

#[utoipa::path(
    operation_id = "file_delete", post, path = "/api/v3.1/tool_router/session/{id}/mounts/{mount}/delete", tag = "files", params(("id" = String, Path, description = "The session id (trs_...)"), ("mount" = String, Path, description = "Always files")), request_body = PathBody,
    responses((status = 200, body = crate::wire::files::MountPath), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such resource in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn delete(
    State(state): State<AppState>,
    Project(project): Project,
    Path((id, mount_name)): Path<(String, String)>,
    Json(body): Json<PathBody>,
) -> Result<axum::Json<MountPath>, ApiError> {
    let rel = resolve(&state, &project, &id, &mount_name, &body).await?;
    files_dir(&state, &id)?
        .remove_file(&rel)
        .map_err(|e| fs_error(e, &rel))?;
    Ok(axum::Json(MountPath {
        mount_relative_path: rel.to_string_lossy().into_owned(),
        sandbox_mount_prefix: MOUNT,
    }))
}

/// The checked mount-relative path of a request body.
async fn resolve(
    state: &AppState,
    project: &str,
    session_id: &str,
    mount_name: &str,
    body: &PathBody,
) -> Result<PathBuf, ApiError> {
    mount(mount_name)?;
    SessionContext::load(state, project, session_id).await?;
    relative(&body.mount_relative_path, "mount_relative_path")
}

/// The body of an upload/download URL response.
fn url_response(url: UrlKind, rel: &std::path::Path) -> FileUrl {
    FileUrl {
        url,
        expires_at: expires_at(),
        mount_relative_path: rel.to_string_lossy().into_owned(),
        sandbox_mount_prefix: MOUNT,
    }
}

/// The grant behind a file URL, within its project's request rate (file
/// URLs carry no API key, so the rate is checked by the grant's project).
fn take_grant(state: &AppState, token: &str, upload: bool) -> Result<Grant, ApiError> {
    state.tokens.take(token, upload, |project| {
        crate::extract::check_rate(state, project)
    })
}

#[utoipa::path(
    operation_id = "file_upload", put, path = "/api/v3.1/files/{token}", tag = "files", params(("token" = String, Path, description = "From an upload_url (single use)")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "Stored"), (status = 404, description = "Unknown, expired or used URL", body = crate::error::ErrorBody), (status = 413, description = "Over 100 MiB or the disk quota", body = crate::error::ErrorBody), (status = 429, description = "Over the project's rate", body = crate::error::ErrorBody)), security(())
)]
async fn upload(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let grant = take_grant(&state, &token, true)?;
    let (session_id, rel) = match grant.target {
        Target::SessionFile { session_id, rel } => (session_id, rel),
        Target::Staged { key } => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            state
                .staged
                .receive(&state.store, &grant.project_id, &key, content_type, body)
                .await?;
            return Ok(StatusCode::OK.into_response());
        }
    };
    let dir = files_dir(&state, &session_id)?;
    if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
        dir.create_dir_all(parent).map_err(|e| fs_error(e, &rel))?;
    }
    // A private, unique temporary file at the mount's root, renamed into
    // place when complete; removed on any failure.
    let partial = format!(".toolshed-upload-{}.part", uuid::Uuid::new_v4().simple());
    let mut options = cap_std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let file = dir
        .open_with(&partial, &options)
        .map_err(ApiError::internal)?;
    let free = state.session_disk_free(&session_id).await;
    let result = write_upload(tokio::fs::File::from_std(file.into_std()), body, free).await;
    let result = result.and_then(|()| {
        dir.rename(&partial, &dir, &rel)
            .map_err(|e| fs_error(e, &rel))
    });
    if result.is_err() {
        let _ = dir.remove_file(&partial);
    }
    result.map(|()| StatusCode::OK.into_response())
}

/// Streams the body to `file`; refuses it past [`MAX_UPLOAD_BYTES`] or past
/// the `free` bytes the session's disk quota has left.
async fn write_upload(mut file: tokio::fs::File, body: Body, free: u64) -> Result<(), ApiError> {
    let mut stream = body.into_data_stream();
    let mut written: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("upload interrupted: {e}")))?;
        written += chunk.len() as u64;
        if written > MAX_UPLOAD_BYTES {
            return Err(ApiError::PayloadTooLarge(format!(
                "uploads are limited to {} MiB",
                MAX_UPLOAD_BYTES >> 20
            )));
        }
        if written > free {
            return Err(ApiError::PayloadTooLarge(format!(
                "the upload does not fit the session's disk quota ({free} bytes free in /home/user and /mnt/files together); delete files first"
            )));
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)
}

#[utoipa::path(
    operation_id = "file_download", get, path = "/api/v3.1/files/{token}", tag = "files", params(("token" = String, Path, description = "From a download_url")),
    responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream", body = Vec<u8>), (status = 404, description = "Unknown or expired URL, or no such file", body = crate::error::ErrorBody), (status = 429, description = "Over the project's rate", body = crate::error::ErrorBody)), security(())
)]
async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let grant = take_grant(&state, &token, false)?;
    let Target::SessionFile { session_id, rel } = grant.target else {
        return Err(ApiError::NotFound(
            "this file URL is unknown, expired or already used".into(),
        ));
    };
    let file = files_dir(&state, &session_id)?
        .open(&rel)
        .map_err(|e| fs_error(e, &rel))?;
    let file = tokio::fs::File::from_std(file.into_std());
    let meta = file.metadata().await.map_err(ApiError::internal)?;
    if !meta.is_file() {
        return Err(ApiError::NotFound("the file no longer exists".into()));
    }
    let stream = tokio_util::io::ReaderStream::new(file);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, meta.len().to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_pattern_admits_exactly_the_paths_the_server_takes() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(PathBody::schema()).unwrap();
        let pattern = schema["properties"]["mount_relative_path"]["pattern"]
            .as_str()
            .unwrap();
        let pattern = regex::Regex::new(pattern).unwrap();
        for path in [
            "a",
            "/a",
            "./a",
            "a/",
            "a//b",
            "a/./b",
            "...",
            "a/...",
            "..a",
            "a..b",
            ".a",
            "/mnt/files/x",
            "x/\n",
            "../a",
            "a/..",
            "a/../b",
            "..",
            ".",
            "/",
            "",
            "//./",
            ".../..",
            "a\0",
            "é/ü",
        ] {
            assert_eq!(
                pattern.is_match(path),
                relative(path, "p").is_ok(),
                "{path:?}"
            );
        }
    }

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
        assert!(relative(&"a/".repeat(600), "p").is_err());
    }
}
