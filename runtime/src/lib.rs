//! toolshed's Python guest: RustPython compiled to `wasm32-wasip1`.
//!
//! # Layout
//!
//! - `lib.rs` (this file): the exports the host calls, and nothing else.
//! - [`interp`]: starting the interpreter once (before the snapshot) and
//!   keeping it for the life of the instance.
//! - [`cell`]: the cell loop: compiling and running one cell (Python or a
//!   shell command) and building its JSON reply.
//! - [`interrupt`]: the host's deadline and memory interrupts, raised in user
//!   code by a native trace hook.
//! - [`exceptions`]: the sandbox's own exceptions and the ABI error codes
//!   they stand for.
//! - [`json`]: Python objects <-> JSON, in Rust, for the tool bridge.
//! - [`modules`]: native Python modules, one per host capability.
//! - `driver.py`: the Python side: output streams, helpers, sandbox policy
//!   and the error formatting the cell loop calls.
//!
//! # Lifecycle
//!
//! 1. `_initialize` runs the C/Rust constructors (once, by wizer).
//! 2. `wizer-initialize` starts the VM and loads the driver (once, by wizer;
//!    the host snapshots the instance afterwards).
//! 3. Per cell: the host writes the code into a `toolshed_alloc` buffer and
//!    calls `toolshed_run_cell`; `toolshed_interrupt` may be called from the
//!    host's deadline callback while a cell runs.

mod cell;
mod exceptions;
mod interp;
mod interrupt;
mod json;
mod modules;

use toolshed_guest_sdk::abi;

unsafe extern "C" {
    fn __wasm_call_ctors();
}

/// Runs the constructors once. A `cdylib` on wasip1 is linked as a command,
/// which would otherwise re-run them around every export call.
#[unsafe(no_mangle)]
pub extern "C" fn _initialize() {
    // SAFETY: called once, by the pre-initialiser, before any other export.
    unsafe { __wasm_call_ctors() }
}

/// Starts the interpreter and loads the driver; see [`abi::EXPORT_INITIALIZE`].
#[unsafe(export_name = "wizer-initialize")]
pub extern "C" fn wizer_initialize() {
    interp::init();
}

/// See [`abi::EXPORT_ALLOC`].
#[unsafe(no_mangle)]
pub extern "C" fn toolshed_alloc(len: u32) -> u32 {
    let mut buf = std::mem::ManuallyDrop::new(Vec::<u8>::with_capacity(len as usize));
    debug_assert_eq!(buf.capacity(), len as usize);
    buf.as_mut_ptr() as u32
}

/// See [`abi::EXPORT_DEALLOC`].
#[unsafe(no_mangle)]
pub extern "C" fn toolshed_dealloc(ptr: u32, len: u32) {
    if ptr == 0 {
        return;
    }
    // SAFETY: `ptr`/`len` came from `toolshed_alloc` or a reply buffer of
    // exactly this capacity (`into_packed`).
    drop(unsafe { Vec::from_raw_parts(ptr as *mut u8, 0, len as usize) });
}

/// See [`abi::EXPORT_RUN_CELL`].
#[unsafe(no_mangle)]
pub extern "C" fn toolshed_run_cell(kind: u32, ptr: u32, len: u32) -> u64 {
    // SAFETY: the host wrote `len` bytes into a `toolshed_alloc(len)` buffer
    // and hands ownership to us.
    let source = unsafe { Vec::from_raw_parts(ptr as *mut u8, len as usize, len as usize) };
    let source = String::from_utf8_lossy(&source).into_owned();
    into_packed(cell::run(kind, &source))
}

/// See [`abi::EXPORT_INTERRUPT`].
#[unsafe(no_mangle)]
pub extern "C" fn toolshed_interrupt(reason: u32) {
    interp::interrupt(reason);
}

fn into_packed(reply: Vec<u8>) -> u64 {
    let mut reply = reply.into_boxed_slice();
    let len = reply.len() as u32;
    let ptr = reply.as_mut_ptr() as u32;
    std::mem::forget(reply);
    abi::pack(ptr, len)
}
