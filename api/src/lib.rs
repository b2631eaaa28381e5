//! The `toolshed` binary's library: the HTTP server (Composio v3.1 session
//! API) and the command-line commands.
//!
//! # Layout
//!
//! Dependencies run one way: routes and [`mcp`] -> [`tools`] -> [`session`]
//! -> [`catalog`] / [`store`].
//!
//! - [`app`]: the router with every route and layer.
//! - [`state`]: [`AppState`] shared by handlers; [`extract`]: the caller's
//!   project and JSON bodies; [`error`]: [`ApiError`], the one error type of
//!   the HTTP API; [`tool_error`]: [`tool_error::ToolError`], the one error
//!   of running a tool (REST, MCP and cells map it).
//! - [`routes`]: one module per resource; [`mcp`]: every session as an MCP
//!   server (streamable HTTP; `toolshed mcp` for stdio).
//! - [`tools`]: the meta tools, each with typed arguments and output, and
//!   their one dispatcher ([`tools::MetaTool::run`]); [`tools::execute`]
//!   runs any tool of a session with its log.
//! - [`session`]: session config, sandboxes, app-tool execution and the
//!   sandbox's tool bridge.
//! - [`catalog`]: toolkits and app tools (files, validation, search, HTTP).
//! - [`connections`]: auth-config rules and connect links; [`oauth`]: OAuth2
//!   apps, the authorization-code flow and token refresh.
//! - [`store`]: SQLite behind one type; [`keys`]: API keys and ids;
//!   [`secrets`]: sealing and peppers; [`file_urls`]: upload/download
//!   grants; [`timestamp`]: RFC 3339 times.
//! - [`commands`]: one module per subcommand (`serve`, `mcp`, `run`, `keys`,
//!   `secrets`).
#![forbid(unsafe_code)]

pub mod catalog;
pub mod commands;
pub mod connections;
pub mod error;
pub mod extract;
pub mod file_urls;
pub mod keys;
pub mod mcp;
pub mod oauth;
pub mod openapi;
pub mod replay;
pub mod request_id;
pub mod routes;
pub mod secrets;
pub mod session;
pub mod staged;
pub mod state;
pub mod store;
pub mod timestamp;
pub mod tool_error;
pub mod tools;
pub mod wire;

pub use error::ApiError;
pub use state::{AppState, ServerConfig};

use axum::Router;
use axum::extract::DefaultBodyLimit;

/// Largest request body accepted (file uploads have their own route).
pub const MAX_BODY_BYTES: usize = 32 << 20;
/// Largest request head: the URI and every header name and value together
/// (hyper itself refuses more than 100 headers).
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// The whole HTTP API.
pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .merge(routes::sessions::routes())
        .merge(routes::auth_configs::routes())
        .merge(routes::connected_accounts::routes())
        .merge(routes::links::routes())
        .merge(routes::connect_page::routes())
        .merge(routes::oauth_callback::routes())
        .merge(routes::revocation::routes())
        .merge(routes::files::routes().layer(DefaultBodyLimit::max(
            routes::files::MAX_UPLOAD_BYTES as usize + 1,
        )))
        .merge(routes::staged::routes())
        .merge(routes::tools::routes())
        .merge(routes::toolkits::routes())
        .merge(routes::logs::routes())
        .merge(mcp::routes(&state, state.config.mcp_allowed_hosts.clone()))
        .route("/api/v3.1/openapi.json", axum::routing::get(openapi::serve))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    guarded(routes).with_state(state)
}

/// The layers every route sits behind: panics become 500s in the error
/// envelope, inside the request-id layer so the 500 carries the id.
fn guarded<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(axum::middleware::from_fn(bounded_head))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn(request_id::layer))
        .layer(axum::middleware::from_fn(close_after_refusing_a_body))
}

/// An error answer to a request that sent a body may come before the body
/// was read (a wrong key, an unknown route, a body over the limit); the
/// connection cannot be reused then, so the answer says `Connection:
/// close` and keep-alive clients see the error, not a dropped connection.
async fn close_after_refusing_a_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header;
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v != "0");
    let mut response = next.run(request).await;
    let status = response.status();
    if has_body && (status.is_client_error() || status.is_server_error()) {
        response.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Refuses a request whose head is over [`MAX_HEAD_BYTES`] with 431,
/// before any handler (or the API-key lookup) sees it.
async fn bounded_head(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let head = request.uri().to_string().len()
        + request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum::<usize>();
    if head > MAX_HEAD_BYTES {
        return axum::response::IntoResponse::into_response(ApiError::HeadersTooLarge(format!(
            "the request's URI and headers are {head} bytes; at most {MAX_HEAD_BYTES} are accepted"
        )));
    }
    next.run(request).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_with_the_request_id_and_nothing_of_the_panic() {
        let router = guarded(Router::new().route(
            "/boom",
            axum::routing::get(|| async {
                if std::hint::black_box(true) {
                    panic!("secret at /srv/host/path");
                }
                "unreachable"
            }),
        ));
        let response = router
            .oneshot(
                axum::http::Request::get("/boom")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let header = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let text = body.to_string();
        assert!(!text.contains("secret") && !text.contains("/srv"), "{text}");
        assert_eq!(body["error"]["status"], 500, "{body}");
        let id = body["error"]["request_id"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{body}");
        assert_eq!(header.as_deref(), Some(id));
    }
}
