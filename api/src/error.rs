//! [`ApiError`]: every error the API returns, as the envelope the Composio
//! SDK parses: `{"error": {"message", "code", "slug", "status",
//! "request_id", "suggested_fix"}}`.
//!
//! Internal detail (an I/O error, a database failure) goes to the log with
//! the request id, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An API failure with a stable code and a message for the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or a value is invalid; the message
    /// names the field.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no or an unknown API key.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the request is refused as signed (an upload URL used with a
    /// content type other than the one it was issued for).
    #[error("{0}")]
    Forbidden(String),
    /// 404: the resource does not exist (or belongs to another project).
    #[error("{0}")]
    NotFound(String),
    /// 409: a conflict, e.g. a stale `expected_config_version`.
    #[error("{0}")]
    Conflict(String),
    /// 413: the request body is too large.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 431: the request's headers are too large.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// 422: the request is well-formed but cannot be processed.
    #[error("{0}")]
    Unprocessable(String),
    /// 429: too many requests; sent with `Retry-After` (seconds).
    #[error("{0}")]
    TooManyRequests(String),
    /// 503: the server is at a server-wide limit; sent with `Retry-After`.
    #[error("{0}")]
    Unavailable(String),
    /// 500: something failed on our side; details are in the server log.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// Wraps an internal failure (logged, not shown).
    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(err.into())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The same error again, for every caller that waited on one answer
    /// (an internal error's source stays in the log of the first).
    pub fn duplicate(&self) -> ApiError {
        match self {
            ApiError::BadRequest(m) => ApiError::BadRequest(m.clone()),
            ApiError::Unauthorized(m) => ApiError::Unauthorized(m.clone()),
            ApiError::Forbidden(m) => ApiError::Forbidden(m.clone()),
            ApiError::NotFound(m) => ApiError::NotFound(m.clone()),
            ApiError::Conflict(m) => ApiError::Conflict(m.clone()),
            ApiError::PayloadTooLarge(m) => ApiError::PayloadTooLarge(m.clone()),
            ApiError::HeadersTooLarge(m) => ApiError::HeadersTooLarge(m.clone()),
            ApiError::Unprocessable(m) => ApiError::Unprocessable(m.clone()),
            ApiError::TooManyRequests(m) => ApiError::TooManyRequests(m.clone()),
            ApiError::Unavailable(m) => ApiError::Unavailable(m.clone()),
            ApiError::Internal(source) => ApiError::Internal(source.to_string().into()),
        }
    }

    /// A stable machine-readable slug.
    pub fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "NotFound",
            ApiError::Conflict(_) => "Conflict",
            ApiError::PayloadTooLarge(_) => "PayloadTooLarge",
            ApiError::HeadersTooLarge(_) => "HeadersTooLarge",
            ApiError::Unprocessable(_) => "Unprocessable",
            ApiError::TooManyRequests(_) => "TooManyRequests",
            ApiError::Unavailable(_) => "ServiceUnavailable",
            ApiError::Internal(_) => "InternalError",
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::Internal(_) => {
                "internal error; the server log has the details under this request id".into()
            }
            other => other.to_string(),
        }
    }
}

/// `Retry-After` of 429 and 503 answers: sandboxes free up when cells end.
const RETRY_AFTER_SECS: &str = "1";

/// The body of every error answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// An error: a message for people, a stable slug for code.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// What went wrong and what to do (names the field for bad input).
    pub message: String,
    /// The HTTP status.
    pub code: u16,
    /// BadRequest, Unauthorized, NotFound, ...
    pub slug: String,
    /// The HTTP status.
    pub status: u16,
    /// The request's id (also in the `x-request-id` header), filled in by
    /// the request-id layer.
    pub request_id: Option<String>,
}

/// The request id of the current request, set by the request-id layer and
/// copied into error bodies.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(source) = &self {
            tracing::error!(error = %source, "internal error");
        }
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                message: self.message(),
                code: status.as_u16(),
                slug: self.slug().to_owned(),
                status: status.as_u16(),
                request_id: None,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if matches!(
            self,
            ApiError::TooManyRequests(_) | ApiError::Unavailable(_)
        ) {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response.extensions_mut().insert(ErrorMarker);
        response
    }
}

/// Marks a response as an [`ApiError`] so the request-id layer fills in
/// `error.request_id`.
#[derive(Clone, Copy, Debug)]
pub struct ErrorMarker;

/// At most `max` bytes of `text` (on a char boundary), marked when cut:
/// for caller input quoted in an error message or a log.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_cut_on_a_char_boundary_and_say_so() {
        assert_eq!(clip("short", 10), "short");
        let cut = clip(&"é".repeat(100), 5);
        assert!(
            cut.starts_with("éé") && cut.ends_with("(200 bytes)"),
            "{cut}"
        );
    }

    #[test]
    fn internal_errors_hide_their_source() {
        let err = ApiError::internal(std::io::Error::other("/secret/host/path"));
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!err.message().contains("/secret"));
    }
}
