//! The `toolshed:host/v1` ABI: the one definition of every name, code and
//! memory rule shared by the host (`toolshed-engine`) and guests.
//!
//! This module depends on nothing, so the engine can import its constants.
//!
//! # Memory model
//!
//! All pointers are offsets into the guest's single exported linear memory
//! (`memory`); all lengths are byte counts. Pointers and lengths are `u32`
//! (wasm32).
//!
//! - **Host → guest data** (the code of a cell) is written into a buffer the
//!   host obtains from the guest export [`EXPORT_ALLOC`]. Ownership passes to
//!   the guest with the call that receives the pointer; the guest frees it.
//! - **Guest → host data** (the reply of [`EXPORT_RUN_CELL`]) is a buffer the
//!   guest allocated. It is returned as a packed `u64`: `(ptr << 32) | len`.
//!   The host copies it out and then frees it with [`EXPORT_DEALLOC`].
//! - **Host import arguments** (`ptr`, `len`) are borrowed for the duration
//!   of the call only. The host never keeps guest pointers.
//! - **Host import replies** that are larger than a scalar are held by the
//!   host: the import returns the reply's length, and the guest copies it into
//!   memory it owns with [`IMPORT_TAKE_REPLY`]. The guest never frees memory the
//!   host allocated, and the host never calls back into the guest while an
//!   import runs.
//!
//! # Errors
//!
//! Imports return signed integers. A value `>= 0` is success (a length or
//! `0`); a negative value is `-(ErrorCode as i32)` (or `i64`). Unknown codes
//! must be treated as [`ErrorCode::Internal`].

/// The import module name. The version is part of the name: a breaking change
/// to any signature below gets a new module name.
pub const HOST_MODULE: &str = "toolshed:host/v1";

/// Import: run a batch of tool calls.
///
/// Params: `req_ptr: u32, req_len: u32` — UTF-8 JSON array of
/// `{"tool_slug": str, "arguments": object, "account": str|null}`;
/// `max_concurrency: u32` — `0` means the host default.
/// Returns: `i64` — the byte length of the reply, now held by the host, or a
/// negated [`ErrorCode`]. The reply is a JSON array with one element per call,
/// in request order: `{"successful": bool, "data": any, "error": str|null}`.
/// Ownership: the request is borrowed; fetch the reply with
/// [`IMPORT_TAKE_REPLY`] before the next import call.
pub const IMPORT_CALL_TOOLS: &str = "call_tools";

/// Import: copy the pending reply into guest memory and drop it on the host.
///
/// Params: `dst_ptr: u32, dst_len: u32` — a guest buffer exactly as long as
/// the length the previous import returned.
/// Returns: `i32` — `0`, or a negated [`ErrorCode`] ([`ErrorCode::NoReply`]
/// when nothing is pending, [`ErrorCode::InvalidArgument`] on a length
/// mismatch or an out-of-bounds buffer).
/// Ownership: the guest owns `dst` before and after.
pub const IMPORT_TAKE_REPLY: &str = "take_reply";

/// Import: append text to the cell's stdout or stderr.
///
/// Params: `stream: u32` ([`STREAM_STDOUT`] or [`STREAM_STDERR`]),
/// `ptr: u32, len: u32` — UTF-8 text.
/// Returns: `i32` — `0`, or a negated [`ErrorCode`]
/// ([`ErrorCode::OutputLimit`] once the cell wrote more than it may).
/// Ownership: borrowed for the call.
pub const IMPORT_WRITE_OUTPUT: &str = "write_output";

/// Import: sleep, but never past the cell's deadline.
///
/// Params: `millis: u64`.
/// Returns: `i32` — `0` when the full time elapsed, or a negated
/// [`ErrorCode::Deadline`] when the sleep was cut short by the deadline.
/// Ownership: no memory is passed.
pub const IMPORT_SLEEP: &str = "sleep";

/// Stream id of standard output for [`IMPORT_WRITE_OUTPUT`].
pub const STREAM_STDOUT: u32 = 1;
/// Stream id of standard error for [`IMPORT_WRITE_OUTPUT`].
pub const STREAM_STDERR: u32 = 2;

/// Export: `alloc(len: u32) -> u32`, a guest buffer of `len` bytes (never 0
/// for `len > 0`; traps if the guest is out of memory).
pub const EXPORT_ALLOC: &str = "toolshed_alloc";

/// Export: `dealloc(ptr: u32, len: u32)`, frees a buffer from
/// [`EXPORT_ALLOC`] or a reply of [`EXPORT_RUN_CELL`].
pub const EXPORT_DEALLOC: &str = "toolshed_dealloc";

