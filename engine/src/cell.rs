//! [`CellOutcome`]: the JSON envelope of one cell.

use serde::{Deserialize, Serialize};

/// How a cell ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// It ran to the end.
    Ok,
    /// It raised an exception (see [`CellOutcome::error`]).
    Error,
    /// It ran past its deadline.
    Timeout,
    /// It hit the memory cap.
    MemoryLimit,
    /// It wrote more output than allowed.
    OutputLimit,
    /// It made more tool calls than allowed.
    ToolLimit,
    /// The interpreter stopped abnormally (a trap); the sandbox was reset.
    Crashed,
}

impl CellStatus {
    /// The wire name (`"ok"`, `"timeout"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CellStatus::Ok => "ok",
            CellStatus::Error => "error",
            CellStatus::Timeout => "timeout",
            CellStatus::MemoryLimit => "memory_limit",
            CellStatus::OutputLimit => "output_limit",
            CellStatus::ToolLimit => "tool_limit",
            CellStatus::Crashed => "crashed",
        }
    }
}

/// The Python exception a cell ended with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellError {
    /// The exception's class name (`ValueError`, `CellTimeout`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// `str(exception)`.
    pub message: String,
    /// The formatted traceback, with the cell's own line numbers (`<cell>`)
    /// and no host paths.
    pub traceback: String,
}

/// Everything about one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellOutcome {
    /// How it ended.
    pub status: CellStatus,
    /// Standard output (at most the inline cap).
    pub stdout: String,
    /// Standard error (at most the inline cap).
    pub stderr: String,
    /// `repr()` of the cell's trailing expression, if it had one and it was
    /// not `None`.
    pub result: Option<String>,
    /// The exception, for every status but `ok`.
    pub error: Option<CellError>,
    /// Wall-clock time of the cell.
    pub duration_ms: u64,
    /// Whether `stdout` is only the beginning of the output.
    pub stdout_truncated: bool,
    /// Whether `stderr` is only the beginning of the output.
    pub stderr_truncated: bool,
    /// Guest path of the full stdout when it was truncated.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stdout_file_path: Option<String>,
    /// Guest path of the full stderr when it was truncated.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stderr_file_path: Option<String>,
    /// Whether the interpreter's state (variables, imports) was lost: the
    /// instance was replaced after a hard stop, or the session's interpreter
    /// did not survive a restart.
    pub state_reset: bool,
    /// Tool calls the cell made.
    pub tool_calls: u64,
}

impl CellOutcome {
    /// Whether the cell ended `ok`.
    pub fn is_ok(&self) -> bool {
        self.status == CellStatus::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_the_wire_names() {
        let outcome = CellOutcome {
            status: CellStatus::MemoryLimit,
            stdout: String::new(),
            stderr: String::new(),
            result: None,
            error: Some(CellError {
                kind: "MemoryError".into(),
                message: String::new(),
                traceback: String::new(),
            }),
            duration_ms: 3,
            stdout_truncated: false,
            stderr_truncated: false,
            stdout_file_path: None,
            stderr_file_path: None,
            state_reset: false,
            tool_calls: 0,
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json["status"], "memory_limit");
        assert_eq!(json["error"]["type"], "MemoryError");
        assert!(json.get("stdout_file_path").is_none());
        assert_eq!(CellStatus::ToolLimit.as_str(), "tool_limit");
        let back: CellOutcome = serde_json::from_value(json).unwrap();
        assert_eq!(back, outcome);
    }
}
