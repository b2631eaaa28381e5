//! COMPOSIO_REMOTE_BASH_TOOL: a shell command in the session's workbench,
//! run by a small shell inside the sandbox (no process ever starts).

use super::Workflow;
use crate::session::{SessionContext, WorkflowSession};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
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

/// The arguments.
#[derive(Debug, Deserialize)]
pub struct Args {
    /// The command line.
    pub command: String,
    /// The workflow id echoed back.
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// The result.
#[derive(Debug, Serialize)]
pub struct Output {
    /// What the command printed.
    pub stdout: String,
    /// Its errors (and, when it did not finish, why).
    pub stderr: String,
    /// Its exit status (1 when it did not finish).
    pub exit_code: i64,
    /// timeout, memory_limit, ... when the command did not finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// Where the full stdout is, when it was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout_file_path: Option<String>,
    /// Where the full stderr is, when it was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_file_path: Option<String>,
    /// Lines of stdout.
    #[serde(rename = "stdoutLines")]
    pub stdout_lines: usize,
    /// Lines of stderr.
    #[serde(rename = "stderrLines")]
    pub stderr_lines: usize,
    /// The workflow id to echo.
    pub session: WorkflowSession,
    /// The end of the session id.
    pub sandbox_id_suffix: String,
}

/// Runs the command; returns the output and, for a non-zero exit, the
/// error line the execute envelope carries.
pub async fn run(ctx: &SessionContext, args: &Args) -> Result<(Output, Option<String>), ToolError> {
    let outcome = ctx.run_bash(&args.command).await?;
    let (stderr, exit_code, status) = match (outcome.exit_code, &outcome.error) {
        (Some(exit_code), _) => (outcome.stderr.clone(), exit_code, None),
        // The command did not run to the end: a deadline, a limit, or the
        // interpreter was reset.
        (None, Some(err)) => (
            format!("{}{}: {}", outcome.stderr, err.kind, err.message),
            1,
            Some(outcome.status.as_str()),
        ),
        (None, None) => (outcome.stderr.clone(), 1, None),
    };
    let output = Output {
        stdout_lines: outcome.stdout.lines().count(),
        stderr_lines: stderr.lines().count(),
        stdout: outcome.stdout,
        stderr,
        exit_code,
        status,
        stdout_file_path: outcome.stdout_file_path,
        stderr_file_path: outcome.stderr_file_path,
        session: ctx.workflow_session(args.workflow.id()),
        sandbox_id_suffix: ctx.sandbox_suffix(),
    };
    let error = (exit_code != 0).then(|| format!("command exited with status {exit_code}"));
    Ok((output, error))
}
