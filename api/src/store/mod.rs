//! The data layer: projects and API keys, sessions (with their config
//! history), connected accounts and tool-execution logs.
//!
//! Everything goes through [`Store`]; today it is SQLite in the data
//! directory (`sqlite.rs`), with migrations run at open. A PostgreSQL
//! backend would implement the same methods.

mod accounts;
mod approvals;
mod auth_configs;
mod feedback;
mod links;
mod memory;
mod migrations;
mod replies;
mod sqlite;
mod staged;

pub use approvals::PendingApproval;
pub use feedback::FeedbackRecord;
pub use links::LinkKey;
pub use memory::{MemoryLimits, MemoryWrite};
pub use replies::StoredReply;
pub use sqlite::Store;
pub use staged::{StagedRecord, StagedUsage};

use serde::{Deserialize, Serialize};

/// Why the store failed. Shown to clients only as "internal error".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON document could not be read.
    #[error("stored JSON is malformed")]
    Json(#[from] serde_json::Error),
    /// The database file or its folder could not be created.
    #[error("cannot open the data directory")]
    Io(#[from] std::io::Error),
    /// The master key or the API-key pepper could not be loaded, or a stored
    /// secret did not decrypt.
    #[error("secrets")]
    Secrets(#[from] crate::secrets::SecretsError),
    /// A query panicked on its blocking thread.
    #[error("a database task failed")]
    Task,
}

impl Store {
    /// Runs `query` on tokio's blocking pool. Async handlers go through
    /// this, so waiting for the database lock (or on a disk write) never
    /// occupies an async worker thread; the synchronous methods are for
    /// the CLI and for code that already runs on a blocking thread.
    pub async fn run<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || query(&store))
            .await
            .map_err(|_| StoreError::Task)?
    }
}

/// A project: the unit that owns keys, sessions, accounts and logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// `proj_…`.
    pub id: String,
    /// A label.
    pub name: String,
}

/// An API key's public record (the key itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// `key_…`.
    pub id: String,
    /// The project it belongs to.
    pub project_id: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, when revoked.
    pub revoked_at: Option<i64>,
}

/// A stored session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// `trs_…`.
    pub id: String,
    /// The owning project.
    pub project_id: String,
    /// The end user the session acts for.
    pub user_id: String,
    /// The session config in its response shape.
    pub config: serde_json::Value,
    /// Incremented on every update.
    pub config_version: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Which MCP token is valid (see [`Store::mcp_token`]); rotating the
    /// token increments it.
    #[serde(default)]
    pub mcp_token_generation: i64,
}

/// One version of a session's config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigVersion {
    /// The version number.
    pub version: i64,
    /// The config at that version.
    pub config: serde_json::Value,
    /// Unix seconds.
    pub created_at: i64,
}

/// Which accounts a list asks for; `None` matches any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// These users.
    pub users: Option<Vec<String>>,
    /// These toolkits (lower-case slugs).
    pub toolkits: Option<Vec<String>>,
    /// These statuses (ACTIVE, ...).
    pub statuses: Option<Vec<String>>,
    /// Under these auth configs.
    pub auth_configs: Option<Vec<String>>,
    /// These accounts.
    pub ids: Option<Vec<String>>,
}

/// A connected account (credentials are stored, never returned).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// `ca_…`.
    pub id: String,
    /// The owning project.
    pub project_id: String,
    /// The end user.
    pub user_id: String,
    /// The toolkit slug.
    pub toolkit: String,
    /// API_KEY, BEARER_TOKEN, ...
    pub auth_scheme: String,
    /// ACTIVE, INITIATED, ...
    pub status: String,
    /// The secret values (`{"api_key": ...}` / `{"token": ...}`).
    pub credentials: serde_json::Value,
    /// A label the user chose.
    pub alias: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// The auth config it was made under (`ac_…`).
    pub auth_config_id: String,
    /// Why the status is what it is (FAILED, EXPIRED, ...), in words.
    pub status_reason: Option<String>,
    /// False once disabled: it is kept but not used.
    pub enabled: bool,
}

impl AccountRecord {
    /// Whether tools may run with it: ACTIVE and not disabled.
    pub fn is_usable(&self) -> bool {
        self.status == "ACTIVE" && self.enabled
    }
}

/// How a toolkit's connections authenticate, for one project: the scheme,
/// and for OAuth2 the app (client id and secret, scopes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthConfigRecord {
    /// `ac_…`.
    pub id: String,
    /// The owning project.
    pub project_id: String,
    /// The toolkit slug.
    pub toolkit: String,
    /// A label.
    pub name: String,
    /// API_KEY, BEARER_TOKEN, BASIC or OAUTH2.
    pub auth_scheme: String,
    /// True when it uses the operator's app (Composio's "managed" auth,
    /// `type: default`); false for the project's own (`type: custom`).
    pub managed: bool,
    /// False once disabled: no new connections are made under it.
    pub enabled: bool,
    /// The secret settings (`client_secret`, ...), sealed at rest.
    pub credentials: serde_json::Map<String, serde_json::Value>,
    /// The other settings, as given (tool access, restrictions, ...).
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A connect link (its token is never stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkRecord {
    /// The owning project.
    pub project_id: String,
    /// The INITIATED account it completes.
    pub account_id: String,
    /// Where the browser goes afterwards.
    pub callback_url: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds, once used.
    pub used_at: Option<i64>,
}

/// Which auth configs a list asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthConfigFilter {
    /// Only this toolkit.
    pub toolkit: Option<String>,
    /// Only managed (true) or only the project's own (false).
    pub managed: Option<bool>,
    /// Include disabled ones.
    pub show_disabled: bool,
    /// Only those whose name, id or toolkit contains this (case-insensitive).
    pub search: Option<String>,
}

/// One tool execution, for `/logs/tool_execution/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// `log_…`.
    pub id: String,
    /// The owning project.
    pub project_id: String,
    /// The session, when there was one.
    pub session_id: Option<String>,
    /// The tool.
    pub tool_slug: String,
    /// Whether it succeeded.
    pub successful: bool,
    /// The error message, if any.
    pub error: Option<String>,
    /// Wall-clock time.
    pub duration_ms: i64,
    /// Unix seconds.
    pub created_at: i64,
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
