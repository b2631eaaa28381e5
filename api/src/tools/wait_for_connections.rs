//! COMPOSIO_WAIT_FOR_CONNECTIONS: wait until the user's connections for the
//! given toolkits are active (`mode` any or all), up to `timeout_seconds`.

use super::{ActiveAccount, ToolkitList, Workflow};
use crate::session::{SessionContext, WorkflowSession};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Longest wait a call may ask for.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// The arguments.
#[derive(Debug, Deserialize)]
pub struct Args {
    /// Toolkit slugs (1-50).
    pub toolkits: ToolkitList,
    /// Done when any (the default) or all are connected.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// How long to wait (default 30, at most 120).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// The workflow id echoed back.
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// When the wait is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One connection is active.
    Any,
    /// Every connection is active.
    All,
}

/// The result.
#[derive(Debug, Serialize)]
pub struct Output {
    /// Done, or how far it got.
    pub message: String,
    /// By toolkit slug.
    pub results: BTreeMap<String, Status>,
    /// The workflow id to echo.
    pub session: WorkflowSession,
}

/// One toolkit's status.
#[derive(Debug, Serialize)]
pub struct Status {
    /// ACTIVE, INITIATED or NOT_FOUND.
    pub status: &'static str,
    /// Whether its tools can run now.
    pub has_active_connection: bool,
    /// The active account, when there is one.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub account: Option<ActiveAccount>,
    /// Why it cannot become active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Runs the tool: checks the user's accounts, then again after each write
/// to the project's accounts, until done or the timeout (no polling).
pub async fn run(ctx: &SessionContext, args: &Args) -> Result<(Output, Option<String>), ToolError> {
    let toolkits = args.toolkits.slugs()?;
    let all = args.mode == Some(Mode::All);
    let wait = Duration::from_secs(args.timeout_seconds.unwrap_or(30)).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    // Subscribed before the first read: a write in between is not missed.
    let mut changes = ctx.state.store.account_changes(&ctx.record.project_id);
    loop {
        // Marked seen before the read, so a write after it wakes the wait.
        changes.borrow_and_update();
        let (project, user) = (ctx.record.project_id.clone(), ctx.record.user_id.clone());
        let accounts = ctx
            .state
            .store
            .run(move |store| store.accounts_for_user(&project, &user, None))
            .await
            .map_err(ToolError::internal)?;
        let mut results = BTreeMap::new();
        let mut active = 0;
        for slug in &toolkits {
            let no_auth = ctx
                .state
                .catalog()
                .toolkit(slug)
                .map(|t| t.auth.schemes.iter().all(|s| s == "NO_AUTH"));
            let account = accounts
                .iter()
                .find(|a| &a.toolkit == slug && a.is_usable());
            let status = |status, has_active_connection| Status {
                status,
                has_active_connection,
                account: None,
                error_message: None,
            };
            let entry = match (no_auth, account) {
                (None, _) => Status {
                    error_message: Some(format!("unknown toolkit {slug}")),
                    ..status("NOT_FOUND", false)
                },
                (Some(true), _) => status("ACTIVE", true),
                (Some(false), Some(a)) => Status {
                    account: Some(ActiveAccount::of(a)),
                    ..status("ACTIVE", true)
                },
                (Some(false), None) => status("INITIATED", false),
            };
            if entry.has_active_connection {
                active += 1;
            }
            results.insert(slug.clone(), entry);
        }
        let done = if all {
            active == toolkits.len()
        } else {
            active > 0
        };
        if done || tokio::time::Instant::now() >= deadline {
            let output = Output {
                message: if done {
                    "connections are active".to_owned()
                } else {
                    format!(
                        "timed out after {} s: {active} of {} toolkits connected",
                        wait.as_secs(),
                        toolkits.len()
                    )
                },
                results,
                session: ctx.workflow_session(args.workflow.id()),
            };
            let error = (!done).then(|| "timed out waiting for connections".to_owned());
            return Ok((output, error));
        }
        // Woken by the next write (or the deadline); a closed channel
        // cannot happen while the store lives, but would end the wait.
        if tokio::time::timeout_at(deadline, changes.changed())
            .await
            .is_ok_and(|changed| changed.is_err())
        {
            return Err(ToolError::internal("account change notifications stopped"));
        }
    }
}
