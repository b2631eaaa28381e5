//! The epoch-deadline callback: soft interrupt first, hard stop after the
//! grace period.
//!
//! While a cell runs, the store's deadline is one epoch tick ahead, so this
//! runs every tick. Before the cell's deadline it just re-arms. After it, it
//! re-enters the guest through `toolshed_interrupt` (which makes the next
//! Python line or call raise `CellTimeout`), but only at a safe point: when
//! the innermost guest frame is RustPython's bytecode loop, so no native
//! guest code (allocator, a borrowed VM structure) is interrupted half-way.
//! Elsewhere it retries at the very next epoch check. At the deadline plus
//! the grace period it traps, and the instance is discarded.

use crate::store::SandboxState;
use std::sync::OnceLock;
use std::time::Instant;
use wasmtime::{StoreContextMut, UpdateDeadline, WasmBacktrace};

/// Epoch ticks to allow the nested `toolshed_interrupt` call (it never runs
/// long; this only keeps it from re-triggering the callback).
const REENTRY_TICKS: u64 = 1 << 40;

/// The function index of RustPython's `ExecutingFrame::run`, found by name
/// once per process (the module is the same for every sandbox).
static SAFE_FUNC: OnceLock<u32> = OnceLock::new();

pub(crate) fn on_epoch(
    mut ctx: StoreContextMut<'_, SandboxState>,
) -> wasmtime::Result<UpdateDeadline> {
    let now = Instant::now();
    let cell = &ctx.data().cell;
    if now < cell.soft_deadline {
        return Ok(UpdateDeadline::Continue(1));
    }
    if now >= cell.hard_deadline {
        ctx.data_mut().cell.hard_stopped = true;
        return Ok(UpdateDeadline::Interrupt);
    }
    ctx.data_mut().cell.timed_out = true;
    if !at_safe_point(&ctx) {
        return Ok(UpdateDeadline::Continue(0));
    }
    let Some(interrupt) = ctx.data().interrupt.clone() else {
        return Ok(UpdateDeadline::Continue(1));
    };
    ctx.set_epoch_deadline(REENTRY_TICKS);
    interrupt.call(&mut ctx, ())?;
    Ok(UpdateDeadline::Continue(1))
}

fn at_safe_point(ctx: &StoreContextMut<'_, SandboxState>) -> bool {
    let backtrace = WasmBacktrace::capture(ctx);
    let Some(frame) = backtrace.frames().first() else {
        return false;
    };
    if let Some(index) = SAFE_FUNC.get() {
        return frame.func_index() == *index;
    }
    if frame.func_name().is_some_and(is_bytecode_loop) {
        let _ = SAFE_FUNC.set(frame.func_index());
        return true;
    }
    false
}

/// Whether a (mangled or demangled) symbol is `ExecutingFrame::run`.
fn is_bytecode_loop(name: &str) -> bool {
    let demangled = format!("{:#}", rustc_demangle::demangle(name));
    demangled.ends_with("ExecutingFrame::run")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_bytecode_loop() {
        assert!(is_bytecode_loop(
            "_ZN13rustpython_vm5frame14ExecutingFrame3run17h0123456789abcdefE"
        ));
        assert!(is_bytecode_loop(
            "rustpython_vm::frame::ExecutingFrame::run"
        ));
        assert!(!is_bytecode_loop(
            "_ZN13rustpython_vm5frame14ExecutingFrame16run_instruction17h0123456789abcdefE"
        ));
        assert!(!is_bytecode_loop("dlmalloc"));
    }
}
