//! Staged files: what a client uploads before a tool call with a file
//! argument. The SDKs ask `files/upload/request` for a key and a presigned
//! URL, PUT the bytes there, and pass `{name, mimetype, s3key}` as the
//! argument; the executor then sends those bytes to the upstream API.
//!
//! Composio keeps them in S3; toolshed keeps them in the data directory
//! (`uploads/`, one file per id, never a client-chosen name) with a row in
//! the store. The upload URL works once and for an hour, only with the
//! content type it was issued for, and only for bytes matching the MD5 the
//! client declared. A project keeps at most [`MAX_FILES_PER_PROJECT`] files
//! and [`MAX_BYTES_PER_PROJECT`] bytes for [`TTL_SECS`]; expired ones are
//! deleted as new ones are requested.

use crate::error::ApiError;
use crate::store::{StagedRecord, Store, now};
use axum::body::Body;
use futures::StreamExt;
use md5::{Digest, Md5};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Largest staged file.
pub const MAX_FILE_BYTES: u64 = 100 << 20;
/// Most staged files a project keeps (uploaded or awaiting their upload).
pub const MAX_FILES_PER_PROJECT: i64 = 1000;
/// Most staged bytes a project keeps.
pub const MAX_BYTES_PER_PROJECT: i64 = 2 << 30;
/// How long a staged file is kept: 7 days.
pub const TTL_SECS: i64 = 7 * 24 * 60 * 60;
/// Longest file name accepted.
const MAX_FILENAME_CHARS: usize = 255;
/// A file name: no control characters, and a last part (after `/` or `\`)
/// with a character other than `.` and space. The OpenAPI document states
/// the same patterns (a test keeps them equal).
pub const FILENAME_PATTERN: &str = r"^[^\x00-\x1f\x7f]*[^/\\\x00-\x20\x7f.][^/\\\x00-\x1f\x7f]*$";
/// A media type, `type/subtype[;parameters]`.
pub const MIMETYPE_PATTERN: &str =
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(;[ -~]*)?$";
/// An MD5 digest in hex.
pub const MD5_PATTERN: &str = r"^[0-9a-fA-F]{32}$";
/// A toolkit slug (matched lower-cased).
pub const TOOLKIT_PATTERN: &str = r"^[A-Za-z0-9_-]{1,64}$";

/// Whether `value` matches `pattern` (compiled per call: upload requests
/// are rare next to the upload itself).
fn matches(pattern: &str, value: &str) -> bool {
    regex::Regex::new(pattern).is_ok_and(|r| r.is_match(value))
}

/// What `files/upload/request` asks for.
#[derive(Clone, Debug)]
pub struct UploadRequest {
    /// The file's name (a base name; a path is cut to its last part).
    pub filename: String,
    /// Its media type; the PUT must send it as `Content-Type`.
    pub mimetype: String,
    /// Its MD5, hex.
    pub md5: String,
    /// The tool it is for.
    pub tool_slug: String,
    /// That tool's toolkit.
    pub toolkit_slug: String,
}

/// A staged file opened for sending.
#[derive(Debug)]
pub struct Opened {
    /// What it is.
    pub record: StagedRecord,
    /// Its bytes.
    pub file: std::fs::File,
}

/// Why a staged file cannot be used as a tool argument (the message is
/// for the agent).
#[derive(Debug, thiserror::Error)]
pub enum StagedError {
    /// No such key in this project, or it expired.
    #[error(
        "no staged file with s3key {0:?} in this project: request an upload (files/upload/request), PUT the file, and pass the key it returned; staged files are kept 7 days"
    )]
    Unknown(String),
    /// The upload URL was issued but the bytes never arrived.
    #[error(
        "the file for s3key {0:?} was never uploaded: PUT it to the URL files/upload/request returned"
    )]
    NotUploaded(String),
    /// The store or the disk failed.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The staged files of every project.
