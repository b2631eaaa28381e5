//! `write_output`: the cell's stdout and stderr, appended to the cell's
//! [`OutputSink`](crate::output::OutputSink)s.

use super::memory;
use crate::state::SandboxState;
use toolshed_guest_sdk::abi::{ErrorCode, STREAM_STDERR, STREAM_STDOUT};
use wasmtime::Caller;

pub(crate) fn write_output(
    mut caller: Caller<'_, SandboxState>,
    stream: u32,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<i32> {
    let Some(mem) = caller.data().memory else {
        return Ok(ErrorCode::Internal.to_return());
    };
    let (data, state) = mem.data_and_store_mut(&mut caller);
    let text = match memory::read(data, ptr, len).map(std::str::from_utf8) {
        Ok(Ok(text)) => text,
        _ => return Ok(ErrorCode::InvalidArgument.to_return()),
    };
    let sink = match stream {
        STREAM_STDOUT => &mut state.cell.stdout,
        STREAM_STDERR => &mut state.cell.stderr,
        _ => return Ok(ErrorCode::InvalidArgument.to_return()),
    };
    Ok(match sink.append(text, &mut state.quota) {
        Ok(()) => 0,
        Err(code) => {
            if code == ErrorCode::OutputLimit {
                state.cell.output_limit_hit = true;
            }
            code.to_return()
        }
    })
}
