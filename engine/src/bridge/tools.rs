//! `call_tools` / `take_reply`: batched tool calls through the embedder's
//! [`ToolBridge`](super::ToolBridge).

use super::memory;
use super::{ToolBridge, ToolCall, ToolResult};
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
    let cap = reply_cap(state.limits.max_memory_bytes);
    let batch = collect_reply(bridge.as_ref(), calls, concurrency, cap);
    let reply = state
        .runtime
        .block_on(async move { tokio::time::timeout_at(deadline.into(), batch).await });
    let Ok(reply) = reply else {
        state.cell.timed_out = true;
        return Err(ErrorCode::Deadline);
    };
    let reply = reply.map_err(|_| ErrorCode::Internal)?;
    let len = reply.len();
    state.cell.reply = Some(reply);
    Ok(len)
}

/// The largest batch reply handed to a guest: an eighth of its memory limit
/// (it needs room for the request, the reply and the Python objects parsed
/// from it, about twice the reply's size). This also
/// bounds what the host holds for one batch: the reply so far plus the
/// calls in flight.
fn reply_cap(max_memory_bytes: u64) -> usize {
    usize::try_from(max_memory_bytes / 8).unwrap_or(usize::MAX)
}

/// Runs the calls (at most `concurrency` at once, results in call order) and
/// serializes each result into the reply as it arrives, so no batch is ever
/// held twice. Once the reply would pass `cap` bytes, the call whose result
/// did not fit and every later one (no longer started) fail with a message
/// saying why.
async fn collect_reply(
    bridge: &dyn ToolBridge,
    calls: Vec<ToolCall>,
    concurrency: usize,
    cap: usize,
) -> serde_json::Result<Vec<u8>> {
    let total = calls.len();
    let mut reply = Vec::with_capacity(64 * total.min(1 << 16));
    reply.push(b'[');
    let mut done = 0;
    let mut results = futures::stream::iter(calls)
        .map(|call| bridge.call(call))
        .buffered(concurrency);
    let mut overflow = None;
    while let Some(result) = results.next().await {
        let start = reply.len();
        if done > 0 {
            reply.push(b',');
        }
        serde_json::to_writer(&mut reply, &result)?;
        if reply.len() > cap {
            reply.truncate(start);
            overflow = Some(done);
            break;
        }
        done += 1;
    }
    drop(results);
    if let Some(first) = overflow {
        let mib = cap >> 20;
        for index in first..total {
            if index > 0 {
                reply.push(b',');
            }
            let message = if index == first {
                format!(
                    "this result did not fit: the batch's results passed {mib} MiB, more than the sandbox can take in one reply; split the batch or ask for less data"
                )
            } else {
                format!(
                    "not run: the batch's results passed {mib} MiB before this call; split the batch or ask for less data"
                )
            };
            serde_json::to_writer(&mut reply, &ToolResult::err(message))?;
        }
    }
    reply.push(b']');
    Ok(reply)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::ToolFuture;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Returns `size` bytes of data per call and counts the calls it ran.
    struct Big {
        size: usize,
        ran: AtomicUsize,
    }

    impl ToolBridge for Big {
        fn call(&self, _call: ToolCall) -> ToolFuture<'_> {
            self.ran.fetch_add(1, Ordering::Relaxed);
            let data = serde_json::Value::String("x".repeat(self.size));
            Box::pin(async move { ToolResult::ok(data) })
        }
    }

    fn calls(n: usize) -> Vec<ToolCall> {
        (0..n)
            .map(|i| ToolCall {
                tool_slug: format!("T{i}"),
                arguments: serde_json::json!({}),
                account: None,
            })
            .collect()
    }

    #[tokio::test]
    async fn replies_within_the_cap_are_whole() {
        let bridge = Big {
            size: 10,
            ran: AtomicUsize::new(0),
        };
        let reply = collect_reply(&bridge, calls(3), 2, 1 << 20).await.unwrap();
        let results: Vec<ToolResult> = serde_json::from_slice(&reply).unwrap();
        assert_eq!(results.len(), 3);
        assert!(results.iter().all(|r| r.successful));
    }

    #[tokio::test]
    async fn replies_past_the_cap_stop_and_say_why() {
        let bridge = Big {
            size: 1000,
            ran: AtomicUsize::new(0),
        };
        let reply = collect_reply(&bridge, calls(1000), 4, 10_000)
            .await
            .unwrap();
        assert!(reply.len() < 10_000 + 200_000, "{}", reply.len());
        let results: Vec<ToolResult> = serde_json::from_slice(&reply).unwrap();
        assert_eq!(results.len(), 1000);
        let fitted = results.iter().take_while(|r| r.successful).count();
        assert!((8..=10).contains(&fitted), "{fitted}");
        assert!(
            results[fitted]
                .error
                .as_deref()
                .unwrap()
                .contains("did not fit")
        );
        assert!(
            results[999]
                .error
                .as_deref()
                .unwrap()
                .starts_with("not run")
        );
        // Calls after the overflow were not started (beyond those in flight).
        assert!(bridge.ran.load(Ordering::Relaxed) < 30);
    }
}
