//! The [`ToolBridge`] of a session's sandbox: `run_composio_tool(s)` in a
//! cell runs the session's app tools with its connected accounts, and
//! `proxy_execute(...)` (the call [`PROXY_SLUG`]) sends a request to a
//! toolkit's API with them. Only slugs and arguments cross from the guest;
//! credentials stay here.

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
    /// `invoke_llm` and `web_search`.
    pub helpers: Arc<super::helpers::Helpers>,
    /// `upload_local_file`'s download URLs.
    pub links: super::helpers::FileLinks,
}

/// The slug the workbench's `proxy_execute` helper calls with.
pub const PROXY_SLUG: &str = "COMPOSIO_PROXY_EXECUTE";

impl ToolBridge for SessionBridge {
    fn call(&self, call: ToolCall) -> ToolFuture<'_> {
        Box::pin(async move {
            if super::helpers::Helpers::handles(&call.tool_slug) {
                let config = self
                    .config
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let caller = Caller {
                    project_id: &self.project_id,
                    session_id: Some(&self.session_id),
                    user_id: &self.user_id,
                    config: &config,
                    approved: &crate::session::approval::NOT_ASKED,
                };
                return self
                    .helpers
                    .run(
                        &call.tool_slug,
                        &self.tools,
                        &caller,
                        call.arguments,
                        config.workbench.tool_execution_enabled,
                        &self.links,
                    )
                    .await;
            }
            if call.tool_slug.starts_with("COMPOSIO_") && call.tool_slug != PROXY_SLUG {
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
                approved: &crate::session::approval::NOT_ASKED,
            };
            if call.tool_slug == PROXY_SLUG {
                if !config.workbench.proxy_execution_enabled {
                    return ToolResult::err(
                        "proxy requests from the workbench are disabled in this session's config (workbench.enable_proxy_execution)",
                    );
                }
                return proxy(&self.tools, &caller, call.arguments).await;
            }
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

/// A cell's `proxy_execute`: the upstream's `{status, data, headers}`, or
/// why the request was not made.
async fn proxy(tools: &AppTools, caller: &Caller<'_>, arguments: serde_json::Value) -> ToolResult {
    let args: super::proxy::Args = match crate::tool_error::parse_arguments(arguments) {
        Ok(args) => args,
        Err(err) => return ToolResult::err(err.to_string()),
    };
    match super::proxy::run(tools, caller, args).await {
        Ok(output) => ToolResult {
            successful: true,
            data: serde_json::to_value(output).unwrap_or_default(),
            error: None,
        },
        Err(err) => ToolResult::err(err.to_string()),
    }
}
