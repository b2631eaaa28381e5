//! [`EngineError`], the error type at this crate's boundary.

use std::path::PathBuf;

/// The source of a wasmtime failure (wasmtime's own error type, boxed so it
/// can sit in a `source` chain).
pub type WasmError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the engine or a sandbox could not do what was asked. A cell that
/// fails is not an error: it is a [`crate::CellOutcome`] with a status.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The wasmtime engine rejected its configuration.
    #[error("failed to configure the wasm engine")]
    Config(#[source] WasmError),
    /// The runtime could not be pre-initialised or compiled.
    #[error("failed to prepare the Python runtime")]
    Runtime(#[source] WasmError),
    /// The compiled-module cache could not be used.
    #[error("cache directory {path}")]
    Cache {
        /// The cache path involved.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A workbench directory could not be created or opened.
    #[error("workbench directory {path}")]
    Workbench {
        /// The host directory involved.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A new instance could not be created (e.g. every pool slot is in use).
    #[error("failed to start a sandbox")]
    Instantiate(#[source] WasmError),
    /// The sandbox's worker thread is gone (it was dropped or panicked).
    #[error("the sandbox is no longer running")]
    SandboxGone,
    /// A checkpoint cannot be restored.
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    /// Sandboxes must be built inside a tokio runtime (tool batches run on it).
    #[error("sandboxes must be built inside a tokio runtime")]
    NoRuntime,
}

/// `text` cut to at most `max` bytes (at a character boundary).
pub(crate) fn clip_message(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub(crate) fn wasm(err: wasmtime::Error) -> WasmError {
    err.into()
}
