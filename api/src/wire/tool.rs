//! Tool items: what `GET .../tools`, `GET /api/v3.1/tools/{slug}` and MCP
//! `tools/list` describe a tool with.

use crate::catalog::{Catalog, CatalogTool};
use serde::Serialize;

/// Version string of app tools.
pub const APP_TOOL_VERSION: &str = "20260101_00";

/// A tool's description and schemas.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ToolItem {
    /// The slug agents call it by.
    pub slug: String,
    /// A display name.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// The same, for people (app tools).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human_description: Option<String>,
    /// Its arguments (JSON Schema).
    #[schema(value_type = Object)]
    pub input_parameters: serde_json::Value,
    /// Its output (JSON Schema).
    #[schema(value_type = Object)]
    pub output_parameters: serde_json::Value,
    /// Its toolkit.
    pub toolkit: ToolkitInfo,
    /// Hint tags (readOnlyHint, destructiveHint, ...) and topics.
    pub tags: Vec<String>,
    /// The version.
    pub version: &'static str,
    /// Every version (one).
    #[schema(value_type = Vec<String>)]
    pub available_versions: [&'static str; 1],
    /// Always false.
    pub is_deprecated: bool,
    /// Whether it runs without a connected account.
    pub no_auth: bool,
    /// OAuth scopes (none).
    pub scopes: Vec<String>,
    /// Which scopes it needs (none here): always `null`.
    #[schema(value_type = Option<Object>)]
    pub scope_requirements: Option<serde_json::Value>,
    /// Composio's deprecation block (the TypeScript SDK reads
    /// `deprecated.is_deprecated`); nothing here is deprecated.
    pub deprecated: Deprecation,
}

/// A tool's deprecation block.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Deprecation {
    /// The tool's display name.
    #[serde(rename = "displayName")]
    pub display_name: String,
    /// Its version.
    pub version: &'static str,
    /// Every version (one).
    #[schema(value_type = Vec<String>)]
    pub available_versions: [&'static str; 1],
    /// Always false.
    pub is_deprecated: bool,
    /// The toolkit's logo.
    pub toolkit: DeprecationToolkit,
}

/// The toolkit of a deprecation block.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeprecationToolkit {
    /// A logo URL.
    pub logo: String,
}

impl Deprecation {
    /// The (empty) deprecation of a tool named `name` in a toolkit with
    /// `logo`.
    pub fn none(name: &str, logo: &str) -> Deprecation {
        Deprecation {
            display_name: name.to_owned(),
            version: APP_TOOL_VERSION,
            available_versions: [APP_TOOL_VERSION],
            is_deprecated: false,
            toolkit: DeprecationToolkit {
                logo: logo.to_owned(),
            },
        }
    }
}

/// What `POST /api/v3.1/tools/execute/{slug}` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DirectExecuteResponse {
    /// The tool's data (an object).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Why it failed, or null.
    pub error: Option<String>,
    /// Whether it succeeded.
    pub successful: bool,
    /// Its tool-execution log.
    pub log_id: String,
    /// Always `null` (no session).
    #[schema(value_type = Option<Object>)]
    pub session_info: Option<serde_json::Value>,
}

/// A toolkit as tool items name it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ToolkitInfo {
    /// The slug.
    pub slug: String,
    /// A display name.
    pub name: String,
    /// A logo URL.
    pub logo: String,
}

impl ToolItem {
    /// The item of an app tool.
    pub fn of(tool: &CatalogTool, catalog: &Catalog) -> ToolItem {
        let toolkit = catalog.toolkit(&tool.toolkit);
        let logo = toolkit.map(|t| t.logo.clone()).unwrap_or_default();
        ToolItem {
            slug: tool.tool.slug.clone(),
            name: tool.tool.name.clone(),
            description: tool.tool.description.clone(),
            human_description: Some(tool.tool.description.clone()),
            input_parameters: tool.tool.input_parameters.clone(),
            output_parameters: tool.tool.output_parameters.clone(),
            toolkit: ToolkitInfo {
                slug: tool.toolkit.clone(),
                name: toolkit.map(|t| t.name.clone()).unwrap_or_default(),
                logo: logo.clone(),
            },
            tags: tool.tool.tags.clone(),
            version: APP_TOOL_VERSION,
            available_versions: [APP_TOOL_VERSION],
            is_deprecated: false,
            no_auth: toolkit.is_some_and(|t| t.auth.schemes.iter().all(|s| s == "NO_AUTH")),
            scopes: Vec::new(),
            scope_requirements: None,
            deprecated: Deprecation::none(&tool.tool.name, &logo),
        }
    }
}
