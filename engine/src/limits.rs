//! Per-sandbox limits. Every one is enforced by the host (the recursion
//! limit is the interpreter's setting, which a cell can raise; the host's
//! backstop is the wasm stack); a cell that hits one ends with a
//! structured status while the sandbox keeps working.

use std::time::Duration;

/// Wall-clock time a cell may run (Composio's workbench allows 180 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);
/// After the deadline, how long Python gets to unwind from the soft
/// interrupt before the instance is stopped hard (and replaced).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);
/// Linear memory cap of one sandbox.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 1 << 30;
/// Output kept inline in the envelope, per stream; the rest goes to a file.
pub const DEFAULT_MAX_INLINE_OUTPUT_BYTES: usize = 1 << 20;
/// Total output one stream of one cell may produce (inline + file); past it
/// the cell ends with `output_limit`, so a print loop cannot fill the disk.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 64 << 20;
/// Tool calls one cell may make.
pub const DEFAULT_MAX_TOOL_CALLS: u64 = 100_000;
/// Python recursion limit (CPython's default).
pub const DEFAULT_MAX_RECURSION_DEPTH: u32 = 1000;
/// Bytes the workbench and the files mount may hold together.
pub const DEFAULT_MAX_DISK_BYTES: u64 = 1 << 30;
/// Files plus directories the workbench and the files mount may hold
/// together (an inode flood is refused before it costs the host).
pub const DEFAULT_MAX_DISK_INODES: u64 = 100_000;
/// Tool calls of one batch that run at once when the cell does not say.
pub const DEFAULT_TOOL_CONCURRENCY: usize = 50;

/// Caps for one sandbox.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Wall-clock deadline per cell.
    pub timeout: Duration,
    /// Time between the soft interrupt and the hard stop.
    pub grace: Duration,
    /// Linear memory cap.
    pub max_memory_bytes: u64,
    /// Inline output per stream per cell.
    pub max_inline_output_bytes: usize,
    /// Total output per stream per cell.
    pub max_output_bytes: u64,
    /// Tool calls per cell.
    pub max_tool_calls: u64,
    /// Python recursion limit.
    pub max_recursion_depth: u32,
    /// Disk quota of the workbench plus the files mount: allocated bytes.
    pub max_disk_bytes: u64,
    /// Disk quota of the workbench plus the files mount: files and
    /// directories.
    pub max_disk_inodes: u64,
    /// Default concurrency of a tool batch.
    pub tool_concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: DEFAULT_TIMEOUT,
            grace: DEFAULT_GRACE,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            max_inline_output_bytes: DEFAULT_MAX_INLINE_OUTPUT_BYTES,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            max_tool_calls: DEFAULT_MAX_TOOL_CALLS,
            max_recursion_depth: DEFAULT_MAX_RECURSION_DEPTH,
            max_disk_bytes: DEFAULT_MAX_DISK_BYTES,
            max_disk_inodes: DEFAULT_MAX_DISK_INODES,
            tool_concurrency: DEFAULT_TOOL_CONCURRENCY,
        }
    }
}
