//! COMPOSIO_REMOTE_BASH_TOOL: a shell command in the session's workbench,
//! run by a small shell inside the sandbox (no process ever starts).

use crate::error::ApiError;
use crate::session::SessionContext;
use serde_json::{Value, json};

/// The tool's description, as agents see it.
pub const DESCRIPTION: &str = "Run a shell command in the session's workbench (/home/user), inside the sandbox: pipelines, redirection, && / || / ;, globbing and $VARS work, with builtins ls cat head tail wc grep sort uniq cut tr find mkdir rm mv cp touch echo printf pwd cd du sed xargs tee seq test jq and `python FILE` (runs in the session's Python interpreter). An unknown command lists the available ones. No network, no processes.";

/// Input schema.
pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The command line."},
            "session_id": {"type": "string", "description": "The workflow session id; echo it back."}
        },
        "required": ["command"]
    })
}

/// Runs the command; returns `(data, error)` for the execute envelope.
pub async fn run(ctx: &SessionContext, args: &Value) -> Result<(Value, Option<String>), ApiError> {
    let command = super::string_arg(args, "command").map_err(ApiError::BadRequest)?;
    let outcome = ctx.run_bash(command).await?;
    let mut data = match (outcome.exit_code, &outcome.error) {
        (Some(exit_code), _) => json!({
            "stdout": outcome.stdout,
            "stderr": outcome.stderr,
            "exit_code": exit_code,
        }),
        // The command did not run to the end: a deadline, a limit, or the
        // interpreter was reset.
        (None, Some(err)) => json!({
            "stdout": outcome.stdout,
            "stderr": format!("{}{}: {}", outcome.stderr, err.kind, err.message),
            "exit_code": 1,
            "status": outcome.status.as_str(),
        }),
        (None, None) => json!({"stdout": outcome.stdout, "stderr": outcome.stderr, "exit_code": 1}),
    };
    // Output past the inline cap is in files of the files mount.
    if let Some(path) = &outcome.stdout_file_path {
        data["stdout_file_path"] = json!(path);
    }
    if let Some(path) = &outcome.stderr_file_path {
        data["stderr_file_path"] = json!(path);
    }
    let stdout = data["stdout"].as_str().unwrap_or_default().to_owned();
    let stderr = data["stderr"].as_str().unwrap_or_default().to_owned();
    data["stdoutLines"] = json!(stdout.lines().count());
    data["stderrLines"] = json!(stderr.lines().count());
    data["session"] = ctx.workflow_session(args);
    data["sandbox_id_suffix"] = json!(ctx.sandbox_suffix());
    let exit = data["exit_code"].as_i64().unwrap_or(1);
    let error = (exit != 0).then(|| format!("command exited with status {exit}"));
    Ok((data, error))
}