#[derive(Clone, Debug)]
pub struct Staged {
    root: PathBuf,
    /// Bytes of uploads still streaming, by project: concurrent uploads
    /// count against the quota together.
    in_flight: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u64>>>,
}

/// The bytes one upload has written so far, counted in its project's
/// in-flight total until it is dropped.
struct Charge {
    in_flight: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u64>>>,
    project: String,
    stored: u64,
    bytes: u64,
}

impl Charge {
    /// Counts `n` more bytes; false when the project's stored and
    /// in-flight bytes would pass the quota.
    fn add(&mut self, n: u64) -> bool {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let total = map.entry(self.project.clone()).or_default();
        if self.stored + *total + n > MAX_BYTES_PER_PROJECT as u64 {
            return false;
        }
        *total += n;
        self.bytes += n;
        true
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(total) = map.get_mut(&self.project) {
            *total = total.saturating_sub(self.bytes);
            if *total == 0 {
                map.remove(&self.project);
            }
        }
    }
}

impl Staged {
    /// Staged files under `root` (created when the first one arrives).
    pub fn new(root: PathBuf) -> Staged {
        Staged {
            root,
            in_flight: Default::default(),
        }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Records an upload request and returns the row (its `key` and `id`).
    /// 400 for a malformed field, 429 past the project's quota.
    pub async fn request(
        &self,
        store: &Store,
        project_id: &str,
        request: UploadRequest,
    ) -> Result<StagedRecord, ApiError> {
        let filename = base_name(&request.filename)?;
        if request.mimetype.len() > 255 || !matches(MIMETYPE_PATTERN, &request.mimetype) {
            return Err(ApiError::BadRequest(
                "mimetype: must be a media type such as text/csv or application/pdf".into(),
            ));
        }
        if !matches(MD5_PATTERN, &request.md5) {
            return Err(ApiError::BadRequest(
                "md5: must be the file's MD5 digest as 32 hex digits".into(),
            ));
        }
        if !crate::session::app_tools::is_valid_slug(&request.tool_slug) {
            return Err(ApiError::BadRequest(
                "tool_slug: must be a tool slug (A-Z, 0-9 and _)".into(),
            ));
        }
        if !matches(TOOLKIT_PATTERN, &request.toolkit_slug) {
            return Err(ApiError::BadRequest(
                "toolkit_slug: must be a toolkit slug (a-z, 0-9, _ and -)".into(),
            ));
        }
        let mimetype = request.mimetype;
        let md5 = request.md5.to_ascii_lowercase();
        let tool_slug = request.tool_slug.to_ascii_uppercase();
        let toolkit_slug = request.toolkit_slug.to_ascii_lowercase();
        self.expire(store).await;
        let id = crate::keys::new_id("sf_");
        let record = StagedRecord {
            key: format!("{toolkit_slug}/{tool_slug}/{id}/{filename}"),
            id,
            project_id: project_id.to_owned(),
            filename,
            mimetype,
            md5,
            tool_slug,
            toolkit_slug,
            size: None,
            created_at: now(),
        };
        let row = record.clone();
        store
            .run(move |store| {
                let usage = store.staged_usage(&row.project_id)?;
                if usage.files >= MAX_FILES_PER_PROJECT {
                    return Ok(Err(ApiError::TooManyRequests(format!(
                        "this project has {MAX_FILES_PER_PROJECT} staged files, its limit; they are deleted {} days after they are requested",
                        TTL_SECS / 86_400
                    ))));
                }
                store.add_staged(&row)?;
                Ok(Ok(()))
            })
            .await
            .map_err(ApiError::internal)??;
        Ok(record)
    }

    /// Receives the bytes of `key` (the PUT to its upload URL). 403 when
    /// `content_type` is not the one signed, 400 when the bytes do not
    /// match the declared MD5, 413 past the size or the project's quota.
    pub async fn receive(
        &self,
        store: &Store,
        project_id: &str,
        key: &str,
        content_type: Option<&str>,
        body: Body,
    ) -> Result<u64, ApiError> {
        let (project, key_owned) = (project_id.to_owned(), key.to_owned());
        let found = store
            .run(move |store| {
                Ok((
                    store.staged(&project, &key_owned)?,
                    store.staged_usage(&project)?,
                ))
            })
            .await
            .map_err(ApiError::internal)?;
        let (Some(record), usage) = found else {
            return Err(ApiError::NotFound(
                "this upload URL's file has expired; request a new one".into(),
            ));
        };
        let sent = content_type.map(str::trim).unwrap_or_default();
        if !sent.eq_ignore_ascii_case(&record.mimetype) {
            return Err(ApiError::Forbidden(format!(
                "this upload URL was issued for Content-Type {:?}; the PUT sent {:?}",
                record.mimetype,
                crate::error::clip(sent, 100)
            )));
        }
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(ApiError::internal)?;
        let partial = self.root.join(format!("{}.part", record.id));
        let mut charge = Charge {
            in_flight: self.in_flight.clone(),
            project: project_id.to_owned(),
            stored: u64::try_from(usage.bytes).unwrap_or(0),
            bytes: 0,
        };
        let written = write_checked(&partial, body, &mut charge, &record.md5).await;
        drop(charge);
        let written = match written {
            Ok(size) => size,
            Err(err) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(err);
            }
        };
        tokio::fs::rename(&partial, self.path(&record.id))
            .await
            .map_err(ApiError::internal)?;
        let id = record.id.clone();
        store
            .run(move |store| store.set_staged_size(&id, written as i64))
            .await
            .map_err(ApiError::internal)?;
        Ok(written)
    }

