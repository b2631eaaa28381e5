//! Tool-execution log responses.

use crate::store::LogRecord;
use serde::Serialize;

/// One tool execution.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogResponse {
    /// `log_...`.
    pub id: String,
    /// The session, when there was one.
    pub session_id: Option<String>,
    /// The tool.
    pub tool_slug: String,
    /// Whether it succeeded.
    pub successful: bool,
    /// Why it failed (capped at 1 KiB).
    pub error: Option<String>,
    /// Wall-clock time.
    pub duration_ms: i64,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<LogRecord> for LogResponse {
    fn from(log: LogRecord) -> LogResponse {
        LogResponse {
            id: log.id,
            session_id: log.session_id,
            tool_slug: log.tool_slug,
            successful: log.successful,
            error: log.error,
            duration_ms: log.duration_ms,
            created_at: log.created_at,
        }
    }
}
