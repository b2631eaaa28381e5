//! Shared plumbing for the host's wrappers of WASI functions (the disk
//! quota and the deadline-bounded `poll_oneoff`): running wasmtime-wasi's own
//! preview1 implementation against a sandbox's context.

use crate::state::SandboxState;
use wasmtime::{AsContextMut, Caller};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p1::wasi_snapshot_preview1::WasiSnapshotPreview1;
use wiggle::GuestMemory;

/// Runs a wasmtime-wasi preview1 function against this store's WASI context
/// and the guest's memory, the way wasmtime's own linker glue does: the
/// context's per-call budget of host copying ("hostcall fuel") is reset
/// from the store's setting first. Without that the budget left by some
/// earlier call applies, and calls fail with `ENOMEM` once it runs out.
pub(crate) fn with_wasi(
    caller: &mut Caller<'_, SandboxState>,
    f: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> wasmtime::Result<i32>,
) -> wasmtime::Result<i32> {
    let Some(memory) = caller.data().memory else {
        wasmtime::bail!("the guest has no memory");
    };
    let fuel = caller.as_context_mut().hostcall_fuel();
    let (data, state) = memory.data_and_store_mut(caller);
    state.wasi.set_hostcall_fuel(fuel);
    let mut guest = GuestMemory::Unshared(data);
    f(&mut state.wasi, &mut guest)
}