    /// Stages a copy of `source` (a workbench file being shared) and
    /// returns its row, like a request followed by its upload.
    pub async fn stage_copy(
        &self,
        store: &Store,
        project_id: &str,
        source: std::fs::File,
        request: UploadRequest,
    ) -> Result<StagedRecord, ApiError> {
        let digest_source = source.try_clone().map_err(ApiError::internal)?;
        let md5 = tokio::task::spawn_blocking(move || md5_of(digest_source))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        let record = self
            .request(store, project_id, UploadRequest { md5, ..request })
            .await?;
        let file = tokio::fs::File::from_std(source);
        let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
        let mimetype = record.mimetype.clone();
        match self
            .receive(store, project_id, &record.key, Some(&mimetype), body)
            .await
        {
            Ok(size) => Ok(StagedRecord {
                size: Some(size as i64),
                ..record
            }),
            Err(err) => {
                let id = record.id.clone();
                let _ = store.run(move |store| store.remove_staged(&id)).await;
                Err(err)
            }
        }
    }

    /// Opens the staged file `key` of `project_id` to send it.
    pub async fn open(
        &self,
        store: &Store,
        project_id: &str,
        key: &str,
    ) -> Result<Opened, StagedError> {
        let (project, key_owned) = (project_id.to_owned(), key.to_owned());
        let record = store
            .run(move |store| store.staged(&project, &key_owned))
            .await
            .map_err(|e| StagedError::Internal(e.into()))?
            .filter(|r| r.created_at > now() - TTL_SECS)
            .ok_or_else(|| StagedError::Unknown(crate::error::clip(key, 200)))?;
        if record.size.is_none() {
            return Err(StagedError::NotUploaded(crate::error::clip(key, 200)));
        }
        let file = std::fs::File::open(self.path(&record.id)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StagedError::Unknown(crate::error::clip(key, 200)),
            _ => StagedError::Internal(e.into()),
        })?;
        Ok(Opened { record, file })
    }

    /// Deletes expired files (rows first, so none is used half-deleted).
    pub async fn expire(&self, store: &Store) {
        let expired = store
            .run(|store| store.expire_staged(now() - TTL_SECS))
            .await;
        match expired {
            Ok(ids) => {
                for id in ids {
                    let _ = tokio::fs::remove_file(self.path(&id)).await;
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not expire staged files"),
        }
    }
}

/// Streams `body` to `path`, at most [`MAX_FILE_BYTES`] and within the
/// project's quota (`charge`), and checks its MD5.
async fn write_checked(
    path: &std::path::Path,
    body: Body,
    charge: &mut Charge,
    md5: &str,
) -> Result<u64, ApiError> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(ApiError::internal)?;
    let mut digest = Md5::new();
    let mut written: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("upload interrupted: {e}")))?;
        written += chunk.len() as u64;
        if written > MAX_FILE_BYTES {
            return Err(ApiError::PayloadTooLarge(format!(
                "staged files are limited to {} MiB",
                MAX_FILE_BYTES >> 20
            )));
        }
        if !charge.add(chunk.len() as u64) {
            return Err(ApiError::PayloadTooLarge(format!(
                "the file does not fit this project's staged-file quota ({} MiB with the uploads in progress); staged files are deleted {} days after they are requested",
                MAX_BYTES_PER_PROJECT >> 20,
                TTL_SECS / 86_400
            )));
        }
        digest.update(&chunk);
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)?;
    let got = hex(&digest.finalize());
    if got != md5 {
        return Err(ApiError::BadRequest(format!(
            "the uploaded bytes have MD5 {got}, not the {md5} the upload was requested with"
        )));
    }
    Ok(written)
}

