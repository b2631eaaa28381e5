//! COMPOSIO_GET_TOOL_SCHEMAS: full schemas of tools by slug.

use super::{SchemaEntry, Workflow};
use crate::session::{SessionContext, WorkflowSession};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most slugs one lookup takes.
pub const MAX_SLUGS: usize = 50;

/// The arguments.
#[derive(Debug, Deserialize)]
pub struct Args {
    /// Tool slugs.
    pub tool_slugs: Vec<String>,
    /// Which schemas: input_schema (the default) and/or output_schema.
    #[serde(default)]
    pub include: Option<Vec<Include>>,
    /// The workflow id echoed back.
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// A schema to include.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Include {
    /// The input parameters.
    InputSchema,
    /// The output parameters.
    OutputSchema,
}

/// The result.
#[derive(Debug, Serialize)]
pub struct Output {
    /// Whether every slug was found.
    pub success: bool,
    /// By slug.
    pub tool_schemas: BTreeMap<String, SchemaEntry>,
    /// Slugs not available in this session.
    pub not_found: Vec<String>,
    /// Up to 3 similar slugs per missing one.
    pub suggestions: BTreeMap<String, Vec<String>>,
    /// In words, or empty.
    pub not_found_message: String,
    /// The workflow id to echo.
    pub session: WorkflowSession,
}

/// Runs the lookup (on a blocking thread: suggestions rank the catalog).
pub fn run(ctx: &SessionContext, args: &Args) -> Result<Output, ToolError> {
    if args.tool_slugs.is_empty() {
        return Err(ToolError::argument(
            "tool_slugs",
            "must be a non-empty list of slugs",
        ));
    }
    if args.tool_slugs.len() > MAX_SLUGS {
        return Err(ToolError::argument(
            "tool_slugs",
            format!(
                "at most {MAX_SLUGS} slugs per call ({} given)",
                args.tool_slugs.len()
            ),
        ));
    }
    let include = args
        .include
        .clone()
        .unwrap_or_else(|| vec![Include::InputSchema]);
    let catalog = &ctx.state.catalog();
    let mut schemas = BTreeMap::new();
    let mut not_found = Vec::new();
    let mut suggestions = BTreeMap::new();
    for slug in &args.tool_slugs {
        if let Some(custom) = ctx.customs.get(slug) {
            let entry = SchemaEntry {
                tool_slug: custom.slug.clone(),
                toolkit: custom.toolkit_slug(),
                description: custom.description.clone(),
                input_schema: include
                    .contains(&Include::InputSchema)
                    .then(|| custom.input_schema.clone()),
                output_schema: include.contains(&Include::OutputSchema).then(|| {
                    custom
                        .output_schema
                        .clone()
                        .unwrap_or_else(|| serde_json::json!({"type": "object"}))
                }),
            };
            schemas.insert(custom.slug.clone(), entry);
            continue;
        }
        match catalog.tool(slug).filter(|t| ctx.config.allows_tool(t)) {
            Some(tool) => {
                let entry = SchemaEntry {
                    tool_slug: tool.tool.slug.clone(),
                    toolkit: tool.toolkit.clone(),
                    description: tool.tool.description.clone(),
                    input_schema: include
                        .contains(&Include::InputSchema)
                        .then(|| tool.tool.input_parameters.clone()),
                    output_schema: include
                        .contains(&Include::OutputSchema)
                        .then(|| tool.tool.output_parameters.clone()),
                };
                schemas.insert(tool.tool.slug.clone(), entry);
            }
            None => {
                let slug = crate::error::clip(slug, 128);
                let similar: Vec<String> = catalog
                    .index()
                    .search(&slug.replace('_', " "), |s| {
                        catalog.tool(s).is_some_and(|t| ctx.config.allows_tool(t))
                    })
                    .into_iter()
                    .take(3)
                    .map(|h| h.slug)
                    .collect();
                suggestions.insert(slug.clone(), similar);
                not_found.push(slug);
            }
        }
    }
    let not_found_message = if not_found.is_empty() {
        String::new()
    } else {
        format!(
            "{} of the requested tools are not available in this session: {}",
            not_found.len(),
            not_found.join(", ")
        )
    };
    Ok(Output {
        success: not_found.is_empty(),
        tool_schemas: schemas,
        not_found,
        suggestions,
        not_found_message,
        session: ctx.workflow_session(args.workflow.id()),
    })
}
