//! The meta tools (toolkit `composio`): one module per tool, and
//! [`MetaTool`], the dispatcher the execute routes and MCP share.

pub mod execute;
pub mod get_tool_schemas;
pub mod manage_connections;
pub mod memory;
pub mod multi_execute;
pub mod preview;
pub mod proxy_execute;
pub mod remote_bash;
pub mod remote_workbench;
pub mod search_tools;
pub mod submit_feedback;
pub mod wait_for_connections;

use crate::session::SessionContext;
use crate::session::config::SessionConfig;
use crate::tool_error::{ToolError, parse_arguments};
use crate::wire::tool::{ToolItem, ToolkitInfo};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Version string every meta tool carries.
pub const META_VERSION: &str = "00000000_00";

/// A meta tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaTool {
    /// COMPOSIO_SEARCH_TOOLS.
    SearchTools,
    /// COMPOSIO_GET_TOOL_SCHEMAS.
    GetToolSchemas,
    /// COMPOSIO_MULTI_EXECUTE_TOOL.
    MultiExecute,
    /// COMPOSIO_MANAGE_CONNECTIONS.
    ManageConnections,
    /// COMPOSIO_WAIT_FOR_CONNECTIONS.
    WaitForConnections,
    /// COMPOSIO_REMOTE_WORKBENCH.
    RemoteWorkbench,
    /// COMPOSIO_REMOTE_BASH_TOOL.
    RemoteBash,
    /// COMPOSIO_PROXY_EXECUTE.
    ProxyExecute,
    /// COMPOSIO_SUBMIT_FEEDBACK.
    SubmitFeedback,
}

// The OpenAPI schema of a meta tool's slug: one of [`MetaTool::ALL`].
impl utoipa::__dev::ComposeSchema for MetaTool {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(MetaTool::ALL.iter().map(|tool| tool.slug())))
            .description(Some("A meta tool slug"))
            .into()
    }
}

impl utoipa::ToSchema for MetaTool {}

impl MetaTool {
    /// Every meta tool, in the order sessions list them.
    pub const ALL: [MetaTool; 9] = [
        MetaTool::SearchTools,
        MetaTool::GetToolSchemas,
        MetaTool::MultiExecute,
        MetaTool::ManageConnections,
        MetaTool::WaitForConnections,
        MetaTool::RemoteWorkbench,
        MetaTool::RemoteBash,
        MetaTool::ProxyExecute,
        MetaTool::SubmitFeedback,
    ];

