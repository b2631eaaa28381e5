//! Batched tool calls through the host.

use crate::error::HostError;
use crate::raw;

/// Sends a JSON batch of tool calls (see [`crate::abi::IMPORT_CALL_TOOLS`])
/// and returns the host's JSON reply, one result per call in request order.
///
/// `max_concurrency` of `0` lets the host choose.
pub fn call_tools(request_json: &[u8], max_concurrency: u32) -> Result<Vec<u8>, HostError> {
    let len = u32::try_from(request_json.len()).map_err(|_| HostError {
        code: crate::abi::ErrorCode::InvalidArgument,
    })?;
    // SAFETY: the pointer and length describe a live, borrowed slice.
    let reply_len = unsafe { raw::call_tools(request_json.as_ptr() as u32, len, max_concurrency) };
    if let Some(err) = HostError::from_return(reply_len) {
        return Err(err);
    }
    take_reply(reply_len as usize)
}

fn take_reply(len: usize) -> Result<Vec<u8>, HostError> {
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is a live, writable buffer of exactly `len` bytes.
    let rc = unsafe { raw::take_reply(buf.as_mut_ptr() as u32, len as u32) };
    match HostError::from_return(i64::from(rc)) {
        Some(err) => Err(err),
        None => Ok(buf),
    }
}
