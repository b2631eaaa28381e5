//! [`ToolError`]: why a tool call (meta or app) did not run, in words an
//! agent can act on. The REST routes turn it into an [`ApiError`] (status
//! and envelope); MCP into a JSON-RPC error or an `isError` result; a cell
//! into the `error` of its `(result, error)` pair. The message is the same
//! everywhere.

use crate::error::ApiError;

/// A tool call that could not run.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// No such tool (or not one this session may see).
    #[error(
        "tool {0} not found; list this session's tools with GET .../tools or search with COMPOSIO_SEARCH_TOOLS"
    )]
    UnknownTool(String),
    /// The session's config disables the tool.
    #[error("tool_slug: {0} is disabled in this session's config")]
    Disabled(String),
    /// The arguments do not fit the tool's schema: "arguments.path: problem".
    #[error("{0}")]
    InvalidArguments(String),
    /// The tool's toolkit needs a connected account and there is none the
    /// session may use.
    #[error("{0}")]
    NoAccount(String),
    /// A resource the call names does not exist (a session, a file).
    #[error("{0}")]
    NotFound(String),
    /// The call needs the user's approval and does not have it (or was
    /// denied).
    #[error("{0}")]
    NotApproved(String),
    /// A per-project limit: retry after a moment.
    #[error("{0}")]
    Busy(String),
    /// A server-wide limit: retry shortly.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed on our side (the store, a sandbox's worker); the
    /// detail is logged, not shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ToolError {
    /// Wraps an internal failure (logged, not shown).
    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ToolError::Internal(err.into())
    }

    /// "arguments.{path}: {problem}".
    pub fn argument(path: &str, problem: impl std::fmt::Display) -> Self {
        ToolError::InvalidArguments(format!("arguments.{path}: {problem}"))
    }
}

/// Parses a tool's arguments into its typed form; a mismatch names the
/// path of the offending value (`arguments.queries[0].use_case: ...`) and
/// never quotes the value at length.
pub fn parse_arguments<T: serde::de::DeserializeOwned>(
    arguments: serde_json::Value,
) -> Result<T, ToolError> {
    serde_path_to_error::deserialize(arguments).map_err(|err| {
        let path = err.path().to_string();
        let problem = crate::error::clip(&err.inner().to_string(), 200);
        if path == "." {
            ToolError::InvalidArguments(format!("arguments: {problem}"))
        } else {
            ToolError::argument(&path, problem)
        }
    })
}

impl From<ToolError> for ApiError {
    fn from(err: ToolError) -> ApiError {
        match err {
            ToolError::UnknownTool(_) | ToolError::NotFound(_) => {
                ApiError::NotFound(err.to_string())
            }
            ToolError::Disabled(_) | ToolError::InvalidArguments(_) | ToolError::NoAccount(_) => {
                ApiError::BadRequest(err.to_string())
            }
            ToolError::NotApproved(message) => ApiError::Forbidden(message),
            ToolError::Busy(message) => ApiError::TooManyRequests(message),
            ToolError::Unavailable(message) => ApiError::Unavailable(message),
            ToolError::Internal(source) => ApiError::Internal(source),
        }
    }
}

impl From<ApiError> for ToolError {
    fn from(err: ApiError) -> ToolError {
        match err {
            ApiError::NotFound(message) => ToolError::NotFound(message),
            ApiError::BadRequest(message)
            | ApiError::PayloadTooLarge(message)
            | ApiError::HeadersTooLarge(message)
            | ApiError::Unprocessable(message)
            | ApiError::Conflict(message)
            | ApiError::Forbidden(message) => ToolError::InvalidArguments(message),
            ApiError::Unauthorized(message) => ToolError::NoAccount(message),
            ApiError::TooManyRequests(message) => ToolError::Busy(message),
            ApiError::Unavailable(message) => ToolError::Unavailable(message),
            ApiError::Internal(source) => ToolError::Internal(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code, reason = "fields are read by the parser only")]
    struct Args {
        queries: Vec<Query>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code, reason = "fields are read by the parser only")]
    struct Query {
        use_case: String,
    }

    #[test]
    fn argument_errors_name_the_path_and_clip_the_value() {
        let err = parse_arguments::<Args>(json!({"queries": [{"use_case": 1}]})).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("arguments.queries[0].use_case: "),
            "{message}"
        );
        let err = parse_arguments::<Args>(json!({})).unwrap_err();
        assert!(err.to_string().contains("missing field `queries`"), "{err}");
        let long = "x".repeat(100_000);
        let err = parse_arguments::<Args>(
            json!({"queries": [{"use_case": 1, long.clone(): 1}], long: 2}),
        )
        .unwrap_err();
        assert!(err.to_string().len() < 400, "{err}");
    }

    #[test]
    fn statuses_follow_the_kind() {
        let status = |e: ToolError| ApiError::from(e).status().as_u16();
        assert_eq!(status(ToolError::UnknownTool("X".into())), 404);
        assert_eq!(status(ToolError::argument("a", "bad")), 400);
        assert_eq!(status(ToolError::Busy("later".into())), 429);
        assert_eq!(status(ToolError::internal(std::io::Error::other("x"))), 500);
    }
}
