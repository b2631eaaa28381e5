//! COMPOSIO_MANAGE_CONNECTIONS: the session user's connection status per
//! toolkit. A missing connection (or every one, with `reinitiate_all`) is
//! initiated: an INITIATED account and a Connect Link `redirect_url` the
//! agent shows the user. Where no link can be made (an OAuth2-only toolkit
//! without an app, or no HTTP server to serve the page) it is reported as
//! `failed` with what to do instead.

use super::{ActiveAccount, ToolkitList, Workflow};
use crate::catalog::toolkit::Toolkit;
use crate::connections;
use crate::session::{SessionContext, WorkflowSession};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The arguments.
#[derive(Debug, Deserialize)]
pub struct Args {
    /// Toolkit slugs (1-50).
    pub toolkits: ToolkitList,
    /// Initiate new links even for connected toolkits.
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
    /// active, initiated or failed.
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
    /// Where the user completes an initiated connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// The INITIATED account, for an initiated connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_account_id: Option<String>,
    /// The auth config it is made under, for an initiated connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_config_id: Option<String>,
    /// Whether a connected toolkit got a new link (`reinitiate_all`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub was_reinitiated: bool,
}

/// Counts of the results.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Toolkits asked about.
    pub total_toolkits: usize,
    /// Connected.
    pub active_connections: usize,
    /// Started here (a link to complete).
    pub initiated_connections: usize,
    /// Not connected.
    pub failed_connections: usize,
}

/// Runs the tool (on a blocking thread: it reads and writes the store).
pub fn run(ctx: &SessionContext, args: &Args) -> Result<Output, ToolError> {
    let toolkits = args.toolkits.slugs()?;
    let reinitiate = args.reinitiate_all.unwrap_or(false);
    let catalog = &ctx.state.catalog();
    let accounts = ctx
        .state
        .store
        .accounts_for_user(&ctx.record.project_id, &ctx.record.user_id, None)
        .map_err(ToolError::internal)?;
    let mut results = BTreeMap::new();
    let (mut active, mut initiated, mut failed) = (0, 0, 0);
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
            Some(t) => {
                let existing = accounts
                    .iter()
                    .find(|a| &a.toolkit == slug && a.is_usable());
                match existing {
                    Some(account) if !reinitiate => Connection {
                        toolkit: slug.clone(),
                        status: "active",
                        has_active_connection: true,
                        account: Some(ActiveAccount::of(account)),
                        ..Connection::default()
                    },
                    _ => {
                        let mut entry = initiate(ctx, t)?;
                        entry.was_reinitiated = existing.is_some() && entry.status == "initiated";
                        entry
                    }
                }
            }
        };
        match entry.status {
            "active" => active += 1,
            "initiated" => initiated += 1,
            _ => failed += 1,
        }
        results.insert(slug.clone(), entry);
    }
    Ok(Output {
        message: format!(
            "{active} of {} toolkits are connected{}",
            toolkits.len(),
            if initiated > 0 {
                format!("; {initiated} need the user to open their redirect_url")
            } else {
                String::new()
            }
        ),
        results,
        summary: Summary {
            total_toolkits: toolkits.len(),
            active_connections: active,
            initiated_connections: initiated,
            failed_connections: failed,
        },
        session: ctx.workflow_session(args.workflow.id()),
    })
}

/// Starts a Connect Link for `toolkit`, or says why there is none.
fn initiate(ctx: &SessionContext, toolkit: &Toolkit) -> Result<Connection, ToolError> {
    let slug = &toolkit.slug;
    let failed = |message: String, instruction: String| Connection {
        toolkit: slug.clone(),
        status: "failed",
        error_message: Some(message),
        instruction: Some(instruction),
        ..Connection::default()
    };
    let direct = format!(
        "Or create the account with ready credentials: POST /api/v3.1/connected_accounts with user_id \"{}\", toolkit \"{slug}\", auth_scheme one of {} and the credential.",
        ctx.record.user_id,
        toolkit.auth.schemes.join(", ")
    );
    let Some(base) = ctx.state.public_base() else {
        return Ok(failed(
            format!(
                "no connected {slug} account for user {}",
                ctx.record.user_id
            ),
            format!(
                "This server has no public URL for connect links (start it with --public-url). {direct}"
            ),
        ));
    };
    let store = &ctx.state.store;
    let pinned = ctx.config.auth_configs.get(slug).map(String::as_str);
    let config = match connections::config_for_session(
        store,
        &ctx.record.project_id,
        toolkit,
        &ctx.state.oauth,
        pinned,
    )
    .map_err(ToolError::internal)?
    .and_then(|config| {
        connections::check_linkable(&config, toolkit, &ctx.state.oauth).map(|()| config)
    }) {
        Ok(config) => config,
        Err(err) => {
            return Ok(failed(
                format!("cannot start a {slug} connection: {err}"),
                direct,
            ));
        }
    };
    let link = connections::start_link(
        store,
        &config,
        ctx.record.user_id.clone(),
        None,
        None,
        ctx.state.config.link_ttl,
    )
    .map_err(ToolError::internal)?;
    Ok(Connection {
        toolkit: slug.clone(),
        status: "initiated",
        redirect_url: Some(format!("{base}/link/{}", link.token)),
        connected_account_id: Some(link.account.id.clone()),
        auth_config_id: Some(config.id.clone()),
        instruction: Some(format!(
            "Ask the user to open redirect_url and {} (the link works once, for {} minutes); then call COMPOSIO_WAIT_FOR_CONNECTIONS or check again.",
            if config.auth_scheme == "OAUTH2" {
                format!("sign in to {} and allow access", toolkit.name)
            } else {
                format!("enter their {} credentials", toolkit.name)
            },
            ctx.state.config.link_ttl.as_secs().div_ceil(60).max(1)
        )),
        ..Connection::default()
    })
}
