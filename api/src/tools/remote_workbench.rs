//! COMPOSIO_REMOTE_WORKBENCH: run a Python cell in the session's sandbox.

use super::Workflow;
use crate::session::{SessionContext, WorkflowSession};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The tool's description, as agents see it.
pub fn description(cell_timeout: std::time::Duration) -> String {
    format!(
        "Run Python in the session's persistent sandbox (a notebook-like interpreter: variables, functions and imports persist between calls; the value of a trailing expression is returned in `results`). The working directory is /home/user; /mnt/files is the files mount (shared with the files API) and survives restarts. Helpers: run_composio_tool(tool_slug, arguments, account=None) -> (result, error) where success is ({{\"data\": ...}}, \"\"), and run_composio_tools(calls, max_concurrency=None) -> [(result, error), ...] in input order, executed concurrently by the host: use it for bulk work instead of loops of single calls. Check `error` first. No network, no processes; {} s per call: checkpoint long jobs to /mnt/files. Output (and a trailing expression's repr) past 1 MiB is cut and saved in full to stdout_file_path/stderr_file_path/results_file_path.",
        cell_timeout.as_secs().max(1)
    )
}

/// Input schema.
pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "code_to_execute": {"type": "string", "description": "The Python code of the cell."},
            "thought": {"type": "string", "description": "Why this cell runs (logged)."},
            "session_id": {"type": "string", "description": "The workflow session id; echo it back."},
            "current_step": {"type": "string"},
            "current_step_metric": {"type": "string"}
        },
        "required": ["code_to_execute"]
    })
}

/// The arguments.
#[derive(Debug, Deserialize)]
pub struct Args {
    /// The Python code of the cell.
    pub code_to_execute: String,
    /// The workflow id echoed back.
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// The result.
#[derive(Debug, Serialize)]
pub struct Output {
    /// The trailing expression's repr, or empty.
    pub results: String,
    /// What the cell printed.
    pub stdout: String,
    /// What it wrote to stderr.
    pub stderr: String,
    /// The traceback, or empty.
    pub error: String,
    /// ok, error, timeout, memory_limit, crashed, ...
    pub status: &'static str,
    /// Whether the interpreter was new (variables lost).
    pub state_reset: bool,
    /// Why, when known: e.g. which checkpoint the interpreter resumed from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reset_reason: Option<String>,
    /// Wall-clock time.
    pub duration_ms: u64,
    /// Tool calls the cell made.
    pub tool_calls: u64,
    /// The workflow id to echo.
    pub session: WorkflowSession,
    /// The end of the session id.
    pub sandbox_id_suffix: String,
    /// Where the full stdout is, when it was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout_file_path: Option<String>,
    /// Where the full stderr is, when it was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_file_path: Option<String>,
    /// Where the full repr is, when it was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results_file_path: Option<String>,
}

/// Runs the cell; returns the output and, when the cell failed, the error
/// line the execute envelope carries.
pub async fn run(ctx: &SessionContext, args: &Args) -> Result<(Output, Option<String>), ToolError> {
    let outcome = ctx.run_cell(&args.code_to_execute).await?;
    let error = outcome
        .error
        .as_ref()
        .map(|e| format!("{}: {}", e.kind, e.message));
    let output = Output {
        results: outcome.result.clone().unwrap_or_default(),
        error: outcome
            .error
            .as_ref()
            .map(|e| e.traceback.clone())
            .unwrap_or_default(),
        status: outcome.status.as_str(),
        state_reset: outcome.state_reset,
        state_reset_reason: outcome.state_reset_reason.clone(),
        duration_ms: outcome.duration_ms,
        tool_calls: outcome.tool_calls,
        session: ctx.workflow_session(args.workflow.id()),
        sandbox_id_suffix: ctx.sandbox_suffix(),
        stdout_file_path: outcome.stdout_file_path,
        stderr_file_path: outcome.stderr_file_path,
        results_file_path: outcome.result_file_path,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
    };
    Ok((output, error))
}
