//! The OpenAPI 3.1 document of the HTTP API, generated from the handlers'
//! `#[utoipa::path]` annotations and the wire types (`crate::wire`, the
//! meta tools' typed outputs, [`crate::error::ErrorBody`]). Served at
//! `/api/v3.1/openapi.json`; `docs/openapi.json` is a copy a test keeps
//! equal to it (`toolshed openapi > docs/openapi.json` regenerates it).

use crate::routes;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{self, OpenApi as Document};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "toolshed",
        description = "Sandboxed, persistent Python workbenches and tools for AI agents: Composio's v3.1 session API. Every session is also an MCP server at /tool_router/{session_id}/mcp (JSON-RPC, see the MCP specification).",
        license(name = "Apache-2.0"),
    ),
    paths(
        routes::sessions::create,
        routes::sessions::list,
        routes::sessions::retrieve,
        routes::sessions::update,
        routes::sessions::delete,
        routes::sessions::config_history,
        routes::sessions::list_tools,
        routes::sessions::list_toolkits,
        routes::sessions::execute,
        routes::sessions::execute_meta,
        routes::sessions::search,
        routes::sessions::proxy_execute,
        routes::sessions::rotate_mcp_token,
        routes::files::list,
        routes::files::upload_url,
        routes::files::download_url,
        routes::files::delete,
        routes::files::upload,
        routes::files::download,
        routes::staged::request,
        routes::sessions::memory,
        routes::sessions::attach,
        routes::staged::list,
        routes::auth_configs::create,
        routes::auth_configs::list,
        routes::auth_configs::retrieve,
        routes::auth_configs::update,
        routes::auth_configs::set_status,
        routes::auth_configs::delete,
        routes::connected_accounts::create,
        routes::connected_accounts::update,
        routes::connected_accounts::set_status,
        routes::connected_accounts::delete,
        routes::links::account_link,
        routes::links::session_link,
        routes::links::refresh,
        routes::revocation::revoke,
        routes::connected_accounts::list,
        routes::connected_accounts::retrieve,
        routes::tools::list,
        routes::tools::tool,
        routes::tools::execute,
        routes::tools::proxy_execute,
        routes::tools::input,
        routes::toolkits::list,
        routes::toolkits::categories,
        routes::toolkits::toolkit,
        routes::logs::log,
    ),
    modifiers(&ApiKeyAuth),
    security(("api_key" = [])),
)]
struct ApiDoc;

/// Every route takes the project key in `x-api-key` (file URLs carry their
/// own token and say so).
struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, doc: &mut Document) {
        doc.components
            .get_or_insert_with(openapi::Components::new)
            .add_security_scheme(
                "api_key",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
            );
    }
}

/// The document.
pub fn document() -> Document {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The document as pretty JSON (what `docs/openapi.json` holds).
pub fn json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// `GET /api/v3.1/openapi.json`.
pub async fn serve() -> axum::response::Response {
    axum::response::IntoResponse::into_response((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_document_matches_the_code() {
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json"))
                .unwrap_or_default();
        assert!(
            committed == super::json(),
            "docs/openapi.json is stale: regenerate it with `toolshed openapi > docs/openapi.json`"
        );
    }

    #[test]
    fn every_route_is_documented() {
        let doc = super::document();
        for path in [
            "/api/v3.1/tool_router/session",
            "/api/v3.1/tool_router/session/{id}",
            "/api/v3.1/tool_router/session/{id}/execute",
            "/api/v3.1/tool_router/session/{id}/mounts/{mount}/items",
            "/api/v3.1/files/{token}",
            "/api/v3.1/connected_accounts/{id}",
            "/api/v3.1/logs/tool_execution/{id}",
            "/api/v3.1/tools/{slug}",
            "/api/v3.1/auth_configs",
            "/api/v3.1/auth_configs/{id}",
            "/api/v3.1/auth_configs/{id}/{status}",
            "/api/v3.1/connected_accounts/link",
            "/api/v3.1/tool_router/session/{id}/link",
            "/api/v3.1/connected_accounts/{id}/status",
            "/api/v3.1/tool_router/session/{id}/proxy_execute",
            "/api/v3.1/connected_accounts/{id}/refresh",
            "/api/v3.1/connected_accounts/{id}/revoke",
            "/api/v3.1/files/upload/request",
            "/api/v3.1/files/list",
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path} is missing");
        }
        assert_eq!(doc.paths.paths.len(), 38);
    }

    /// Two types with one schema name would silently share one component
    /// (utoipa keeps the last): every request body names what its handler reads.
    #[test]
    fn request_bodies_are_their_handlers_types() {
        let doc = serde_json::to_value(super::document()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for (path, field) in [
            ("/api/v3.1/tool_router/session/{id}/search", "queries"),
            (
                "/api/v3.1/tool_router/session/{id}/proxy_execute",
                "endpoint",
            ),
            ("/api/v3.1/tool_router/session/{id}/execute", "tool_slug"),
            ("/api/v3.1/tool_router/session/{id}/execute_meta", "slug"),
            ("/api/v3.1/auth_configs", "toolkit"),
            ("/api/v3.1/connected_accounts/link", "auth_config_id"),
        ] {
            let reference =
                doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
                    ["$ref"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{path} has no body reference"));
            let name = reference.rsplit('/').next().unwrap();
            // A flattened part makes the schema an allOf.
            let parts = schemas[name]["allOf"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![schemas[name].clone()]);
            assert!(
                parts.iter().any(|p| p["properties"].get(field).is_some()),
                "{path}: {name} has no {field}"
            );
        }
    }
}
