//! Sleeping that respects the cell's deadline.

use crate::error::HostError;
use crate::raw;

/// Sleeps for `millis`, or until the cell's deadline if that comes first
/// (then returns [`crate::abi::ErrorCode::Deadline`]).
pub fn sleep_ms(millis: u64) -> Result<(), HostError> {
    // SAFETY: no memory is passed.
    let rc = unsafe { raw::sleep(millis) };
    match HostError::from_return(i64::from(rc)) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}
