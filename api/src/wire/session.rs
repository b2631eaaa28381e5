//! Session responses (create, retrieve, list, update, rotate_token).

use crate::session::config::SessionConfig;
use serde::Serialize;
use std::collections::BTreeMap;

/// A session as create/retrieve/update return it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    /// `trs_...`.
    pub session_id: String,
    /// The config in its response shape.
    pub config: SessionConfig,
    /// Incremented on every update.
    pub config_version: i64,
    /// How to reach the session over MCP.
    pub mcp: McpConfig,
    /// The meta tools the session exposes.
    pub tool_router_tools: Vec<&'static str>,
    /// Composio's experimental block.
    pub experimental: Experimental,
    /// Advice about the config.
    pub warnings: Vec<Warning>,
}

/// What an MCP client needs to connect.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct McpConfig {
    /// Always `http` (streamable HTTP).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `<base>/tool_router/<session>/mcp`.
    pub url: String,
    /// `x-api-key`: the session's own MCP token (never the project key).
    pub headers: BTreeMap<&'static str, String>,
}

/// Composio's experimental block.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Experimental {
    /// A system-prompt paragraph describing the session's tools.
    pub assistive_prompt: String,
    /// Custom tools (none yet).
    #[schema(value_type = Vec<Object>)]
    pub custom_tools: Vec<serde_json::Value>,
    /// Custom toolkits (none yet).
    #[schema(value_type = Vec<Object>)]
    pub custom_toolkits: Vec<serde_json::Value>,
    /// What a call needing approval does when the MCP client cannot ask
    /// (when set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_elicitation_support_fallback: Option<crate::session::request::ElicitationFallback>,
}

/// Advice about a config.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Warning {
    /// A stable code.
    pub code: &'static str,
    /// In words.
    pub message: &'static str,
}

/// A user's sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionList {
    /// Newest first.
    pub items: Vec<SessionResponse>,
    /// Always `null` (one page).
    pub next_cursor: Option<String>,
    /// How many.
    pub total_items: usize,
}

/// The answer of `.../mcp/rotate_token`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RotatedToken {
    /// The session's MCP config with the new token.
    pub mcp: McpConfig,
}

/// The answer of a session delete.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The session.
    pub session_id: String,
    /// Always true.
    pub deleted: bool,
}

/// One version of a session's config.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfigVersionItem {
    /// The version number.
    pub version: i64,
    /// Whether it is the session's current config.
    pub is_current: bool,
    /// The config at that version.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// When it was made (RFC 3339).
    pub created_at: String,
}

/// A page of a session's config history, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfigHistory {
    /// The versions.
    pub items: Vec<ConfigVersionItem>,
    /// The cursor of the next (older) page, if there is one.
    pub next_cursor: Option<String>,
    /// How many versions there are.
    pub total_items: i64,
    /// How many pages of this size.
    pub total_pages: i64,
    /// This page's number, from 1.
    pub current_page: i64,
}