/// Export: `run_cell(kind: u32, ptr: u32, len: u32) -> u64`.
///
/// Params: `kind` — [`CELL_PYTHON`] (the buffer is Python source, run
/// against the session's persistent globals) or [`CELL_BASH`] (the buffer is
/// a command line for the sandbox shell, which runs in the same interpreter);
/// `ptr, len` — a UTF-8 buffer from [`EXPORT_ALLOC`]; the guest takes
/// ownership.
/// Returns: a packed `(ptr << 32) | len` JSON reply that the host frees with
/// [`EXPORT_DEALLOC`]:
/// `{"result": str|null, "error": {"type","message","traceback"}|null,
/// "shell": {"stdout": str, "stderr": str, "exit_code": int}|null}`.
/// `result` is the `repr()` of a Python cell's trailing expression; `shell`
/// is set for [`CELL_BASH`] cells that ran to the end. How a cell ended
/// (deadline, limits) is decided by the host from its own records, never from
/// the exception's name in `error`.
/// Ownership: the reply belongs to the host until it calls [`EXPORT_DEALLOC`].
pub const EXPORT_RUN_CELL: &str = "toolshed_run_cell";

/// `kind` of [`EXPORT_RUN_CELL`]: Python source.
pub const CELL_PYTHON: u32 = 0;
/// `kind` of [`EXPORT_RUN_CELL`]: a command line for the sandbox shell.
pub const CELL_BASH: u32 = 1;

/// Export: `interrupt(reason: u32)`, asks the running cell to stop: the
/// next Python instruction of user code raises `CellTimeout`
/// ([`INTERRUPT_DEADLINE`]) or `MemoryError` ([`INTERRUPT_MEMORY`], once).
///
/// It runs no Python code and looks nothing up that a cell can replace: it
/// sets a flag and installs a native trace hook captured when the
/// interpreter started. The host calls it only from its epoch-deadline
/// callback, at a point where the innermost guest frame is the bytecode
/// loop, and bounds it with a budget of a few epoch ticks.
pub const EXPORT_INTERRUPT: &str = "toolshed_interrupt";

/// `reason` of [`EXPORT_INTERRUPT`]: the cell's deadline passed.
pub const INTERRUPT_DEADLINE: u32 = 1;
/// `reason` of [`EXPORT_INTERRUPT`]: the sandbox's memory passed its soft
/// limit; the cell gets one `MemoryError` and may free memory and go on.
pub const INTERRUPT_MEMORY: u32 = 2;

/// Export: the pre-initialisation entry point: starts the interpreter and
/// loads the helpers. Run once, before the snapshot is taken.
pub const EXPORT_INITIALIZE: &str = "wizer-initialize";

/// Every error a host import can report.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// A pointer or length was out of bounds, or the bytes were not the
    /// UTF-8 / JSON the import expects.
    InvalidArgument = 1,
    /// The cell made more tool calls than its limit allows.
    ToolLimit = 2,
    /// The cell wrote more output than its limit allows.
    OutputLimit = 3,
    /// The cell's deadline passed while the import was waiting.
    Deadline = 4,
    /// [`IMPORT_TAKE_REPLY`] was called with no reply pending.
    NoReply = 5,
    /// The host failed for a reason of its own; details are in the host log.
    Internal = 6,
}

impl ErrorCode {
    /// Decodes a code; `None` for values no version of this ABI defines.
    pub fn from_u32(code: u32) -> Option<ErrorCode> {
        Some(match code {
            1 => ErrorCode::InvalidArgument,
            2 => ErrorCode::ToolLimit,
            3 => ErrorCode::OutputLimit,
            4 => ErrorCode::Deadline,
            5 => ErrorCode::NoReply,
            6 => ErrorCode::Internal,
            _ => return None,
        })
    }

    /// The negative value an import returns for this code.
    pub fn to_return(self) -> i32 {
        -(self as i32)
    }
}

/// Packs a guest buffer into the `u64` that [`EXPORT_RUN_CELL`] returns.
pub fn pack(ptr: u32, len: u32) -> u64 {
    (u64::from(ptr) << 32) | u64::from(len)
}

/// Splits a packed buffer into `(ptr, len)`.
pub fn unpack(packed: u64) -> (u32, u32) {
    ((packed >> 32) as u32, packed as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in 1..=6 {
            let decoded = ErrorCode::from_u32(code).unwrap();
            assert_eq!(decoded as u32, code);
            assert_eq!(decoded.to_return(), -(code as i32));
        }
        assert_eq!(ErrorCode::from_u32(0), None);
        assert_eq!(ErrorCode::from_u32(7), None);
    }

    #[test]
    fn pack_round_trips() {
        assert_eq!(unpack(pack(0xdead_beef, 17)), (0xdead_beef, 17));
        assert_eq!(unpack(pack(0, u32::MAX)), (0, u32::MAX));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_pointer_and_length_round_trip(ptr: u32, len: u32) {
                prop_assert_eq!(unpack(pack(ptr, len)), (ptr, len));
            }

            #[test]
            fn any_code_decodes_or_is_unknown(code: u32) {
                match ErrorCode::from_u32(code) {
                    Some(decoded) => prop_assert_eq!(decoded as u32, code),
                    None => prop_assert!(code == 0 || code > 6),
                }
            }

            #[test]
            fn any_import_result_decodes_without_panicking(value: i64) {
                let decoded = crate::HostError::from_return(value);
                prop_assert_eq!(decoded.is_some(), value < 0);
            }
        }
    }
}
