//! Running any tool of a session, meta or app, and logging it: what REST
//! `execute`/`execute_meta` and MCP `tools/call` share.

use super::MetaTool;
use crate::keys;
use crate::session::SessionContext;
use crate::session::app_tools::{self, Caller};
use crate::session::approval::{self, Asking, InputRequired, Settled};
use crate::store::{LogRecord, now};
use crate::tool_error::ToolError;
use serde_json::{Map, Value, json};
use std::time::Instant;

/// Options that only apply to app tools.
#[derive(Debug, Default)]
pub struct AppToolOptions {
    /// A connected account id or alias to use.
    pub account: Option<String>,
    /// Offload a large response to the files mount (the SDK's agentic
    /// wrappers ask for it).
    pub offload: bool,
}

/// A tool call that ran (successfully or not).
#[derive(Debug)]
pub struct Executed {
    /// The tool's data, always a JSON object (arrays and scalars are
    /// wrapped as `{"value": ...}`: the TypeScript SDK requires an object).
    pub data: Value,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Its tool-execution log.
    pub log_id: String,
}

/// How a call ended: it ran, or it waits for the user's approval.
pub enum Ran {
    /// It ran (successfully or not).
    Executed(Executed),
    /// Nothing ran: the app must ask the user.
    InputRequired(InputRequired),
}

/// Runs `slug` with `arguments` in the session where nothing can ask the
/// user (MCP): calls that need approval fail, unless the session's
/// `no_elicitation_support_fallback` is `allow`.
pub async fn execute(
    ctx: &SessionContext,
    slug: &str,
    arguments: Map<String, Value>,
    options: AppToolOptions,
) -> Result<Executed, ToolError> {
    match execute_asking(ctx, slug, arguments, options, Asking::Cannot).await? {
        Ran::Executed(executed) => Ok(executed),
        Ran::InputRequired(_) => Err(ToolError::NotApproved(format!(
            "{slug} needs the user's approval"
        ))),
    }
}

/// Runs `slug` with `arguments` in the session, first settling approvals
/// (see [`crate::session::approval`]). Answers once the logs it wrote are
/// committed (one group commit, awaited without holding a worker), so a
/// `log_id` the caller got survives a crash.
pub async fn execute_asking(
    ctx: &SessionContext,
    slug: &str,
    arguments: Map<String, Value>,
    options: AppToolOptions,
    asking: Asking,
) -> Result<Ran, ToolError> {
    let approved =
        match approval::settle(ctx, slug, &arguments, options.account.as_deref(), asking).await? {
            Settled::Ask(question) => return Ok(Ran::InputRequired(question)),
            Settled::Run(approved) => approved,
        };
    let ctx = &ctx.with_approved(approved);
    let executed = match MetaTool::from_slug(slug) {
        Some(meta) => run_meta(ctx, meta, arguments).await,
        None => run_app(ctx, slug, arguments, options).await,
    };
    ctx.state.store.logs_committed().await;
    executed.map(Ran::Executed)
}

async fn run_meta(
    ctx: &SessionContext,
    meta: MetaTool,
    arguments: Map<String, Value>,
) -> Result<Executed, ToolError> {
    let started = Instant::now();
    let ran = meta.run(ctx, Value::Object(arguments)).await;
    // Calls that failed before running are logged too.
    let error = match &ran {
        Ok(output) => output.error.clone(),
        Err(err) => Some(crate::error::clip(&err.to_string(), 1024)),
    };
    let log = LogRecord {
        id: keys::new_id("log_"),
        project_id: ctx.record.project_id.clone(),
        session_id: Some(ctx.record.id.clone()),
        tool_slug: meta.slug().to_owned(),
        successful: error.is_none(),
        error: error.clone(),
        duration_ms: started.elapsed().as_millis() as i64,
        created_at: now(),
    };
    ctx.state.store.add_log(&log).map_err(ToolError::internal)?;
    let super::ToolOutput { data, error } = ran?;
    Ok(Executed {
        data: as_object(data),
        error,
        log_id: log.id,
    })
}

/// An app tool: inline unless the caller asked for offload and the
/// response is over the session's threshold.
async fn run_app(
    ctx: &SessionContext,
    slug: &str,
    arguments: Map<String, Value>,
    options: AppToolOptions,
) -> Result<Executed, ToolError> {
    // A custom tool goes on to fail, logged, with where it runs.
    if ctx.state.catalog().tool(slug).is_none() && !crate::session::custom_tools::is_custom(slug) {
        return Err(ToolError::UnknownTool(crate::error::clip(slug, 128)));
    }
    if options.offload && ctx.config.flag("workbench") {
        let call = super::multi_execute::Args {
            tools: vec![super::multi_execute::Call {
                tool_slug: slug.to_owned(),
                arguments: Some(arguments),
                account: options.account,
            }],
            sync_response_to_workbench: Some(false),
            memory: None,
            workflow: super::Workflow::default(),
        };
        let (output, error) = super::multi_execute::run(ctx, &call).await?;
        let result = &output.results[0]["response"];
        let data = if result.get("data_preview").is_some() {
            json!({"data_preview": result["data_preview"], "remote_file_info": result["remote_file_info"], "preview_note": result["preview_note"]})
        } else {
            result["data"].clone()
        };
        return Ok(Executed {
            data: as_object(data),
            error: error.and(result["error"].as_str().map(str::to_owned)),
            log_id: result["log_id"].as_str().unwrap_or_default().to_owned(),
        });
    }
    let caller = Caller {
        project_id: &ctx.record.project_id,
        session_id: Some(&ctx.record.id),
        user_id: &ctx.record.user_id,
        config: &ctx.config,
        approved: &ctx.approved,
    };
    let outcome = app_tools::execute(
        &ctx.state.app_tools(),
        &caller,
        slug,
        &Value::Object(arguments),
        options.account.as_deref(),
    )
    .await?;
    Ok(Executed {
        data: as_object(outcome.execution.data),
        error: outcome.execution.error,
        log_id: outcome.log_id,
    })
}

/// `data` as an object: `null` is `{}`, other non-objects `{"value": ...}`.
pub(crate) fn as_object(data: Value) -> Value {
    match data {
        Value::Object(_) => data,
        Value::Null => json!({}),
        other => json!({"value": other}),
    }
}