    /// The slug.
    pub fn slug(self) -> &'static str {
        match self {
            MetaTool::SearchTools => "COMPOSIO_SEARCH_TOOLS",
            MetaTool::GetToolSchemas => "COMPOSIO_GET_TOOL_SCHEMAS",
            MetaTool::MultiExecute => "COMPOSIO_MULTI_EXECUTE_TOOL",
            MetaTool::ManageConnections => "COMPOSIO_MANAGE_CONNECTIONS",
            MetaTool::WaitForConnections => "COMPOSIO_WAIT_FOR_CONNECTIONS",
            MetaTool::RemoteWorkbench => "COMPOSIO_REMOTE_WORKBENCH",
            MetaTool::RemoteBash => "COMPOSIO_REMOTE_BASH_TOOL",
            MetaTool::ProxyExecute => "COMPOSIO_PROXY_EXECUTE",
            MetaTool::SubmitFeedback => "COMPOSIO_SUBMIT_FEEDBACK",
        }
    }

    /// The meta tool with this slug (case-insensitive).
    pub fn from_slug(slug: &str) -> Option<MetaTool> {
        MetaTool::ALL
            .into_iter()
            .find(|t| t.slug().eq_ignore_ascii_case(slug))
    }

    /// Whether the session's config exposes this tool.
    pub fn enabled_in(self, config: &SessionConfig) -> bool {
        match self {
            MetaTool::SearchTools | MetaTool::GetToolSchemas => config.flag("search"),
            MetaTool::MultiExecute => config.flag("multi_execute"),
            MetaTool::ManageConnections => config.flag("manage_connections"),
            MetaTool::WaitForConnections => {
                config.flag("manage_connections") && config.flag("wait_for_connections")
            }
            MetaTool::RemoteWorkbench | MetaTool::RemoteBash => config.flag("workbench"),
            MetaTool::ProxyExecute => config.flag("proxy_execute"),
            MetaTool::SubmitFeedback => config.flag("submit_feedback"),
        }
    }

    /// The tool's item, as `GET .../tools` and MCP list it; the workbench
    /// tells agents the server's `cell_timeout`.
    pub fn schema(self, cell_timeout: std::time::Duration) -> ToolItem {
        let (name, description, input) = match self {
            MetaTool::SearchTools => ("Search tools", SEARCH_DESCRIPTION.into(), search_input()),
            MetaTool::GetToolSchemas => (
                "Get tool schemas",
                SCHEMAS_DESCRIPTION.into(),
                schemas_input(),
            ),
            MetaTool::MultiExecute => (
                "Multi execute tool",
                MULTI_DESCRIPTION.into(),
                multi_input(),
            ),
            MetaTool::ManageConnections => (
                "Manage connections",
                MANAGE_DESCRIPTION.into(),
                manage_input(),
            ),
            MetaTool::WaitForConnections => (
                "Wait for connections",
                WAIT_DESCRIPTION.into(),
                wait_input(),
            ),
            MetaTool::RemoteWorkbench => (
                "Remote workbench",
                remote_workbench::description(cell_timeout),
                remote_workbench::input_schema(),
            ),
            MetaTool::RemoteBash => (
                "Remote bash tool",
                remote_bash::DESCRIPTION.into(),
                remote_bash::input_schema(),
            ),
            MetaTool::ProxyExecute => (
                "Proxy execute",
                proxy_execute::DESCRIPTION.into(),
                proxy_execute::input_schema(),
            ),
            MetaTool::SubmitFeedback => (
                "Submit feedback",
                submit_feedback::DESCRIPTION.into(),
                submit_feedback::input_schema(),
            ),
        };
        ToolItem {
            slug: self.slug().to_owned(),
            name: name.to_owned(),
            description,
            human_description: None,
            input_parameters: input,
            output_parameters: json!({"type": "object", "properties": {}}),
            toolkit: ToolkitInfo {
                slug: "composio".into(),
                name: "Composio".into(),
                logo: String::new(),
            },
            tags: Vec::new(),
            version: META_VERSION,
            available_versions: [META_VERSION],
            is_deprecated: false,
            no_auth: true,
            scopes: Vec::new(),
            scope_requirements: None,
            deprecated: crate::wire::tool::Deprecation {
                version: META_VERSION,
                available_versions: [META_VERSION],
                ..crate::wire::tool::Deprecation::none(name, "")
            },
        }
    }
}

const SEARCH_DESCRIPTION: &str = "Find the tools for a task. Give one query per sub-task (use_case, optionally known_fields like \"repo:acme/widgets\"); each returns the best matching tools of the session's toolkits with their schemas, the connection status of their toolkits, and a workflow session id to echo in later meta calls. Ranking is BM25 over slug, name, description, tags and toolkit: deterministic.";
const SCHEMAS_DESCRIPTION: &str = "Get the full input (and optionally output) JSON schemas of tools by slug, e.g. for tools SEARCH_TOOLS returned without a full schema. Unknown slugs are listed in not_found with up to 3 similar suggestions.";
const MULTI_DESCRIPTION: &str = "Execute 1 to 50 tools at once, concurrently; results come back in the input order with per-tool success or error. Large responses (over the session's auto_offload_threshold, or all of them with sync_response_to_workbench=true) are saved in full to a file in the workbench and replaced by a structure-preserving preview that says exactly what was left out. Facts worth remembering (IDs, the user's preferences) go in memory, by app; later searches return them.";
const MANAGE_DESCRIPTION: &str = "Check the session user's connections for the given toolkits, and start a connection where one is missing: returns each toolkit's status (active, initiated, failed) and, for new ones, a redirect_url for the user.";
const WAIT_DESCRIPTION: &str = "Wait until connections started with COMPOSIO_MANAGE_CONNECTIONS become active (mode any or all).";

