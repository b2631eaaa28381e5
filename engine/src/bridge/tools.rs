//! `call_tools` / `take_reply`: batched tool calls through the embedder's
//! [`ToolBridge`](super::ToolBridge).

use super::memory;
use super::{ToolCall, ToolResult};
use crate::state::SandboxState;
use futures::StreamExt;
use toolshed_guest_sdk::abi::ErrorCode;
use wasmtime::Caller;

/// Most calls of one batch that may run at once, whatever the cell asks.
const MAX_BATCH_CONCURRENCY: usize = 1000;

pub(crate) fn call_tools(
    mut caller: Caller<'_, SandboxState>,
    req_ptr: u32,
    req_len: u32,
    max_concurrency: u32,
) -> wasmtime::Result<i64> {
    Ok(match run(&mut caller, req_ptr, req_len, max_concurrency) {
        Ok(len) => len as i64,
        Err(code) => i64::from(code.to_return()),
    })
}

fn run(
    caller: &mut Caller<'_, SandboxState>,
    req_ptr: u32,
    req_len: u32,
    max_concurrency: u32,
) -> Result<usize, ErrorCode> {
    let memory = caller.data().memory.ok_or(ErrorCode::Internal)?;
    let calls: Vec<ToolCall> = {
        let bytes = memory::read(memory.data(&*caller), req_ptr, req_len)?;
        serde_json::from_slice(bytes).map_err(|_| ErrorCode::InvalidArgument)?
    };
    let state = caller.data_mut();
    state.cell.reply = None;
    let made = state.cell.tool_calls.saturating_add(calls.len() as u64);
    if made > state.limits.max_tool_calls {
        state.cell.tool_limit_hit = true;
        return Err(ErrorCode::ToolLimit);
    }
    state.cell.tool_calls = made;

    let concurrency = match max_concurrency {
        0 => state.limits.tool_concurrency,
        n => n as usize,
    }
    .clamp(1, MAX_BATCH_CONCURRENCY);
    let bridge = state.bridge.clone();
    let deadline = state.cell.soft_deadline;
    let batch = async move {
        futures::stream::iter(calls)
            .map(|call| bridge.call(call))
            .buffered(concurrency)
            .collect::<Vec<ToolResult>>()
            .await
    };
    let results = state
        .runtime
        .block_on(async move { tokio::time::timeout_at(deadline.into(), batch).await });
    let Ok(results) = results else {
        state.cell.timed_out = true;
        return Err(ErrorCode::Deadline);
    };
    let reply = serde_json::to_vec(&results).map_err(|_| ErrorCode::Internal)?;
    let len = reply.len();
    state.cell.reply = Some(reply);
    Ok(len)
}

pub(crate) fn take_reply(
    mut caller: Caller<'_, SandboxState>,
    dst_ptr: u32,
    dst_len: u32,
) -> wasmtime::Result<i32> {
    let Some(memory) = caller.data().memory else {
        return Ok(ErrorCode::Internal.to_return());
    };
    let Some(reply) = caller.data_mut().cell.reply.take() else {
        return Ok(ErrorCode::NoReply.to_return());
    };
    if reply.len() != dst_len as usize {
        return Ok(ErrorCode::InvalidArgument.to_return());
    }
    Ok(
        match memory::write(memory.data_mut(&mut caller), dst_ptr, &reply) {
            Ok(()) => 0,
            Err(code) => code.to_return(),
        },
    )
}