fn md5_of(mut file: std::fs::File) -> std::io::Result<String> {
    use std::io::Read;
    let mut digest = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        digest.update(&buf[..n]);
    }
    use std::io::Seek;
    file.rewind()?;
    Ok(hex(&digest.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The last part of a client's file name, checked.
fn base_name(name: &str) -> Result<String, ApiError> {
    if name.chars().count() > MAX_FILENAME_CHARS || !matches(FILENAME_PATTERN, name) {
        return Err(ApiError::BadRequest(format!(
            "filename: must name a file (at most {MAX_FILENAME_CHARS} characters, no control characters, not only dots)"
        )));
    }
    Ok(name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_uploads_share_the_quota_and_release_it() {
        let in_flight =
            std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let charge = |stored: u64| Charge {
            in_flight: in_flight.clone(),
            project: "p".into(),
            stored,
            bytes: 0,
        };
        let quota = MAX_BYTES_PER_PROJECT as u64;
        let mut first = charge(quota - 100);
        let mut second = charge(quota - 100);
        assert!(first.add(60));
        assert!(!second.add(60), "together they would pass the quota");
        assert!(second.add(40));
        drop(first);
        assert!(second.add(60), "the first one's bytes were released");
        drop(second);
        assert!(in_flight.lock().unwrap().is_empty());
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(base_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(base_name("C:\\x\\report.pdf").unwrap(), "report.pdf");
        assert_eq!(base_name(".env").unwrap(), ".env");
        for bad in ["dir/", "..", "a/..", ". .", "a\nb", "", "x/ "] {
            assert!(base_name(bad).is_err(), "{bad:?}");
        }
        assert!(base_name(&"a".repeat(256)).is_err());
        assert!(matches(MIMETYPE_PATTERN, "text/plain; charset=utf-8"));
        assert!(!matches(MIMETYPE_PATTERN, "nonsense"));
        assert!(!matches(MIMETYPE_PATTERN, "text/\u{7f}"));
    }

    #[test]
    fn the_documented_patterns_are_the_checked_ones() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(crate::wire::files::StageRequest::schema()).unwrap();
        for (field, pattern) in [
            ("filename", FILENAME_PATTERN),
            ("mimetype", MIMETYPE_PATTERN),
            ("md5", MD5_PATTERN),
            ("toolkit_slug", TOOLKIT_PATTERN),
            ("tool_slug", r"^[A-Za-z0-9_]{1,128}$"),
        ] {
            assert_eq!(schema["properties"][field]["pattern"], pattern, "{field}");
        }
    }
}