fn session_id_property() -> Value {
    json!({"type": "string", "description": "The workflow session id returned by COMPOSIO_SEARCH_TOOLS; echo it back."})
}

fn search_input() -> Value {
    json!({
        "type": "object",
        "properties": {
            "queries": {
                "type": "array", "minItems": 1,
                "items": {"type": "object", "properties": {
                    "use_case": {"type": "string", "maxLength": 1024, "description": "What the agent wants to do, in plain words."},
                    "known_fields": {"type": "string", "maxLength": 500, "description": "Known values as \"key:value,key:value\"."}
                }, "required": ["use_case"]},
                "description": "One query per sub-task."
            },
            "session": {"type": "object", "properties": {"id": {"type": "string"}, "generate_id": {"type": "boolean"}}},
            "model": {"type": "string", "description": "The calling model, as a hint."},
            "search_strategy": {"type": "string", "enum": ["auto", "tool_search"]}
        },
        "required": ["queries"]
    })
}

fn schemas_input() -> Value {
    json!({
        "type": "object",
        "properties": {
            "tool_slugs": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "Tool slugs."},
            "include": {"type": "array", "items": {"type": "string", "enum": ["input_schema", "output_schema"]}},
            "session_id": session_id_property()
        },
        "required": ["tool_slugs"]
    })
}

fn multi_input() -> Value {
    json!({
        "type": "object",
        "properties": {
            "tools": {
                "type": "array", "minItems": 1, "maxItems": 50,
                "items": {"type": "object", "properties": {
                    "tool_slug": {"type": "string"},
                    "arguments": {"type": "object"},
                    "account": {"type": "string", "description": "Connected account id or alias, when the user has several."}
                }, "required": ["tool_slug", "arguments"]}
            },
            "sync_response_to_workbench": {"type": "boolean", "description": "Save every response to a workbench file (and return previews)."},
            "memory": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string", "maxLength": memory::MAX_FACT_CHARS}},
                "description": "Durable facts worth remembering for later turns, by app: {\"github\": [\"main repo is acme/widgets\"], \"slack\": [\"channel general has ID C0001\"]}. Store ID mappings and the user's preferences, not logs or \"sent\" confirmations; send {} when there is nothing new. Later COMPOSIO_SEARCH_TOOLS results return the facts relevant to each query."
            },
            "thought": {"type": "string"},
            "session_id": session_id_property(),
            "current_step": {"type": "string"},
            "current_step_metric": {"type": "string", "description": "Progress, e.g. \"10/100 emails\"."}
        },
        "required": ["tools", "sync_response_to_workbench"]
    })
}

fn manage_input() -> Value {
    json!({
        "type": "object",
        "properties": {
            "toolkits": {"type": "array", "minItems": 1, "maxItems": MAX_TOOLKITS_PER_CALL, "items": {"type": "string"}},
            "reinitiate_all": {"type": "boolean", "default": false},
            "session_id": session_id_property()
        },
        "required": ["toolkits"]
    })
}

fn wait_input() -> Value {
    json!({
        "type": "object",
        "properties": {
            "toolkits": {"type": "array", "minItems": 1, "maxItems": MAX_TOOLKITS_PER_CALL, "items": {"type": "string"}},
            "mode": {"type": "string", "enum": ["any", "all"], "default": "any"},
            "timeout_seconds": {"type": "integer", "minimum": 0, "maximum": 120, "default": 30},
            "session_id": session_id_property()
        },
        "required": ["toolkits"]
    })
}

/// Most toolkits one MANAGE_CONNECTIONS or WAIT_FOR_CONNECTIONS call may
/// name.
pub const MAX_TOOLKITS_PER_CALL: usize = 50;

/// Longest toolkit slug accepted in a meta tool's arguments.
pub const MAX_TOOLKIT_SLUG_BYTES: usize = 64;

/// The workflow id an agent echoes back: `session_id`, or `session.id`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Workflow {
    /// The workflow id from an earlier result.
    #[serde(default)]
    session_id: Option<String>,
    /// The same, as `{id}`.
    #[serde(default)]
    session: Option<WorkflowRef>,
}

