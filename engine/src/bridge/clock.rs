//! `sleep`: the guest's `time.sleep`, cut short by the cell's deadline.

use crate::state::SandboxState;
use std::time::{Duration, Instant};
use toolshed_guest_sdk::abi::ErrorCode;
use wasmtime::Caller;

pub(crate) fn sleep(mut caller: Caller<'_, SandboxState>, millis: u64) -> wasmtime::Result<i32> {
    let deadline = caller.data().cell.soft_deadline;
    let now = Instant::now();
    let wanted = now.checked_add(Duration::from_millis(millis));
    match wanted {
        Some(until) if until <= deadline => {
            std::thread::sleep(until - now);
            Ok(0)
        }
        _ => {
            std::thread::sleep(deadline.saturating_duration_since(now));
            caller.data_mut().cell.timed_out = true;
            Ok(ErrorCode::Deadline.to_return())
        }
    }
}
