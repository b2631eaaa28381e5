//! COMPOSIO_SEARCH_TOOLS (and `POST .../search`): deterministic BM25
//! search over the session's allowed tools, with schemas and the
//! connection status of every toolkit involved.

use crate::error::ApiError;
use crate::session::SessionContext;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Primary tools per query.
const PRIMARY: usize = 3;
/// Related tools per query (after the primary ones).
const RELATED: usize = 3;

/// Most queries one search takes (Composio's limit).
pub const MAX_QUERIES: usize = 7;
/// Longest `known_fields` text, in bytes.
const MAX_KNOWN_FIELDS_BYTES: usize = 1024;

/// Runs the search. Every bound is checked before any ranking runs.
pub fn run(ctx: &SessionContext, args: &Value) -> Result<(Value, Option<String>), ApiError> {
    let queries = args
        .get("queries")
        .and_then(Value::as_array)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest("arguments.queries: must be a non-empty list of {use_case}".into())
        })?;
    if queries.len() > MAX_QUERIES {
        return Err(ApiError::BadRequest(format!(
            "arguments.queries: at most {MAX_QUERIES} queries per search ({} given)",
            queries.len()
        )));
    }
    for (i, query) in queries.iter().enumerate() {
        let known = query
            .get("known_fields")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if known.len() > MAX_KNOWN_FIELDS_BYTES {
            return Err(ApiError::BadRequest(format!(
                "arguments.queries[{i}].known_fields: at most {MAX_KNOWN_FIELDS_BYTES} characters"
            )));
        }
    }
    let catalog = &ctx.state.catalog;
    let mut results = Vec::new();
    let mut schemas = Map::new();
    let mut toolkits_involved = BTreeSet::new();
    let mut failed = 0;
    for (i, query) in queries.iter().enumerate() {
        let use_case = match query.get("use_case").and_then(Value::as_str) {
            Some(u) if !u.trim().is_empty() && u.len() <= 1024 => u,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "arguments.queries[{i}].use_case: must be a non-empty string of at most 1024 characters"
                )));
            }
        };
        let known = query
            .get("known_fields")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let text = format!("{use_case} {}", known.replace([':', ','], " "));
        let hits = catalog.index().search(&text, |slug| {
            catalog
                .tool(slug)
                .is_some_and(|t| catalog.allowed(&ctx.config, t))
        });
        if hits.is_empty() {
            failed += 1;
            results.push(json!({
                "index": i + 1,
                "use_case": use_case,
                "primary_tool_slugs": [],
                "related_tool_slugs": [],
                "toolkits": [],
                "reasoning": "No tool of this session's toolkits matches this use case.",
                "error": "no matching tools",
            }));
            continue;
        }
        let primary: Vec<String> = hits.iter().take(PRIMARY).map(|h| h.slug.clone()).collect();
        let related: Vec<String> = hits
            .iter()
            .skip(PRIMARY)
            .take(RELATED)
            .map(|h| h.slug.clone())
            .collect();
        let mut toolkits = BTreeSet::new();
        for slug in primary.iter().chain(&related) {
            if let Some(tool) = catalog.tool(slug) {
                toolkits.insert(tool.toolkit.clone());
                schemas.entry(slug.clone()).or_insert_with(|| {
                    json!({
                        "tool_slug": tool.tool.slug,
                        "toolkit": tool.toolkit,
                        "description": tool.tool.description,
                        "input_schema": tool.tool.input_parameters,
                    })
                });
            }
        }
        let scores: Vec<String> = hits
            .iter()
            .take(PRIMARY + RELATED)
            .map(|h| format!("{} {:.2}", h.slug, h.score))
            .collect();
        results.push(json!({
            "index": i + 1,
            "use_case": use_case,
            "primary_tool_slugs": primary,
            "related_tool_slugs": related,
            "toolkits": toolkits.iter().collect::<Vec<_>>(),
            "reasoning": format!("BM25 over slug, name, description, tags and toolkit; scores: {}", scores.join(", ")),
            "task_difficulty": if primary.len() > 1 { "medium" } else { "easy" },
        }));
        toolkits_involved.extend(toolkits);
    }
    let statuses: Vec<Value> = toolkits_involved
        .iter()
        .map(|t| connection_status(ctx, t))
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut data = json!({
        "results": results,
        "tool_schemas": schemas,
        "toolkit_connection_statuses": statuses,
        "time_info": {
            "current_time_utc": crate::timestamp::rfc3339(now),
            "current_time_utc_epoch_seconds": now,
            "message": "Use this as the current time for date arguments."
        },
        "session": ctx.workflow_session(args),
        "next_steps_guidance": [
            "Check toolkit_connection_statuses: toolkits without an active connection need one before their tools run.",
            "Run the primary tools with COMPOSIO_MULTI_EXECUTE_TOOL (up to 50 at once).",
            "For bulk work or large results use COMPOSIO_REMOTE_WORKBENCH with run_composio_tools."
        ],
    });
    let error = (failed > 0).then(|| format!("{failed} out of {} searches failed", queries.len()));
    if let Some(e) = &error {
        data["error"] = json!(e);
    }
    Ok((data, None))
}

/// One toolkit's connection status for the session's user.
pub fn connection_status(ctx: &SessionContext, toolkit: &str) -> Value {
    let catalog = &ctx.state.catalog;
    let description = catalog
        .toolkit(toolkit)
        .map(|t| t.description.clone())
        .unwrap_or_default();
    let no_auth = catalog
        .toolkit(toolkit)
        .is_some_and(|t| t.auth.schemes.iter().all(|s| s == "NO_AUTH"));
    if no_auth {
        return json!({
            "toolkit": toolkit,
            "description": description,
            "has_active_connection": true,
            "connection_details": {"no_auth": true},
            "status_message": format!("{toolkit} needs no connection."),
        });
    }
    let accounts = ctx
        .state
        .store
        .accounts_for_user(&ctx.record.project_id, &ctx.record.user_id, Some(toolkit))
        .unwrap_or_default();
    let active: Vec<&crate::store::AccountRecord> =
        accounts.iter().filter(|a| a.status == "ACTIVE").collect();
    json!({
        "toolkit": toolkit,
        "description": description,
        "has_active_connection": !active.is_empty(),
        "connection_details": {"accounts": active.iter().map(|a| json!({"id": a.id, "alias": a.alias, "auth_scheme": a.auth_scheme})).collect::<Vec<_>>()},
        "status_message": if active.is_empty() {
            format!("No active {toolkit} connection for this user: connect one first.")
        } else {
            format!("{toolkit} is connected.")
        },
    })
}