/// A workflow id as `{id}`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct WorkflowRef {
    /// The workflow id.
    #[serde(default)]
    id: Option<String>,
}

impl Workflow {
    /// The id the caller sent, if any.
    pub fn id(&self) -> Option<&str> {
        self.session_id
            .as_deref()
            .or_else(|| self.session.as_ref().and_then(|s| s.id.as_deref()))
    }
}

/// A `toolkits` argument: 1 to [`MAX_TOOLKITS_PER_CALL`] slugs.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct ToolkitList(Vec<String>);

impl ToolkitList {
    /// The slugs, lowercased, once the bounds are checked.
    pub fn slugs(&self) -> Result<Vec<String>, ToolError> {
        if self.0.is_empty() {
            return Err(ToolError::argument(
                "toolkits",
                "must be a non-empty list of toolkit slugs",
            ));
        }
        if self.0.len() > MAX_TOOLKITS_PER_CALL {
            return Err(ToolError::argument(
                "toolkits",
                format!(
                    "at most {MAX_TOOLKITS_PER_CALL} toolkits per call (got {})",
                    self.0.len()
                ),
            ));
        }
        self.0
            .iter()
            .enumerate()
            .map(|(i, slug)| {
                if slug.len() > MAX_TOOLKIT_SLUG_BYTES {
                    Err(ToolError::argument(
                        &format!("toolkits[{i}]"),
                        format!("a toolkit slug is at most {MAX_TOOLKIT_SLUG_BYTES} bytes"),
                    ))
                } else {
                    Ok(slug.to_ascii_lowercase())
                }
            })
            .collect()
    }
}

/// The account behind an active connection, as the connection tools
/// report it.
#[derive(Debug, Serialize)]
pub struct ActiveAccount {
    /// The account.
    pub connected_account_id: String,
    /// `ac_<toolkit>`.
    pub auth_config_id: String,
    /// When it was connected (RFC 3339).
    pub created_at: String,
    /// Always PRIVATE here.
    pub account_type: &'static str,
}

impl ActiveAccount {
    /// The report of `account`.
    pub fn of(account: &crate::store::AccountRecord) -> ActiveAccount {
        ActiveAccount {
            connected_account_id: account.id.clone(),
            auth_config_id: account.auth_config_id.clone(),
            created_at: crate::timestamp::rfc3339(account.created_at as u64),
            account_type: "PRIVATE",
        }
    }
}

/// A tool's schema as search and schema lookups return it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SchemaEntry {
    /// The tool.
    pub tool_slug: String,
    /// Its toolkit.
    pub toolkit: String,
    /// What it does.
    pub description: String,
    /// Its input parameters (JSON Schema).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub input_schema: Option<Value>,
    /// Its output (JSON Schema), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub output_schema: Option<Value>,
}

impl SchemaEntry {
    /// The entry with the tool's input schema.
    pub fn input_of(tool: &crate::catalog::CatalogTool) -> SchemaEntry {
        SchemaEntry {
            tool_slug: tool.tool.slug.clone(),
            toolkit: tool.toolkit.clone(),
            description: tool.tool.description.clone(),
            input_schema: Some(tool.tool.input_parameters.clone()),
            output_schema: None,
        }
    }
}

/// The session's tools in the shape of `GET .../tools` items: its enabled
/// meta tools, then its preloaded app tools (all allowed ones, at most
/// 1,000, for the direct-tools preset). REST and MCP list the same.
pub fn listed(ctx: &SessionContext) -> Vec<ToolItem> {
    let mut all: Vec<ToolItem> = MetaTool::ALL
        .into_iter()
        .filter(|t| t.enabled_in(&ctx.config))
        .map(|t| t.schema(ctx.state.config.limits.timeout))
        .collect();
    let catalog = &ctx.state.catalog();
    if ctx.config.preload_all() {
        all.extend(
            ctx.config
                .allowed_tools(catalog)
                .take(1000)
                .map(|t| ToolItem::of(t, catalog)),
        );
    } else if let Some(slugs) = ctx.config.preload() {
        for slug in slugs {
            if let Some(tool) = catalog.tool(&slug).filter(|t| ctx.config.allows_tool(t)) {
                all.push(ToolItem::of(tool, catalog));
            }
        }
    }
    all
}

