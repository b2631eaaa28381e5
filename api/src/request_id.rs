//! Request ids: taken from `x-request-id` (the SDK sends one per call) or
//! generated; echoed in the response header, logged, and written into
//! every error body's `error.request_id`.

use crate::error::ErrorMarker;
use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Largest error body the layer rewrites (error bodies are small).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The middleware.
pub async fn layer(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    // File URLs carry their bearer token in the path: never log it.
    let path = request.uri().path();
    let path = if path.starts_with("/api/v3.1/files/") {
        "/api/v3.1/files/<token>"
    } else {
        path
    };
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %path);
    let mut response = async move {
        let response = next.run(request).await;
        tracing::info!(status = response.status().as_u16(), "handled");
        response
    }
    .instrument(span)
    .await;
    if response.extensions().get::<ErrorMarker>().is_some() {
        response = with_request_id(response, &id).await;
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn with_request_id(response: Response, id: &str) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut value) => {
            if let Some(error) = value.get_mut("error") {
                error["request_id"] = serde_json::Value::String(id.to_owned());
            }
            Body::from(serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec()))
        }
        Err(_) => Body::from(bytes),
    };
    let mut response = Response::from_parts(parts, body);
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
    response
}
