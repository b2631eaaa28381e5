//! COMPOSIO_MULTI_EXECUTE_TOOL: 1-50 app tools at once, concurrently,
//! results in input order; large responses offloaded to the files mount
//! with structure-preserving previews.

use super::Workflow;
use super::preview::{fmt_count, preview};
use crate::catalog::http::Spool;
use crate::session::app_tools::{self, Caller};
use crate::session::{SessionContext, WorkflowSession};
use crate::tool_error::ToolError;
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Most tools per call.
pub const MAX_TOOLS: usize = 50;
/// Where offloaded responses go, inside the sandbox.
pub const OUTPUT_DIR: &str = "/mnt/files/.composio/output";

/// The arguments.
#[derive(Debug, Deserialize)]
pub struct Args {
    /// 1 to 50 app tool calls.
    pub tools: Vec<Call>,
    /// Save every response to a workbench file (and return previews).
    #[serde(default)]
    pub sync_response_to_workbench: Option<bool>,
    /// Durable facts to remember, by app (see [`super::memory`]).
    #[serde(default)]
    pub memory: Option<Value>,
    /// The workflow id echoed back.
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// One app tool call.
#[derive(Debug, Deserialize)]
pub struct Call {
    /// The app tool.
    pub tool_slug: String,
    /// Its arguments (none: `{}`).
    #[serde(default)]
    pub arguments: Option<Map<String, Value>>,
    /// A connected account id or alias, when the user has several.
    #[serde(default)]
    pub account: Option<String>,
}

/// The result.
#[derive(Debug, Serialize)]
pub struct Output {
    /// One per call, in input order.
    pub results: Vec<Value>,
    /// Calls made.
    pub total_count: usize,
    /// Calls that succeeded.
    pub success_count: usize,
    /// Calls that failed.
    pub error_count: usize,
    /// The workflow id to echo.
    pub session: WorkflowSession,
    /// The files full responses were saved to, when any were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_file_info: Option<Vec<Value>>,
    /// How to read saved responses, when any were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_steps: Option<[&'static str; 2]>,
    /// What happened to the facts of `memory`, when it had any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<super::memory::MemoryReport>,
}

/// Runs the tools; returns the output and, when some failed, the error
/// line the execute envelope carries.
pub async fn run(ctx: &SessionContext, args: &Args) -> Result<(Output, Option<String>), ToolError> {
    if args.tools.is_empty() || args.tools.len() > MAX_TOOLS {
        return Err(ToolError::argument(
            "tools",
            format!("must hold 1 to {MAX_TOOLS} tools, not {}", args.tools.len()),
        ));
    }
    let sync_all = args.sync_response_to_workbench.unwrap_or(false);
    let mut calls = Vec::with_capacity(args.tools.len());
    for (i, tool) in args.tools.iter().enumerate() {
        let slug = &tool.tool_slug;
        if slug.is_empty() {
            return Err(ToolError::argument(
                &format!("tools[{i}].tool_slug"),
                "is required",
            ));
        }
        if slug.to_ascii_uppercase().starts_with("COMPOSIO_") {
            return Err(ToolError::argument(
                &format!("tools[{i}].tool_slug"),
                format!(
                    "{} is a meta tool; call it directly",
                    crate::error::clip(slug, 128)
                ),
            ));
        }
        let arguments = Value::Object(tool.arguments.clone().unwrap_or_default());
        calls.push((slug.to_ascii_uppercase(), arguments, tool.account.clone()));
    }
    // Facts are kept before any tool runs: a failing tool does not make
    // what the agent learned earlier untrue.
    let facts = super::memory::facts(args.memory.as_ref())?;
    let memory = if facts.is_empty() {
        None
    } else {
        let session = ctx.record.id.clone();
        let write = ctx
            .state
            .store
            .run(move |store| {
                store.add_memory(&session, &facts, super::memory::LIMITS, crate::store::now())
            })
            .await
            .map_err(ToolError::internal)?;
        Some(super::memory::MemoryReport::from(write))
    };
    let caller = Caller {
        project_id: &ctx.record.project_id,
        session_id: Some(&ctx.record.id),
        user_id: &ctx.record.user_id,
        config: &ctx.config,
        approved: &ctx.approved,
    };
    let threshold = ctx.config.workbench.auto_offload_threshold as usize;
    let workbench = ctx.config.flag("workbench");
    // The output folder, opened as a capability: the sandbox owns the files
    // mount and may plant symlinks there, which must not redirect our writes.
    let output = if workbench {
        let files = ctx
            .state
            .session_files_dir(&ctx.record.id)
            .map_err(ToolError::internal)?;
        files
            .create_dir_all(".composio/output")
            .map_err(ToolError::internal)?;
        Some(std::sync::Arc::new(
            files
                .open_dir(".composio/output")
                .map_err(ToolError::internal)?,
        ))
    } else {
        None
    };
    // Saved responses are charged to the session's disk quota.
    let free = match output {
        Some(_) => ctx.state.session_disk_free(&ctx.record.id).await,
        None => 0,
    };
    let budget = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(free));
    let spools: Vec<Option<Spool>> = calls
        .iter()
        .enumerate()
        .map(|(index, (slug, _, _))| {
            output.as_ref().map(|dir| Spool {
                dir: dir.clone(),
                name: format!(
                    "{}-{index}-{}.json",
                    file_stem(slug),
                    &uuid::Uuid::new_v4().simple().to_string()[..12]
                ),
                threshold,
                budget: budget.clone(),
            })
        })
        .collect();
    let runner = ctx.state.app_tools();
    let outcomes = join_all(calls.iter().zip(&spools).map(
        |((slug, arguments, account), spool)| {
            app_tools::execute_spooled(
                &runner,
                &caller,
                slug,
                arguments,
                account.as_deref(),
                spool.as_ref(),
            )
        },
    ))
    .await;

