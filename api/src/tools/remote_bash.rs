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
    let literal = serde_json::to_string(command).map_err(ApiError::internal)?;
    let cell = format!("__toolshed_bash__({literal})");
    let outcome = ctx.run_cell(&cell).await?;
    let mut data = match (&outcome.result, &outcome.error) {
        (Some(repr), None) => parse_result(repr)
            .unwrap_or_else(|| json!({"stdout": "", "stderr": repr, "exit_code": 1})),
        (_, Some(err)) => {
            json!({"stdout": outcome.stdout, "stderr": format!("{}: {}", err.kind, err.message), "exit_code": 1})
        }
        (None, None) => json!({"stdout": "", "stderr": "", "exit_code": 0}),
    };
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

/// The guest's bash entry point returns JSON text whose `repr()` is the
/// text itself, so the cell's result is the JSON document.
fn parse_result(repr: &str) -> Option<Value> {
    serde_json::from_str(repr).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_repr_of_json() {
        let v = parse_result(r#"{"stdout": "a\nb", "stderr": "", "exit_code": 0}"#).unwrap();
        assert_eq!(v["stdout"], "a\nb");
        assert!(parse_result("'not json'").is_none());
    }
}
