//! The cell's stdout and stderr, streamed to the host as they are written.

use crate::abi::{STREAM_STDERR, STREAM_STDOUT};
use crate::error::HostError;
use crate::raw;

/// Which output stream to write to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Appends `text` to the cell's output. Fails with
/// [`crate::abi::ErrorCode::OutputLimit`] once the cell wrote too much.
pub fn write(stream: Stream, text: &str) -> Result<(), HostError> {
    let id = match stream {
        Stream::Stdout => STREAM_STDOUT,
        Stream::Stderr => STREAM_STDERR,
    };
    // SAFETY: the pointer and length describe a live, borrowed str.
    let rc = unsafe { raw::write_output(id, text.as_ptr() as u32, text.len() as u32) };
    match HostError::from_return(i64::from(rc)) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}
