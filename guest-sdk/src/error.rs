//! Decoding of negative import results.

use crate::abi::ErrorCode;
use std::fmt;

/// Why a host import failed, decoded from its negative return value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostError {
    /// The decoded code; unknown codes decode as [`ErrorCode::Internal`].
    pub code: ErrorCode,
}

impl HostError {
    /// Decodes a negative import return value. Non-negative values are not
    /// errors and return `None`.
    pub fn from_return(value: i64) -> Option<HostError> {
        if value >= 0 {
            return None;
        }
        let code = u32::try_from(value.unsigned_abs())
            .ok()
            .and_then(ErrorCode::from_u32)
            .unwrap_or(ErrorCode::Internal);
        Some(HostError { code })
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self.code {
            ErrorCode::InvalidArgument => "the host rejected the request as malformed",
            ErrorCode::ToolLimit => "the cell exceeded its tool call limit",
            ErrorCode::OutputLimit => "the cell exceeded its output limit",
            ErrorCode::Deadline => "the cell's deadline passed",
            ErrorCode::NoReply => "no host reply was pending",
            ErrorCode::Internal => "the host failed internally",
        };
        f.write_str(text)
    }
}

impl std::error::Error for HostError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_known_unknown_and_success() {
        assert_eq!(HostError::from_return(0), None);
        assert_eq!(HostError::from_return(42), None);
        assert_eq!(
            HostError::from_return(-2).map(|e| e.code),
            Some(ErrorCode::ToolLimit)
        );
        assert_eq!(
            HostError::from_return(-99).map(|e| e.code),
            Some(ErrorCode::Internal)
        );
        assert_eq!(
            HostError::from_return(i64::MIN).map(|e| e.code),
            Some(ErrorCode::Internal)
        );
    }
}
