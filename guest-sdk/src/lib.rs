//! Guest side of the toolshed host bridge, for any `wasm32-wasip1` guest.
//!
//! # Layout
//!
//! - [`abi`]: the ABI itself (names, memory ownership, error codes); the
//!   host engine imports these constants, so it has no dependencies.
//! - [`error`]: [`HostError`], the decoded form of a negative import result.
//! - `raw` (wasm32 only): the `extern "C"` imports.
//! - [`tools`], [`output`], [`clock`] (wasm32 only): one safe wrapper per
//!   host capability. None of them unwraps a host reply.
#![deny(missing_docs)]
#![cfg_attr(
    target_arch = "wasm32",
    allow(unsafe_code, reason = "calls the host's extern imports")
)]

pub mod abi;
pub mod error;

#[cfg(target_arch = "wasm32")]
mod raw;

#[cfg(target_arch = "wasm32")]
pub mod clock;
#[cfg(target_arch = "wasm32")]
pub mod output;
#[cfg(target_arch = "wasm32")]
pub mod tools;

pub use error::HostError;
