//! The host side of toolshed's sandbox: persistent Python interpreters
//! (RustPython compiled to `wasm32-wasip1`) run by wasmtime, each with its
//! own workbench directories, limits and a bridge to the embedder's tools.
//!
//! ```no_run
//! # async fn demo() -> Result<(), toolshed_engine::EngineError> {
//! use toolshed_engine::{Engine, EngineConfig, Limits};
//! let engine = Engine::new(EngineConfig::default())?;
//! let sandbox = engine
//!     .sandbox("/srv/toolshed/sessions/s1/home", "/srv/toolshed/sessions/s1/files")
//!     .limits(Limits::default())
//!     .build()?;
//! let cell = sandbox.run_cell("x = 40 + 2\nx").await?;
//! assert_eq!(cell.result.as_deref(), Some("42"));
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`config`]: [`EngineConfig`], process-wide settings (cache dir, pool size).
//! - [`limits`]: [`Limits`], per-sandbox caps (deadline, memory, output, disk,
//!   tool calls, recursion).
//! - `engine`: [`Engine`]: the one wasmtime engine, the compiled and
//!   pre-initialised runtime module (cached on disk), the epoch ticker.
//! - `snapshot`: pre-initialising the runtime with wasmtime-wizer and
//!   caching the compiled result.
//! - `sandbox`: [`Sandbox`] and [`SandboxBuilder`]: a worker thread per
//!   sandbox that runs its cells in order and replaces a trapped instance.
//! - `instance`: one live instance and the wasm calls made on it.
//! - `state`: what a store holds (per instance, per cell) and the memory
//!   limiter; the leaf the host functions work on.
//! - `deadline`: the epoch-deadline callback (soft interrupts, hard stop).
//! - [`cell`]: [`CellOutcome`], the JSON envelope of one cell, and how its
//!   status is decided from the host's records.
//! - `workbench`: the two guest directories and the fixed environment.
//! - `quota`: the disk quota (bytes and inodes) and the WASI write wrappers
//!   that enforce it; `poll`: WASI `poll_oneoff` bounded by the deadline;
//!   `wasi`: their shared plumbing.
//! - `output`: a cell's stdout/stderr, inline up to a cap, then spilled.
//! - [`tool`]: the [`ToolBridge`] trait the embedder implements.
//! - [`bridge`]: the `toolshed:host/v1` imports (tools, output, sleep).
//! - [`error`]: the crate's error type, [`EngineError`].
//!
//! # When each phase runs
//!
//! - **Once per binary version** (first start): the runtime is pre-initialised
//!   (VM start + helpers, ~10 s) and compiled (~10 s); the result is cached in
//!   [`EngineConfig::cache_dir`] keyed by the runtime's hash and wasmtime's
//!   version. Later starts load it with mmap in milliseconds.
//! - **Once per process**: [`Engine::new`] (loads the module, starts the
//!   epoch ticker).
//! - **Once per sandbox** (and after every hard stop): a copy-on-write
//!   instance of the snapshot, a WASI context and a worker thread.
//! - **Per cell**: [`Sandbox::run_cell`].
//!
//! # Threads and async
//!
//! Guest code runs on the sandbox's own worker thread, never on an async
//! runtime thread, so a CPU-bound cell cannot starve other sessions. Tool
//! batches are futures: the worker waits on them with the tokio runtime the
//! sandbox was built in. WASI file operations run on the worker itself
//! (they block it, not an async thread). The store itself is synchronous
//! because the soft interrupt re-enters the guest from the epoch callback,
//! which wasmtime only allows for synchronous stores (async stores refuse
//! nested blocking calls).
#![deny(missing_docs)]

pub mod bridge;
pub mod cell;
pub mod checkpoint;
pub mod config;
mod deadline;
mod engine;
pub mod error;
mod instance;
pub mod limits;
mod output;
mod poll;
mod quota;
mod sandbox;
mod snapshot;
mod state;
pub mod tool;
mod wasi;
mod workbench;

pub use cell::{CellError, CellKind, CellOutcome, CellStatus};
pub use checkpoint::{CheckpointError, FORMAT_VERSION as CHECKPOINT_FORMAT_VERSION};
pub use config::EngineConfig;
pub use engine::Engine;
pub use error::EngineError;
pub use instance::MAX_CELL_SOURCE_BYTES;
pub use limits::Limits;
pub use quota::DiskUsage;
pub use sandbox::{Sandbox, SandboxBuilder};
pub use tool::{NoTools, ToolBridge, ToolCall, ToolFuture, ToolResult};
