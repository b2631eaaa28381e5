//! The `toolshed` binary's library: the HTTP server (Composio v3.1 session
//! API) and the command-line commands.
//!
//! # Layout
//!
//! - [`app`]: the router with every route and layer.
//! - [`state`]: [`AppState`] shared by handlers; [`extract`]: the caller's
//!   project and JSON bodies; [`error`]: [`ApiError`], the one error type.
//! - [`routes`]: one module per resource; [`tools`]: one module per meta
//!   tool; [`session`]: session config and sandboxes.
//! - [`catalog`]: toolkits and app tools (files, validation, search, HTTP).
//! - [`store`]: SQLite behind one type; [`keys`]: API keys and ids;
//!   [`timestamp`]: RFC 3339 times.
//! - [`commands`]: one module per subcommand (`serve`, `run`, `keys`).
#![forbid(unsafe_code)]

pub mod catalog;
pub mod commands;
pub mod error;
pub mod extract;
pub mod keys;
pub mod request_id;
pub mod routes;
pub mod secrets;
pub mod session;
pub mod state;
pub mod store;
pub mod timestamp;
pub mod tools;

pub use error::ApiError;
pub use state::{AppState, ServerConfig};

use axum::Router;
use axum::extract::DefaultBodyLimit;

/// Largest request body accepted (file uploads have their own route).
pub const MAX_BODY_BYTES: usize = 32 << 20;

/// The whole HTTP API.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(routes::sessions::routes())
        .merge(routes::connected_accounts::routes())
        .merge(routes::files::routes().layer(DefaultBodyLimit::max(
            routes::files::MAX_UPLOAD_BYTES as usize + 1,
        )))
        .merge(routes::tools::routes())
        .merge(routes::logs::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Inside the request-id layer, so a panic's 500 carries the id.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn(request_id::layer))
        .with_state(state)
}

/// A handler panicked: log it (with the request id, from the span) and
/// answer a plain 500 in the API's error envelope; nothing of the panic
/// reaches the client.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "a request handler panicked");
    axum::response::IntoResponse::into_response(ApiError::Internal(
        "a request handler panicked".into(),
    ))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}
