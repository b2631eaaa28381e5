//! The [`ToolBridge`] of a session's sandbox: `run_composio_tool(s)` in a
//! cell runs the session's app tools with its connected accounts. Only
//! slugs and arguments cross from the guest; credentials stay here.

use crate::session::app_tools::{self, AppTools, Caller};
use crate::session::config::SessionConfig;
use std::sync::{Arc, RwLock};
use toolshed_engine::bridge::ToolFuture;
use toolshed_engine::{ToolBridge, ToolCall, ToolResult};

/// The bridge of one session.
pub struct SessionBridge {
    /// What running app tools needs.
    pub tools: AppTools,
    /// The project.
    pub project_id: String,
    /// The session.
    pub session_id: String,
    /// Its user.
    pub user_id: String,
    /// Its current config (kept up to date by the session's requests).
    pub config: Arc<RwLock<Arc<SessionConfig>>>,
}

impl ToolBridge for SessionBridge {
    fn call(&self, call: ToolCall) -> ToolFuture<'_> {
        Box::pin(async move {
            if call.tool_slug.starts_with("COMPOSIO_") {
                return ToolResult::err(format!(
                    "{} is a meta tool; call app tools from the workbench (meta tools are for the agent)",
                    call.tool_slug
                ));
            }
            let config = self
                .config
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if !config.workbench.tool_execution_enabled {
                return ToolResult::err(
                    "tool execution from the workbench is disabled in this session's config",
                );
            }
            let caller = Caller {
                project_id: &self.project_id,
                session_id: Some(&self.session_id),
                user_id: &self.user_id,
                config: &config,
            };
            match app_tools::execute(
                &self.tools,
                &caller,
                &call.tool_slug,
                &call.arguments,
                call.account.as_deref(),
            )
            .await
            {
                Ok(outcome) => ToolResult {
                    successful: outcome.execution.successful,
                    data: outcome.execution.data,
                    error: outcome.execution.error,
                },
                Err(_) => ToolResult::err("the server could not record the call; try again"),
            }
        })
    }
}
