//! [`ToolBridge`]: how the embedder runs the tools a cell calls, and the
//! [`ToolCall`] / [`ToolResult`] that cross it.

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

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