/// What a meta tool returns: `data` for the execute envelope, and the
/// error line when it failed as a whole (a failed cell, some failed tools).
#[derive(Debug)]
pub struct ToolOutput {
    /// The tool's typed output, as JSON.
    pub data: Value,
    /// Set when the call failed as a whole.
    pub error: Option<String>,
}

impl ToolOutput {
    fn new(output: impl Serialize, error: Option<String>) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput {
            data: serde_json::to_value(output).map_err(ToolError::internal)?,
            error,
        })
    }
}

impl MetaTool {
    /// Runs the tool in a session: the one dispatcher behind `execute`,
    /// `execute_meta` and MCP. Arguments are parsed into the tool's typed
    /// form first (a mismatch names its path); CPU-bound tools run on the
    /// blocking pool.
    pub async fn run(
        self,
        ctx: &SessionContext,
        arguments: Value,
    ) -> Result<ToolOutput, ToolError> {
        if !self.enabled_in(&ctx.config) {
            return Err(ToolError::Disabled(self.slug().to_owned()));
        }
        match self {
            MetaTool::SearchTools => {
                let args: search_tools::Args = parse_arguments(arguments)?;
                let output = ctx
                    .blocking(move |ctx| search_tools::run(ctx, &args))
                    .await?;
                ToolOutput::new(output, None)
            }
            MetaTool::GetToolSchemas => {
                let args: get_tool_schemas::Args = parse_arguments(arguments)?;
                let output = ctx
                    .blocking(move |ctx| get_tool_schemas::run(ctx, &args))
                    .await?;
                ToolOutput::new(output, None)
            }
            MetaTool::MultiExecute => {
                let args: multi_execute::Args = parse_arguments(arguments)?;
                let (output, error) = multi_execute::run(ctx, &args).await?;
                ToolOutput::new(output, error)
            }
            MetaTool::ManageConnections => {
                let args: manage_connections::Args = parse_arguments(arguments)?;
                let output = ctx
                    .blocking(move |ctx| manage_connections::run(ctx, &args))
                    .await?;
                ToolOutput::new(output, None)
            }
            MetaTool::WaitForConnections => {
                let args: wait_for_connections::Args = parse_arguments(arguments)?;
                let (output, error) = wait_for_connections::run(ctx, &args).await?;
                ToolOutput::new(output, error)
            }
            MetaTool::RemoteWorkbench => {
                let args: remote_workbench::Args = parse_arguments(arguments)?;
                let (output, error) = remote_workbench::run(ctx, &args).await?;
                ToolOutput::new(output, error)
            }
            MetaTool::RemoteBash => {
                let args: remote_bash::Args = parse_arguments(arguments)?;
                let (output, error) = remote_bash::run(ctx, &args).await?;
                ToolOutput::new(output, error)
            }
            MetaTool::ProxyExecute => {
                let args: proxy_execute::Args = parse_arguments(arguments)?;
                ToolOutput::new(proxy_execute::run(ctx, args).await?, None)
            }
            MetaTool::SubmitFeedback => {
                let args: submit_feedback::Args = parse_arguments(arguments)?;
                let output = ctx
                    .blocking(move |ctx| submit_feedback::run(ctx, &args))
                    .await?;
                ToolOutput::new(output, None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_schemas_are_objects() {
        for tool in MetaTool::ALL {
            assert_eq!(MetaTool::from_slug(&tool.slug().to_lowercase()), Some(tool));
            let schema = tool.schema(std::time::Duration::from_secs(42));
            assert_eq!(schema.input_parameters["type"], "object");
            assert_eq!(schema.toolkit.slug, "composio");
            assert!(!schema.description.is_empty());
        }
        assert_eq!(MetaTool::from_slug("GITHUB_GET_ISSUE"), None);
        let workbench = MetaTool::RemoteWorkbench.schema(std::time::Duration::from_secs(42));
        assert!(workbench.description.contains("42 s per call"));
    }
}
