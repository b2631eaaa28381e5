//! COMPOSIO_REMOTE_WORKBENCH: run a Python cell in the session's sandbox.

use crate::error::ApiError;
use crate::session::SessionContext;
use serde_json::{Value, json};

/// The tool's description, as agents see it.
pub const DESCRIPTION: &str = "Run Python in the session's persistent sandbox (a notebook-like interpreter: variables, functions and imports persist between calls; the value of a trailing expression is returned in `results`). The working directory is /home/user; /mnt/files is the files mount (shared with the files API) and survives restarts. Helpers: run_composio_tool(tool_slug, arguments, account=None) -> (result, error) where success is ({\"data\": ...}, \"\"), and run_composio_tools(calls, max_concurrency=None) -> [(result, error), ...] in input order, executed concurrently by the host: use it for bulk work instead of loops of single calls. Check `error` first. No network, no processes; 180 s per call: checkpoint long jobs to /mnt/files. Output (and a trailing expression's repr) past 1 MiB is cut and saved in full to stdout_file_path/stderr_file_path/results_file_path.";

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

/// Runs the cell; returns `(data, error)` for the execute envelope.
pub async fn run(ctx: &SessionContext, args: &Value) -> Result<(Value, Option<String>), ApiError> {
    let code = super::string_arg(args, "code_to_execute").map_err(ApiError::BadRequest)?;
    let outcome = ctx.run_cell(code).await?;
    let error = outcome
        .error
        .as_ref()
        .map(|e| format!("{}: {}", e.kind, e.message));
    let mut data = json!({
        "results": outcome.result.clone().unwrap_or_default(),
        "stdout": outcome.stdout,
        "stderr": outcome.stderr,
        "error": outcome.error.as_ref().map(|e| e.traceback.clone()).unwrap_or_default(),
        "status": outcome.status.as_str(),
        "state_reset": outcome.state_reset,
        "duration_ms": outcome.duration_ms,
        "tool_calls": outcome.tool_calls,
        "session": ctx.workflow_session(args),
        "sandbox_id_suffix": ctx.sandbox_suffix(),
    });
    if let Some(path) = outcome.stdout_file_path {
        data["stdout_file_path"] = json!(path);
    }
    if let Some(path) = outcome.stderr_file_path {
        data["stderr_file_path"] = json!(path);
    }
    if let Some(path) = outcome.result_file_path {
        data["results_file_path"] = json!(path);
    }
    Ok((data, error))
}
