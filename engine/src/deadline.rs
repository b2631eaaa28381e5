//! The epoch-deadline callback: soft interrupts, then the hard stop.
//!
//! While a cell runs, the store's deadline is one epoch tick ahead, so this
//! runs every tick (and sooner when the memory limiter bumps the epoch).
//!
//! - At the cell's deadline plus the grace period it traps, whatever the
//!   guest is doing, and the instance is discarded. Nothing below can
//!   postpone this: the callback never sets a deadline past the next few
//!   ticks.
//! - After the deadline (or when the memory limiter owes the cell a
//!   `MemoryError`) it re-enters the guest through `toolshed_interrupt`,
//!   which arms a native trace hook and runs no Python code. It does so only
//!   at a safe point, when the innermost guest frame is RustPython's
//!   bytecode loop, so no native guest code (the allocator, a borrowed VM
//!   structure) is interrupted half-way; elsewhere it retries at the very
//!   next epoch check. The re-entry gets a budget of [`REENTRY_TICKS`]: while
//!   it runs, wasmtime has no callback installed, so if it has not returned
//!   by then the guest traps (and the cell ends as a timeout with a reset).
//!   After the deadline it re-arms on every tick, so a cell that catches
//!   `CellTimeout` or removes the hook is interrupted again until the grace
//!   period ends.

use crate::state::SandboxState;
use std::sync::OnceLock;
use std::time::Instant;
use toolshed_guest_sdk::abi;
use wasmtime::{StoreContextMut, UpdateDeadline, WasmBacktrace};

/// Epoch ticks the nested `toolshed_interrupt` call may take. It sets a
/// flag and walks the live frames; it never takes more than a few
/// milliseconds.
const REENTRY_TICKS: u64 = 5;

/// The function index of RustPython's `ExecutingFrame::run`, found by name
/// once per process (the module is the same for every sandbox).
static SAFE_FUNC: OnceLock<u32> = OnceLock::new();

pub(crate) fn on_epoch(
    mut ctx: StoreContextMut<'_, SandboxState>,
) -> wasmtime::Result<UpdateDeadline> {
    let now = Instant::now();
    let state = ctx.data_mut();
    if now >= state.cell.hard_deadline {
        state.cell.hard_stopped = true;
        return Ok(UpdateDeadline::Interrupt);
    }
    let reason = if now >= state.cell.soft_deadline {
        state.cell.timed_out = true;
        abi::INTERRUPT_DEADLINE
    } else if state.limiter.pending {
        abi::INTERRUPT_MEMORY
    } else {
        return Ok(UpdateDeadline::Continue(1));
    };
    if !at_safe_point(&ctx) {
        return Ok(UpdateDeadline::Continue(0));
    }
    let Some(interrupt) = ctx.data().interrupt.clone() else {
        return Ok(UpdateDeadline::Continue(1));
    };
    if reason == abi::INTERRUPT_MEMORY {
        ctx.data_mut().limiter.pending = false;
    }
    ctx.set_epoch_deadline(REENTRY_TICKS);
    interrupt.call(&mut ctx, reason)?;
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
