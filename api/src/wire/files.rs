//! Files-mount responses.

use serde::Serialize;

/// A file in the mount.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileItem {
    /// Its path inside the mount.
    pub mount_relative_path: String,
    /// Where the mount is inside the sandbox (`/mnt/files`).
    pub sandbox_mount_prefix: &'static str,
    /// Bytes.
    pub size: u64,
    /// RFC 3339.
    pub last_modified: String,
}

/// A page of the mount's files.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileList {
    /// Sorted by path.
    pub items: Vec<FileItem>,
    /// The last path of this page, when there is more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// An upload or download URL for one path.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileUrl {
    /// `upload_url` or `download_url`.
    #[serde(flatten)]
    pub url: UrlKind,
    /// RFC 3339.
    pub expires_at: String,
    /// The path inside the mount.
    pub mount_relative_path: String,
    /// Where the mount is inside the sandbox.
    pub sandbox_mount_prefix: &'static str,
}

/// Which URL.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub enum UrlKind {
    /// Single use: PUT the bytes.
    #[serde(rename = "upload_url")]
    Upload(String),
    /// GET the bytes until it expires.
    #[serde(rename = "download_url")]
    Download(String),
}

/// A path of the mount, as the delete answer names it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MountPath {
    /// The path inside the mount.
    pub mount_relative_path: String,
    /// Where the mount is inside the sandbox.
    pub sandbox_mount_prefix: &'static str,
}
