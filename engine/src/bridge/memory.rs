//! Checked access to guest memory. Every pointer and length a guest passes
//! is bounds-checked here; nothing trusts the guest.

use toolshed_guest_sdk::abi::ErrorCode;

/// Borrows `len` bytes at `ptr`, or `InvalidArgument` if any is out of bounds.
pub(crate) fn read(memory: &[u8], ptr: u32, len: u32) -> Result<&[u8], ErrorCode> {
    let start = ptr as usize;
    let end = start
        .checked_add(len as usize)
        .ok_or(ErrorCode::InvalidArgument)?;
    memory.get(start..end).ok_or(ErrorCode::InvalidArgument)
}

/// Copies `data` to `ptr`, or `InvalidArgument` if it does not fit.
pub(crate) fn write(memory: &mut [u8], ptr: u32, data: &[u8]) -> Result<(), ErrorCode> {
    let start = ptr as usize;
    let end = start
        .checked_add(data.len())
        .ok_or(ErrorCode::InvalidArgument)?;
    memory
        .get_mut(start..end)
        .ok_or(ErrorCode::InvalidArgument)?
        .copy_from_slice(data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_bounds_and_rejects_the_rest() {
        let mem = [1u8, 2, 3, 4];
        assert_eq!(read(&mem, 1, 2), Ok(&mem[1..3]));
        assert_eq!(read(&mem, 4, 0), Ok(&mem[4..4]));
        assert_eq!(read(&mem, 3, 2), Err(ErrorCode::InvalidArgument));
        assert_eq!(
            read(&mem, u32::MAX, u32::MAX),
            Err(ErrorCode::InvalidArgument)
        );
    }

    #[test]
    fn writes_in_bounds_and_rejects_the_rest() {
        let mut mem = [0u8; 4];
        assert_eq!(write(&mut mem, 2, &[7, 8]), Ok(()));
        assert_eq!(mem, [0, 0, 7, 8]);
        assert_eq!(write(&mut mem, 3, &[1, 2]), Err(ErrorCode::InvalidArgument));
        assert_eq!(
            write(&mut mem, u32::MAX, &[1]),
            Err(ErrorCode::InvalidArgument)
        );
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever a guest passes, reads and writes never panic and
            /// succeed exactly when the range is inside memory.
            #[test]
            fn guest_ranges_are_checked(size in 0usize..4096, ptr: u32, len in 0u32..8192) {
                let mut mem = vec![7u8; size];
                let inside = (ptr as u64) + (len as u64) <= size as u64;
                prop_assert_eq!(read(&mem, ptr, len).is_ok(), inside);
                let data = vec![1u8; len as usize];
                prop_assert_eq!(write(&mut mem, ptr, &data).is_ok(), inside);
                if inside {
                    prop_assert_eq!(read(&mem, ptr, len).unwrap(), &data[..]);
                }
            }
        }
    }
}
