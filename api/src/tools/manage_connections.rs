//! COMPOSIO_MANAGE_CONNECTIONS: the session user's connection status per
//! toolkit. Accounts with API-key or bearer-token credentials are created
//! with `POST /api/v3.1/connected_accounts`; hosted OAuth connect links are
//! not offered by this server yet, so a missing connection is reported as
//! `failed` with instructions rather than as a link that cannot complete.

use super::{ActiveAccount, ToolkitList, Workflow};
use crate::session::{SessionContext, WorkflowSession};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The arguments.
#[derive(Debug, Deserialize)]
pub struct Args {
    /// Toolkit slugs (1-50).
    pub toolkits: ToolkitList,
    /// Accepted for compatibility; connections are not re-initiated here.
    #[serde(default)]
    pub reinitiate_all: Option<bool>,
    /// The workflow id echoed back.
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// The result.
#[derive(Debug, Serialize)]
pub struct Output {
    /// "N of M toolkits are connected".
    pub message: String,
    /// By toolkit slug.
    pub results: BTreeMap<String, Connection>,
    /// Counts.
    pub summary: Summary,
    /// The workflow id to echo.
    pub session: WorkflowSession,
}

/// One toolkit's connection.
#[derive(Debug, Default, Serialize)]
pub struct Connection {
    /// The toolkit slug.
    pub toolkit: String,
    /// active or failed.
    pub status: &'static str,
    /// Whether its tools can run now.
    pub has_active_connection: bool,
    /// The account used, when there is one.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub account: Option<ActiveAccount>,
    /// Why it is not active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// What to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
}

/// Counts of the results.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Toolkits asked about.
    pub total_toolkits: usize,
    /// Connected.
    pub active_connections: usize,
    /// Started here (always 0: no hosted connect links yet).
    pub initiated_connections: usize,
    /// Not connected.
    pub failed_connections: usize,
}

/// Runs the tool (on a blocking thread: it reads the store).
pub fn run(ctx: &SessionContext, args: &Args) -> Result<Output, ToolError> {
    let toolkits = args.toolkits.slugs()?;
    let catalog = &ctx.state.catalog;
    let accounts = ctx
        .state
        .store
        .accounts_for_user(&ctx.record.project_id, &ctx.record.user_id, None)
        .map_err(ToolError::internal)?;
    let mut results = BTreeMap::new();
    let (mut active, mut failed) = (0, 0);
    for slug in &toolkits {
        let failure = |message: String| Connection {
            toolkit: slug.clone(),
            status: "failed",
            error_message: Some(message),
            ..Connection::default()
        };
        let entry = match catalog.toolkit(slug) {
            None => failure(format!("unknown toolkit {slug}")),
            Some(_)
                if ctx
                    .config
                    .toolkits
                    .as_ref()
                    .is_some_and(|f| !f.allows(slug)) =>
            {
                failure(format!("{slug} is not enabled in this session"))
            }
            Some(t) if t.auth.schemes.iter().all(|s| s == "NO_AUTH") => Connection {
                toolkit: slug.clone(),
                status: "active",
                has_active_connection: true,
                instruction: Some(format!("{slug} needs no connection.")),
                ..Connection::default()
            },
            Some(t) => match accounts
                .iter()
                .find(|a| &a.toolkit == slug && a.status == "ACTIVE")
            {
                Some(account) => Connection {
                    toolkit: slug.clone(),
                    status: "active",
                    has_active_connection: true,
                    account: Some(ActiveAccount::of(account)),
                    ..Connection::default()
                },
                None => Connection {
                    instruction: Some(format!(
                        "Ask the user (or the app) to connect {slug}: POST /api/v3.1/connected_accounts with user_id, toolkit \"{slug}\", auth_scheme one of {} and the credential. Hosted OAuth links are not available on this server yet.",
                        t.auth.schemes.join(", ")
                    )),
                    ..failure(format!(
                        "no connected {slug} account for user {}",
                        ctx.record.user_id
                    ))
                },
            },
        };
        if entry.has_active_connection {
            active += 1;
        } else {
            failed += 1;
        }
        results.insert(slug.clone(), entry);
    }
    Ok(Output {
        message: format!("{active} of {} toolkits are connected", toolkits.len()),
        results,
        summary: Summary {
            total_toolkits: toolkits.len(),
            active_connections: active,
            initiated_connections: 0,
            failed_connections: failed,
        },
        session: ctx.workflow_session(args.workflow.id()),
    })
}