    // Serialising, saving and previewing large responses is CPU and disk
    // work: it runs on the blocking pool, not on an async worker.
    let slugs: Vec<String> = calls.into_iter().map(|(slug, _, _)| slug).collect();
    let shape = Shape {
        workbench,
        sync_all,
        threshold,
    };
    let total = slugs.len();
    let (results, files, failed) =
        tokio::task::spawn_blocking(move || assemble(outcomes, &slugs, &spools, shape))
            .await
            .map_err(ToolError::internal)??;
    let saved = !files.is_empty();
    let output = Output {
        results,
        total_count: total,
        success_count: total - failed,
        error_count: failed,
        session: ctx.workflow_session(args.workflow.id()),
        remote_file_info: saved.then_some(files),
        next_steps: saved.then_some([
            "Full responses are saved as JSON files in the workbench (remote_file_info); previews show their structure.",
            "Read them with COMPOSIO_REMOTE_WORKBENCH (json.load(open(path))) or COMPOSIO_REMOTE_BASH_TOOL (jq).",
        ]),
        memory,
    };
    let error = (failed > 0).then(|| format!("{failed} of {total} tools failed"));
    Ok((output, error))
}

/// How responses are returned: inline, or saved and previewed.
#[derive(Clone, Copy)]
struct Shape {
    workbench: bool,
    sync_all: bool,
    threshold: usize,
}

/// The per-tool results in input order, the saved files, and how many
/// failed.
fn assemble(
    outcomes: Vec<Result<app_tools::Outcome, crate::ApiError>>,
    slugs: &[String],
    spools: &[Option<Spool>],
    shape: Shape,
) -> Result<(Vec<Value>, Vec<Value>, usize), ToolError> {
    let mut results = Vec::with_capacity(outcomes.len());
    let mut files = Vec::new();
    let mut failed = 0;
    for (index, (outcome, slug)) in outcomes.into_iter().zip(slugs).enumerate() {
        let outcome = outcome?;
        let execution = outcome.execution;
        if !execution.successful {
            failed += 1;
        }
        let (size, offload) = match &execution.spooled {
            Some((_, len)) => (*len as usize, true),
            None => {
                let text = serde_json::to_string(&execution.data).map_err(ToolError::internal)?;
                // A call without data (it failed before the upstream) saves nothing.
                let offload = shape.workbench
                    && !execution.data.is_null()
                    && (shape.sync_all || text.len() > shape.threshold);
                if let (true, Some(spool)) = (offload, &spools[index]) {
                    spool
                        .dir
                        .write(&spool.name, text.as_bytes())
                        .map_err(ToolError::internal)?;
                }
                (text.len(), offload)
            }
        };
        let spool_name = spools[index].as_ref().map(|s| s.name.clone());
        let response = if let (true, Some(name)) = (offload, spool_name) {
            let guest_path = format!("{OUTPUT_DIR}/{name}");
            let info = json!({
                "file_path": guest_path,
                "size_bytes": size,
                "items": count_items(&execution.data),
            });
            files.push(info.clone());
            json!({
                "successful": execution.successful,
                "data_preview": preview(&execution.data, shape.threshold.clamp(500, 20_000) / 2),
                "preview_note": format!(
                    "The full response ({} bytes) is in {guest_path}; this preview keeps its structure and order and marks what it leaves out.",
                    fmt_count(size)
                ),
                "remote_file_info": info,
                "error": execution.error,
                "log_id": outcome.log_id,
            })
        } else {
            json!({
                "successful": execution.successful,
                "data": execution.data,
                "error": execution.error,
                "log_id": outcome.log_id,
            })
        };
        results.push(json!({
            "tool_slug": slug,
            "index": index,
            "error": execution.error,
            "response": response,
        }));
    }
    Ok((results, files, failed))
}

/// A file-name stem from a tool slug: lower-case letters, digits and `_`
/// only (slugs come from the request and may hold anything).
fn file_stem(slug: &str) -> String {
    let stem: String = slug
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(80)
        .collect();
    if stem.is_empty() {
        "tool".to_owned()
    } else {
        stem
    }
}

/// The item count of the largest list at the top of a response, if any.
fn count_items(data: &Value) -> Option<usize> {
    match data {
        Value::Array(items) => Some(items.len()),
        Value::Object(map) => map
            .values()
            .filter_map(|v| v.as_array().map(Vec::len))
            .max(),
        _ => None,
    }
}
