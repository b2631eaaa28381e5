//! What a sandbox's wasmtime `Store` holds: the leaf of the engine's module
//! graph. The host functions (`bridge`, `poll`, `quota`), the deadline
//! callback and the instance all work on [`SandboxState`]; this module
//! depends on none of them.

use crate::limits::Limits;
use crate::output::{OutputSink, SpillTarget};
use crate::quota::DiskQuota;
use crate::tool::ToolBridge;
use crate::workbench::{Dirs, GUEST_FILES, GUEST_OUTPUT_DIR};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasmtime::{Memory, ResourceLimiter, TypedFunc};
use wasmtime_wasi::p1::WasiP1Ctx;

/// The store's data. Lives as long as one instance.
pub(crate) struct SandboxState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) bridge: Arc<dyn ToolBridge>,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) limits: Limits,
    pub(crate) dirs: Dirs,
    pub(crate) cell: CellState,
    pub(crate) quota: DiskQuota,
    pub(crate) memory: Option<Memory>,
    /// The guest's `toolshed_interrupt(reason)` export.
    pub(crate) interrupt: Option<TypedFunc<u32, ()>>,
}

/// Per-cell host state; replaced at the start of every cell. Its flags are
/// what decides a cell's status (see [`crate::cell::classify`]).
pub(crate) struct CellState {
    pub(crate) soft_deadline: Instant,
    pub(crate) hard_deadline: Instant,
    /// The deadline passed while the cell ran (the host interrupted it, or a
    /// sleep, poll or tool batch was cut short).
    pub(crate) timed_out: bool,
    /// The grace period ended too: the instance was stopped with a trap.
    pub(crate) hard_stopped: bool,
    pub(crate) tool_limit_hit: bool,
    pub(crate) output_limit_hit: bool,
    pub(crate) tool_calls: u64,
    pub(crate) stdout: OutputSink,
    pub(crate) stderr: OutputSink,
    /// The trailing expression's repr, capped and spilled like output.
    pub(crate) result: OutputSink,
    /// A tool batch's reply, until the guest takes it.
    pub(crate) reply: Option<Vec<u8>>,
}

impl CellState {
    pub(crate) fn new(limits: &Limits, dirs: &Dirs, started: Instant) -> Self {
        static CELLS: AtomicU64 = AtomicU64::new(0);
        let serial = CELLS.fetch_add(1, Ordering::Relaxed);
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let sink = |stream: &str| {
            let guest = format!("{GUEST_OUTPUT_DIR}/cell-{stamp}-{serial}-{stream}.txt");
            let rel = guest
                .strip_prefix(GUEST_FILES)
                .unwrap_or(&guest)
                .trim_start_matches('/')
                .into();
            let target = SpillTarget {
                root: dirs.files.clone(),
                rel,
            };
            OutputSink::new(
                limits.max_inline_output_bytes,
                limits.max_output_bytes,
                target,
                guest,
            )
        };
        let soft_deadline = started + limits.timeout;
        CellState {
            soft_deadline,
            hard_deadline: soft_deadline + limits.grace,
            timed_out: false,
            hard_stopped: false,
            tool_limit_hit: false,
            output_limit_hit: false,
            tool_calls: 0,
            stdout: sink("stdout"),
            stderr: sink("stderr"),
            result: sink("result"),
            reply: None,
        }
    }

    /// Blocks this thread for `wanted`, or until the cell's deadline if
    /// that comes first; then the cell is marked timed out and this returns
    /// `false`.
    pub(crate) fn sleep(&mut self, wanted: Duration) -> bool {
        let now = Instant::now();
        let left = self.soft_deadline.saturating_duration_since(now);
        std::thread::sleep(wanted.min(left));
        if wanted > left {
            self.timed_out = true;
            return false;
        }
        true
    }
}

/// Headroom kept between the soft and the hard memory limit: what a cell
/// that got its `MemoryError` (and the cells after it) may still use to
/// unwind, format the error and free memory. An eighth of the limit,
/// between 4 and 64 MiB.
pub(crate) fn memory_headroom(max_bytes: u64) -> u64 {
    (max_bytes / 8).clamp(4 << 20, 64 << 20)
}

/// Caps linear memory. Growth past the soft mark is allowed but asks for a
/// `MemoryError` in the cell (through the deadline callback, which the
/// limiter wakes by bumping the engine's epoch), and moves the mark up by a
/// quarter of the headroom; growth past the hard limit is refused.
///
/// Linear memory never shrinks, so the mark is about growth, not use: a
/// cell that freed its data reuses that memory without growing, and one that
/// keeps allocating gets a `MemoryError` at each step until the hard limit,
/// the last resort (a trap and a fresh interpreter).
pub(crate) struct MemoryLimiter {
    pub(crate) hard_bytes: u64,
    /// Growth past this raises a `MemoryError` in the cell.
    pub(crate) soft_mark: u64,
    step_bytes: u64,
    /// Bumped to run every store's epoch callback at its next check.
    pub(crate) engine: wasmtime::Engine,
    /// The soft limit was passed during this cell.
    pub(crate) soft_hit: bool,
    /// A `MemoryError` is owed to the cell.
    pub(crate) pending: bool,
    /// Growth past the hard limit was refused during this cell.
    pub(crate) denied: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(hard_bytes: u64, engine: wasmtime::Engine) -> Self {
        let headroom = memory_headroom(hard_bytes);
        MemoryLimiter {
            hard_bytes,
            soft_mark: hard_bytes.saturating_sub(headroom),
            step_bytes: headroom / 4,
            engine,
            soft_hit: false,
            pending: false,
            denied: false,
        }
    }

    /// Forgets the previous cell's events.
    pub(crate) fn start_cell(&mut self) {
        self.soft_hit = false;
        self.pending = false;
        self.denied = false;
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let desired = desired as u64;
        if desired > self.hard_bytes {
            self.denied = true;
            return Ok(false);
        }
        if desired > self.soft_mark {
            self.soft_hit = true;
            self.pending = true;
            self.soft_mark = desired.saturating_add(self.step_bytes).min(self.hard_bytes);
            self.engine.increment_epoch();
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headroom_is_an_eighth_within_bounds() {
        assert_eq!(memory_headroom(1 << 30), 64 << 20);
        assert_eq!(memory_headroom(256 << 20), 32 << 20);
        assert_eq!(memory_headroom(16 << 20), 4 << 20);
    }

    #[test]
    fn soft_growth_is_allowed_and_flagged_hard_growth_refused() {
        let engine = wasmtime::Engine::default();
        let mut limiter = MemoryLimiter::new(256 << 20, engine);
        assert!(limiter.memory_growing(0, 100 << 20, None).unwrap());
        assert!(!limiter.pending);
        assert!(limiter.memory_growing(0, 230 << 20, None).unwrap());
        assert!(limiter.pending && limiter.soft_hit && !limiter.denied);
        // The mark moved up a step (8 MiB): growing within it is quiet.
        limiter.start_cell();
        assert!(limiter.memory_growing(0, 236 << 20, None).unwrap());
        assert!(!limiter.pending);
        assert!(limiter.memory_growing(0, 240 << 20, None).unwrap());
        assert!(limiter.pending);
        assert!(!limiter.memory_growing(0, 257 << 20, None).unwrap());
        assert!(limiter.denied);
        limiter.start_cell();
        assert!(!limiter.pending && !limiter.soft_hit && !limiter.denied);
    }
}
