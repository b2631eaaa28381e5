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

/// `files/upload/request`: stage a file for a tool argument.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct StageRequest {
    /// The file's name (a path keeps its last part, which must have a
    /// character other than `.` and space).
    #[schema(
        max_length = 255,
        pattern = "^[^\\x00-\\x1f\\x7f]*[^/\\\\\\x00-\\x20\\x7f.][^/\\\\\\x00-\\x1f\\x7f]*$"
    )]
    pub filename: String,
    /// Its media type; the PUT to the returned URL must send it as
    /// `Content-Type`.
    #[schema(
        max_length = 255,
        pattern = "^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(;[ -~]*)?$"
    )]
    pub mimetype: String,
    /// Its MD5 digest, hex; the uploaded bytes must match it.
    #[schema(pattern = "^[0-9a-fA-F]{32}$")]
    pub md5: String,
    /// The tool it is for.
    #[schema(pattern = "^[A-Za-z0-9_]{1,128}$")]
    pub tool_slug: String,
    /// That tool's toolkit.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub toolkit_slug: String,
}

/// Where storage keeps a staged file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StageMetadata {
    /// Always `s3` (the SDKs accept `s3` and `azure_blob_storage`); the
    /// file is on the toolshed server.
    pub storage_backend: &'static str,
}

/// A staged file's key and the URL to PUT its bytes to (once, within an
/// hour).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StageResponse {
    /// `sf_...`.
    pub id: String,
    /// What a tool argument names the file by (`s3key`).
    pub key: String,
    /// The upload URL.
    pub new_presigned_url: String,
    /// The same URL (the TS SDK's name).
    #[serde(rename = "newPresignedUrl")]
    pub new_presigned_url_camel: String,
    /// Always `new`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Storage details.
    pub metadata: StageMetadata,
}

/// A staged file in the project's list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StagedItem {
    /// The toolkit it was staged for.
    pub toolkit_slug: String,
    /// The tool it was staged for.
    pub tool_slug: String,
    /// Its name.
    pub filename: String,
    /// Its media type.
    pub mimetype: String,
    /// Its MD5, hex.
    pub md5: String,
    /// Its key (`s3key`).
    pub key: String,
    /// Bytes.
    pub size: i64,
    /// RFC 3339.
    pub created_at: String,
}
