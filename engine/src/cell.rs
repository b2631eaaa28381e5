//! [`CellOutcome`]: the JSON envelope of one cell, and how a cell's status
//! is decided from the host's own records ([`classify`]).

use serde::{Deserialize, Serialize};
use toolshed_guest_sdk::abi;

/// What a cell runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// Python source, run against the session's persistent globals.
    Python,
    /// A command line for the sandbox shell (in the same interpreter).
    Bash,
}

impl CellKind {
    pub(crate) fn abi(self) -> u32 {
        match self {
            CellKind::Python => abi::CELL_PYTHON,
            CellKind::Bash => abi::CELL_BASH,
        }
    }
}

/// What a shell command produced, as the guest reports it. The host moves
/// its output into the cell's stdout and stderr (same caps and spills).
#[derive(Debug, Deserialize)]
pub(crate) struct GuestShell {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) exit_code: i64,
}

/// The guest's reply to `toolshed_run_cell` (see the ABI).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GuestReply {
    pub(crate) result: Option<String>,
    pub(crate) error: Option<CellError>,
    #[serde(default)]
    pub(crate) shell: Option<GuestShell>,
}

impl GuestReply {
    pub(crate) fn error(error: CellError) -> Self {
        GuestReply {
            error: Some(error),
            ..GuestReply::default()
        }
    }
}

/// What the host recorded while a cell ran.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HostFlags {
    pub(crate) timed_out: bool,
    pub(crate) tool_limit: bool,
    pub(crate) output_limit: bool,
    pub(crate) memory_limit: bool,
}

/// A cell's status, from the host's records: the name of the exception the
/// guest reports is never consulted (a cell can raise or rename anything).
/// The deadline wins even when the cell swallowed the interrupt; the other
/// limits only explain a cell that ended with an error.
pub(crate) fn classify(flags: &HostFlags, ended_with_error: bool) -> CellStatus {
    if flags.timed_out {
        return CellStatus::Timeout;
    }
    if !ended_with_error {
        return CellStatus::Ok;
    }
    if flags.tool_limit {
        CellStatus::ToolLimit
    } else if flags.output_limit {
        CellStatus::OutputLimit
    } else if flags.memory_limit {
        CellStatus::MemoryLimit
    } else {
        CellStatus::Error
    }
}

/// The error of a cell that passed its deadline without reporting one.
pub(crate) fn deadline_error() -> CellError {
    let message = "this cell ran past its deadline".to_owned();
    CellError {
        kind: "CellTimeout".into(),
        traceback: format!("CellTimeout: {message}\n"),
        message,
    }
}

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

impl CellError {
    /// Keeps the message's beginning and the traceback's end (where the
    /// error is) within `max_bytes` each.
    pub(crate) fn capped(mut self, max_bytes: usize) -> Self {
        const CUT: &str = "\n... (cut: too long)\n";
        if self.message.len() > max_bytes {
            let mut end = max_bytes;
            while !self.message.is_char_boundary(end) {
                end -= 1;
            }
            self.message.truncate(end);
            self.message.push_str(CUT);
        }
        if self.traceback.len() > max_bytes {
            let mut start = self.traceback.len() - max_bytes;
            while !self.traceback.is_char_boundary(start) {
                start += 1;
            }
            self.traceback = format!("{CUT}{}", &self.traceback[start..]);
        }
        self
    }
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
    /// not `None` (at most the inline cap; see `result_file_path`).
    pub result: Option<String>,
    /// Whether `result` is only the beginning of the repr.
    #[serde(default)]
    pub result_truncated: bool,
    /// Guest path of the whole repr when it was truncated.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub result_file_path: Option<String>,
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
    /// Why the state was lost, when the embedder said
    /// ([`crate::SandboxBuilder::state_reset_reason`]): e.g. which
    /// checkpoint the interpreter resumed from.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state_reset_reason: Option<String>,
    /// Tool calls the cell made.
    pub tool_calls: u64,
    /// For a bash cell that ran to the end: the command's exit status (127:
    /// unknown command, 2: usage or syntax error). Its output is in
    /// `stdout` and `stderr`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exit_code: Option<i64>,
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
            result_truncated: false,
            result_file_path: None,
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
            state_reset_reason: None,
            tool_calls: 0,
            exit_code: None,
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json["status"], "memory_limit");
        assert_eq!(json["error"]["type"], "MemoryError");
        assert!(json.get("stdout_file_path").is_none());
        assert_eq!(CellStatus::ToolLimit.as_str(), "tool_limit");
        let back: CellOutcome = serde_json::from_value(json).unwrap();
        assert_eq!(back, outcome);
    }

    #[test]
    fn long_errors_keep_the_message_start_and_the_traceback_end() {
        let error = CellError {
            kind: "ValueError".into(),
            message: format!("start{}", "é".repeat(100)),
            traceback: format!("{}last line", "é".repeat(100)),
        }
        .capped(20);
        assert!(error.message.starts_with("start") && error.message.len() < 60);
        assert!(error.traceback.ends_with("last line") && error.traceback.len() < 60);
    }

    #[test]
    fn status_comes_from_host_flags() {
        let none = HostFlags::default();
        assert_eq!(classify(&none, false), CellStatus::Ok);
        assert_eq!(classify(&none, true), CellStatus::Error);
        let timed_out = HostFlags {
            timed_out: true,
            ..HostFlags::default()
        };
        assert_eq!(classify(&timed_out, false), CellStatus::Timeout);
        let tools = HostFlags {
            tool_limit: true,
            ..HostFlags::default()
        };
        assert_eq!(classify(&tools, true), CellStatus::ToolLimit);
        assert_eq!(classify(&tools, false), CellStatus::Ok);
        let memory = HostFlags {
            memory_limit: true,
            ..HostFlags::default()
        };
        assert_eq!(classify(&memory, true), CellStatus::MemoryLimit);
    }
}
