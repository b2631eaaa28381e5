//! The meta tools (toolkit `composio`): one module per tool, and
//! [`MetaTool`], the dispatcher the execute routes and MCP share.

pub mod get_tool_schemas;
pub mod manage_connections;
pub mod multi_execute;
pub mod preview;
pub mod remote_bash;
pub mod remote_workbench;
pub mod search_tools;
pub mod wait_for_connections;

use crate::session::config::SessionConfig;
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
}

impl MetaTool {
    /// Every meta tool, in the order sessions list them.
    pub const ALL: [MetaTool; 7] = [
        MetaTool::SearchTools,
        MetaTool::GetToolSchemas,
        MetaTool::MultiExecute,
        MetaTool::ManageConnections,
        MetaTool::WaitForConnections,
        MetaTool::RemoteWorkbench,
        MetaTool::RemoteBash,
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
        }
    }

    /// The tool's schema in the shape of `GET .../tools` items.
    pub fn schema(self) -> Value {
        let (name, description, input) = match self {
            MetaTool::SearchTools => ("Search tools", SEARCH_DESCRIPTION, search_input()),
            MetaTool::GetToolSchemas => ("Get tool schemas", SCHEMAS_DESCRIPTION, schemas_input()),
            MetaTool::MultiExecute => ("Multi execute tool", MULTI_DESCRIPTION, multi_input()),
            MetaTool::ManageConnections => {
                ("Manage connections", MANAGE_DESCRIPTION, manage_input())
            }
            MetaTool::WaitForConnections => {
                ("Wait for connections", WAIT_DESCRIPTION, wait_input())
            }
            MetaTool::RemoteWorkbench => (
                "Remote workbench",
                remote_workbench::DESCRIPTION,
                remote_workbench::input_schema(),
            ),
            MetaTool::RemoteBash => (
                "Remote bash tool",
                remote_bash::DESCRIPTION,
                remote_bash::input_schema(),
            ),
        };
        json!({
            "slug": self.slug(),
            "name": name,
            "description": description,
            "input_parameters": input,
            "output_parameters": {"type": "object", "properties": {}},
            "toolkit": {"slug": "composio", "name": "Composio", "logo": ""},
            "tags": [],
            "version": META_VERSION,
            "available_versions": [META_VERSION],
            "is_deprecated": false,
            "no_auth": true,
            "scopes": [],
        })
    }
}

const SEARCH_DESCRIPTION: &str = "Find the tools for a task. Give one query per sub-task (use_case, optionally known_fields like \"repo:acme/widgets\"); each returns the best matching tools of the session's toolkits with their schemas, the connection status of their toolkits, and a workflow session id to echo in later meta calls. Ranking is BM25 over slug, name, description, tags and toolkit: deterministic.";
const SCHEMAS_DESCRIPTION: &str = "Get the full input (and optionally output) JSON schemas of tools by slug, e.g. for tools SEARCH_TOOLS returned without a full schema. Unknown slugs are listed in not_found with up to 3 similar suggestions.";
const MULTI_DESCRIPTION: &str = "Execute 1 to 50 tools at once, concurrently; results come back in the input order with per-tool success or error. Large responses (over the session's auto_offload_threshold, or all of them with sync_response_to_workbench=true) are saved in full to a file in the workbench and replaced by a structure-preserving preview that says exactly what was left out.";
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
            "memory": {"type": "object", "description": "Durable facts worth remembering, by app: {\"github\": [\"repo is acme/widgets\"]}."},
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

/// The `toolkits` argument: 1 to [`MAX_TOOLKITS_PER_CALL`] slugs,
/// lowercased.
pub fn toolkits_arg(args: &Value) -> Result<Vec<String>, crate::error::ApiError> {
    use crate::error::ApiError;
    let list = args
        .get("toolkits")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest(
                "arguments.toolkits: must be a non-empty list of toolkit slugs".into(),
            )
        })?;
    if list.len() > MAX_TOOLKITS_PER_CALL {
        return Err(ApiError::BadRequest(format!(
            "arguments.toolkits: at most {MAX_TOOLKITS_PER_CALL} toolkits per call (got {})",
            list.len()
        )));
    }
    list.iter()
        .enumerate()
        .map(|(i, t)| match t.as_str() {
            Some(slug) if slug.len() <= MAX_TOOLKIT_SLUG_BYTES => Ok(slug.to_ascii_lowercase()),
            Some(_) => Err(ApiError::BadRequest(format!(
                "arguments.toolkits[{i}]: a toolkit slug is at most {MAX_TOOLKIT_SLUG_BYTES} bytes"
            ))),
            None => Err(ApiError::BadRequest(format!(
                "arguments.toolkits[{i}]: must be a string"
            ))),
        })
        .collect()
}

/// Reads a string argument, or a 400-style message naming it.
pub fn string_arg<'a>(args: &'a Value, name: &str) -> Result<&'a str, String> {
    match args.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("arguments.{name} must be a string")),
        None => Err(format!("arguments.{name} is required")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_schemas_are_objects() {
        for tool in MetaTool::ALL {
            assert_eq!(MetaTool::from_slug(&tool.slug().to_lowercase()), Some(tool));
            let schema = tool.schema();
            assert_eq!(schema["input_parameters"]["type"], "object");
            assert_eq!(schema["toolkit"]["slug"], "composio");
            assert!(
                schema["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
            );
        }
        assert_eq!(MetaTool::from_slug("GITHUB_GET_ISSUE"), None);
    }
}
