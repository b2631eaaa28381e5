//! COMPOSIO_GET_TOOL_SCHEMAS: full schemas of tools by slug.

use crate::error::ApiError;
use crate::session::SessionContext;
use serde_json::{Map, Value, json};

/// Most slugs one lookup takes.
pub const MAX_SLUGS: usize = 50;

/// Runs the tool.
pub fn run(ctx: &SessionContext, args: &Value) -> Result<(Value, Option<String>), ApiError> {
    let slugs = args
        .get("tool_slugs")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest("arguments.tool_slugs: must be a non-empty list of slugs".into())
        })?;
    if slugs.len() > MAX_SLUGS {
        return Err(ApiError::BadRequest(format!(
            "arguments.tool_slugs: at most {MAX_SLUGS} slugs per call ({} given)",
            slugs.len()
        )));
    }
    let include: Vec<&str> = args
        .get("include")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_else(|| vec!["input_schema"]);
    let catalog = &ctx.state.catalog;
    let mut schemas = Map::new();
    let mut not_found = Vec::new();
    let mut suggestions = Map::new();
    for slug in slugs {
        let Some(slug) = slug.as_str() else {
            return Err(ApiError::BadRequest(
                "arguments.tool_slugs: must hold strings".into(),
            ));
        };
        match catalog
            .tool(slug)
            .filter(|t| catalog.allowed(&ctx.config, t))
        {
            Some(tool) => {
                let mut entry = json!({
                    "toolkit": tool.toolkit,
                    "tool_slug": tool.tool.slug,
                    "description": tool.tool.description,
                });
                if include.contains(&"input_schema") {
                    entry["input_schema"] = tool.tool.input_parameters.clone();
                }
                if include.contains(&"output_schema") {
                    entry["output_schema"] = tool.tool.output_parameters.clone();
                }
                schemas.insert(tool.tool.slug.clone(), entry);
            }
            None => {
                not_found.push(slug.to_owned());
                let similar: Vec<String> = catalog
                    .index()
                    .search(&slug.replace('_', " "), |s| {
                        catalog
                            .tool(s)
                            .is_some_and(|t| catalog.allowed(&ctx.config, t))
                    })
                    .into_iter()
                    .take(3)
                    .map(|h| h.slug)
                    .collect();
                suggestions.insert(slug.to_owned(), json!(similar));
            }
        }
    }
    let message = if not_found.is_empty() {
        String::new()
    } else {
        format!(
            "{} of the requested tools are not available in this session: {}",
            not_found.len(),
            not_found.join(", ")
        )
    };
    Ok((
        json!({
            "success": not_found.is_empty(),
            "tool_schemas": schemas,
            "not_found": not_found,
            "suggestions": suggestions,
            "not_found_message": message,
            "session": ctx.workflow_session(args),
        }),
        None,
    ))
}
