//! `sleep`: the guest's `time.sleep`, cut short by the cell's deadline.

use crate::state::SandboxState;
use std::time::Duration;
use toolshed_guest_sdk::abi::ErrorCode;
use wasmtime::Caller;

pub(crate) fn sleep(mut caller: Caller<'_, SandboxState>, millis: u64) -> wasmtime::Result<i32> {
    let slept = caller.data_mut().cell.sleep(Duration::from_millis(millis));
    Ok(if slept {
        0
    } else {
        ErrorCode::Deadline.to_return()
    })
}
