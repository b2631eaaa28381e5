//! Extractors: the caller's project (from `x-api-key`) and JSON bodies
//! whose rejections use the API's error envelope.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;

/// The project of the request's API key.
#[derive(Clone, Debug)]
pub struct Project(pub String);

/// Headers that may carry the key, in the order they are tried.
const KEY_HEADERS: [&str; 4] = [
    "x-api-key",
    "x-user-api-key",
    "x-org-api-key",
    "x-consumer-api-key",
];

impl FromRequestParts<AppState> for Project {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = presented_key(&parts.headers)?;
        let project = match state.store.cached_project_for_api_key(&key) {
            Some(project) => project,
            None => state
                .store
                .run(move |store| store.project_for_api_key(&key))
                .await
                .map_err(ApiError::internal)?,
        }
        .ok_or_else(|| ApiError::Unauthorized("invalid API key".into()))?;
        check_rate(state, &project)?;
        Ok(Project(project))
    }
}

/// The key a request presents: the first of `x-api-key` (and its aliases), else an
/// `Authorization: Bearer` token; 401 when there is none.
pub fn presented_key(headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    KEY_HEADERS
        .iter()
        .find_map(|name| headers.get(*name))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned)
        })
        .map(|key| key.trim().to_owned())
        .ok_or_else(|| {
            ApiError::Unauthorized("missing API key: send it in the x-api-key header".into())
        })
}

/// Counts a request against the project's rate
/// (`--requests-per-second-per-project`); past it, 429.
pub fn check_rate(state: &AppState, project: &str) -> Result<(), ApiError> {
    state.rate.check_key(&project.to_owned()).map_err(|_| {
        ApiError::TooManyRequests(format!(
            "this project is over its {} requests per second; retry after a moment",
            state.config.requests_per_second_per_project
        ))
    })
}

/// Query parameters; a malformed one (`limit=-1`) is a 400 in the API's
/// envelope, not axum's plain-text rejection.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::BadRequest(crate::error::clip(
                &rejection.body_text(),
                512,
            ))),
        }
    }
}

/// A JSON body; malformed JSON is a 400 in the API's envelope.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(match rejection.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::PayloadTooLarge(rejection.body_text())
                }
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::BadRequest(
                    "the body must be JSON with content-type: application/json".into(),
                ),
                _ => ApiError::BadRequest(rejection.body_text()),
            }),
        }
    }
}
