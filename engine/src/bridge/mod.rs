//! The `toolshed:host/v1` imports and the [`ToolBridge`] the embedder
//! implements.
//!
//! Every import is registered from one table (`register`), under the same
//! name the guest uses (see `toolshed_guest_sdk::abi`). Each capability has
//! its own file; guest memory is only touched through [`memory`]'s checked
//! accessors. Host functions return `wasmtime::Result<i32 | i64>`: an `Err`
//! traps the guest, a negative value is an ABI error code it handles.

mod clock;
pub(crate) mod memory;
mod output;
mod tools;

pub(crate) use output::{OutputSink, SpillTarget};

use crate::store::SandboxState;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use toolshed_guest_sdk::abi;

/// One tool call a cell asked for. Carries the slug and arguments only:
/// credentials are the embedder's business and never enter the guest.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ToolCall {
    /// The tool's slug, upper-cased by the guest helper (e.g. `GITHUB_GET_ISSUE`).
    pub tool_slug: String,
    /// The tool's arguments (a JSON object).
    #[serde(default)]
    pub arguments: serde_json::Value,
    /// Which connected account to use, when the cell names one.
    #[serde(default)]
    pub account: Option<String>,
}

/// The outcome of one tool call, as the cell sees it.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ToolResult {
    /// Whether the tool succeeded.
    pub successful: bool,
    /// The tool's data (on failure, whatever partial data it returned).
    pub data: serde_json::Value,
    /// A message for the cell when `successful` is false.
    pub error: Option<String>,
}

impl ToolResult {
    /// A successful result.
    pub fn ok(data: serde_json::Value) -> Self {
        ToolResult {
            successful: true,
            data,
            error: None,
        }
    }

    /// A failed result with a message for the cell.
    pub fn err(message: impl Into<String>) -> Self {
        ToolResult {
            successful: false,
            data: serde_json::Value::Null,
            error: Some(message.into()),
        }
    }
}

/// A boxed future returned by [`ToolBridge::call`].
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = ToolResult> + Send + 'a>>;

/// Runs the tools a cell calls. The engine runs the calls of one batch
/// concurrently (bounded by the cell's `max_concurrency` or
/// [`crate::Limits::tool_concurrency`]) and returns results in call order.
///
/// Implementations must not panic: a failing tool is a [`ToolResult::err`].
pub trait ToolBridge: Send + Sync + 'static {
    /// Runs one call.
    fn call(&self, call: ToolCall) -> ToolFuture<'_>;
}

/// A bridge with no tools: every call fails with "unknown tool". Useful for
/// sandboxes that only transform data.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTools;

impl ToolBridge for NoTools {
    fn call(&self, call: ToolCall) -> ToolFuture<'_> {
        Box::pin(async move {
            ToolResult::err(format!(
                "unknown tool {}: this sandbox has no tools",
                call.tool_slug
            ))
        })
    }
}

/// Registers every host import with the linker.
pub(crate) fn register(linker: &mut wasmtime::Linker<SandboxState>) -> wasmtime::Result<()> {
    macro_rules! imports {
        ($($module:ident :: $name:ident),* $(,)?) => {
            $( linker.func_wrap(abi::HOST_MODULE, stringify!($name), $module::$name)?; )*
        };
    }
    imports! {
        tools::call_tools,
        tools::take_reply,
        output::write_output,
        clock::sleep,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use toolshed_guest_sdk::abi;

    #[test]
    fn import_names_match_the_abi() {
        // `register` uses the Rust function names; they must be the ABI's.
        assert_eq!(abi::IMPORT_CALL_TOOLS, "call_tools");
        assert_eq!(abi::IMPORT_TAKE_REPLY, "take_reply");
        assert_eq!(abi::IMPORT_WRITE_OUTPUT, "write_output");
        assert_eq!(abi::IMPORT_SLEEP, "sleep");
    }
}
