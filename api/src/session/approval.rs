//! Approvals: tool calls that wait for the user's yes. A session's config
//! says which calls need one (`require_approval` in its toolkits, tools
//! and tags filters, and `experimental.permissions`); such a call does not
//! run until the app answers the question its execute returned.
//!
//! The REST execute (the SDKs' `ToolInputRequiredError` flow) asks before
//! anything runs: the answer is `result_type: "input_required"` with one
//! request per tool needing approval and a `request_state`; the same call
//! again with `input_responses` runs what was approved and fails what was
//! denied. Every app-tool call is checked again where it runs
//! ([`admit`]), so paths that cannot ask (a workbench cell, an MCP client,
//! which gets `no_elicitation_support_fallback`) never run an unapproved
//! call: they fail saying why. `always_approve` (and an approval under
//! `ask_once`/`ask_once_per_session`) holds for the rest of the session.

use super::SessionContext;
use super::app_tools::{AppTools, Caller};
use super::request::{ElicitationFallback, PermissionDefault, PermissionOverride};
use crate::catalog::CatalogTool;
use crate::store::{PendingApproval, now};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// What a call needs before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Nothing.
    Allow,
    /// It never runs (an `always_deny` override).
    Deny,
    /// The user's yes. `remember`: a plain approval holds for the session
    /// (ask once); `grants_count`: an earlier session-wide approval
    /// answers it (false only for `ask_always`).
    Ask {
        /// A plain approval is remembered for the session.
        remember: bool,
        /// A remembered approval answers it.
        grants_count: bool,
    },
}

/// What a session needs for `tool` called with `account` (an account id,
/// `None` when the toolkit needs none).
pub fn need(
    config: &super::config::SessionConfig,
    tool: &CatalogTool,
    account: Option<&str>,
) -> Need {
    let account = account.unwrap_or("__none__");
    if let Some(overrides) = config
        .permissions
        .as_ref()
        .and_then(|p| p.overrides.as_ref())
    {
        let found = overrides
            .get(&format!("{}:{account}", tool.tool.slug))
            .or_else(|| overrides.get(&format!("*:{account}")));
        if let Some(rule) = found {
            return match rule {
                PermissionOverride::AlwaysAllow => Need::Allow,
                PermissionOverride::AlwaysDeny => Need::Deny,
                PermissionOverride::AskOnce => Need::Ask {
                    remember: true,
                    grants_count: true,
                },
                PermissionOverride::AskAlways => Need::Ask {
                    remember: false,
                    grants_count: false,
                },
            };
        }
    }
    let default = config.permissions.as_ref().map(|p| p.default);
    if default == Some(PermissionDefault::AskOncePerSession) {
        return Need::Ask {
            remember: true,
            grants_count: true,
        };
    }
    if config.requires_approval(tool) || default == Some(PermissionDefault::AskEveryCall) {
        return Need::Ask {
            remember: false,
            grants_count: true,
        };
    }
    Need::Allow
}

/// Whether any call to `toolkit` may need the user's approval (then raw
/// proxy requests to it, which could do the same, are refused).
pub fn guards_toolkit(
    config: &super::config::SessionConfig,
    catalog: &crate::catalog::Catalog,
    toolkit: &str,
) -> bool {
    if !config.has_approvals() {
        return false;
    }
    if config
        .permissions
        .as_ref()
        .is_some_and(|p| p.default != PermissionDefault::AllowAll || p.overrides.is_some())
    {
        return true;
    }
    catalog
        .tools()
        .filter(|t| t.toolkit == toolkit)
        .any(|t| config.requires_approval(t))
}

/// The answers a request carries: what runs, what does not.
#[derive(Clone, Debug, Default)]
pub struct Approved {
    /// Everything asked is approved (an MCP client under the `allow`
    /// fallback).
    pub all: bool,
    /// Tool slugs approved for this request.
    pub slugs: BTreeSet<String>,
    /// Tool slugs the user denied (or declined to answer) for this request.
    pub denied: BTreeSet<String>,
}

/// No answers: what runs where nothing asked (a workbench cell, a call
/// without a session).
pub static NOT_ASKED: Approved = Approved {
    all: false,
    slugs: BTreeSet::new(),
    denied: BTreeSet::new(),
};

/// Whether `tool` may run now for `caller` with `account`; the error says
/// why not (for the agent or the cell).
pub async fn admit(
    tools: &AppTools,
    caller: &Caller<'_>,
    tool: &CatalogTool,
    account: Option<&str>,
) -> Result<(), ToolError> {
    let slug = &tool.tool.slug;
    match need(caller.config, tool, account) {
        Need::Allow => Ok(()),
        Need::Deny => Err(ToolError::NotApproved(format!(
            "{slug} is denied by this session's permissions (experimental.permissions)"
        ))),
        Need::Ask { grants_count, .. } => {
            if caller.approved.denied.contains(slug) {
                return Err(ToolError::NotApproved(format!(
                    "the user did not approve {slug}; it did not run"
                )));
            }
            if caller.approved.all || caller.approved.slugs.contains(slug) {
                return Ok(());
            }
            if grants_count && let Some(session) = caller.session_id {
                let (session, tool_slug) = (session.to_owned(), slug.clone());
                let granted = tools
                    .store
                    .run(move |store| store.approval_granted(&session, &tool_slug))
                    .await
                    .map_err(ToolError::internal)?;
                if granted {
                    return Ok(());
                }
            }
            Err(ToolError::NotApproved(format!(
                "{slug} needs the user's approval before it runs, and this call cannot ask: call it through the session's execute (the app asks the user), or have it approved for the session (always_approve)"
            )))
        }
    }
}

/// The question an execute returns instead of running.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InputRequired {
    /// Always `input_required`.
    pub result_type: &'static str,
    /// Request id -> what to ask the user.
    #[schema(value_type = Object)]
    pub input_requests: BTreeMap<String, Value>,
    /// Send it back unchanged with the answers.
    pub request_state: String,
}

/// The user's answer to one request (`input_responses[id]`).
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct InputResponse {
    /// accept, decline or cancel.
    pub action: String,
    /// With accept: `{"decision": "approve" | "always_approve" | "deny"}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub content: Option<Value>,
}

/// The answers a repeated call carries.
#[derive(Clone, Debug, Serialize)]
pub struct Answers {
    /// `input_responses`, by request id.
    pub responses: BTreeMap<String, InputResponse>,
    /// The `request_state` the question came with.
    pub request_state: String,
}

/// What a REST execute may do about approvals.
#[derive(Debug, Default)]
pub enum Asking {
    /// Nothing can ask the user: calls needing approval fail, unless the
    /// session's `no_elicitation_support_fallback` is `allow`.
    #[default]
    Cannot,
    /// The app can ask (REST execute); `answers` when this is the repeat.
    Can {
        /// `input_responses` and `request_state`, when given.
        answers: Option<Answers>,
    },
}

/// How a call stands once approvals are settled.
pub enum Settled {
    /// Run it with these answers.
    Run(Approved),
    /// Ask first.
    Ask(InputRequired),
}

/// The app tools a call will run, with the account each names: the tool
/// itself, or the items of a MULTI_EXECUTE.
fn calls_of(
    slug: &str,
    arguments: &Map<String, Value>,
    account: Option<&str>,
) -> Vec<(String, Option<String>)> {
    if slug.eq_ignore_ascii_case("COMPOSIO_MULTI_EXECUTE_TOOL") {
        return arguments
            .get("tools")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| {
                        let slug = item.get("tool_slug")?.as_str()?.to_ascii_uppercase();
                        let account = item
                            .get("account")
                            .and_then(Value::as_str)
                            .map(str::to_owned);
                        Some((slug, account))
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
    if slug.to_ascii_uppercase().starts_with("COMPOSIO_") {
        return Vec::new();
    }
    vec![(slug.to_ascii_uppercase(), account.map(str::to_owned))]
}

/// A digest of a call, to bind answers to the call they were asked for.
fn call_hash(slug: &str, arguments: &Map<String, Value>) -> String {
    let text =
        serde_json::to_string(&json!({"tool": slug.to_ascii_uppercase(), "arguments": arguments}))
            .unwrap_or_default();
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Settles the approvals of a call before it runs: returns the question
/// when one must be asked, else what runs.
pub async fn settle(
    ctx: &SessionContext,
    slug: &str,
    arguments: &Map<String, Value>,
    account: Option<&str>,
    asking: Asking,
) -> Result<Settled, ToolError> {
    if !ctx.config.has_approvals() {
        return Ok(Settled::Run(Approved::default()));
    }
    let tools = ctx.state.app_tools();
    let none = Approved::default();
    let caller = Caller {
        project_id: &ctx.record.project_id,
        session_id: Some(&ctx.record.id),
        user_id: &ctx.record.user_id,
        config: &ctx.config,
        approved: &none,
    };
    // The tools that need asking now, in call order, once each.
    let mut asked: Vec<(String, bool)> = Vec::new();
    for (tool_slug, account) in calls_of(slug, arguments, account) {
        let catalog = ctx.state.catalog();
        let Some(tool) = catalog.tool(&tool_slug) else {
            continue;
        };
        if !ctx.config.allows_tool(tool) || asked.iter().any(|(s, _)| s == &tool.tool.slug) {
            continue;
        }
        let no_auth = catalog
            .toolkit(&tool.toolkit)
            .is_some_and(|k| k.auth.schemes.iter().all(|s| s == "NO_AUTH"));
        let account_id = if no_auth {
            None
        } else {
            super::app_tools::resolve_account(&tools, &caller, &tool.toolkit, account.as_deref())
                .await
                .ok()
                .map(|a| a.id)
        };
        if let Need::Ask { remember, .. } = need(&ctx.config, tool, account_id.as_deref())
            && admit(&tools, &caller, tool, account_id.as_deref())
                .await
                .is_err()
        {
            asked.push((tool.tool.slug.clone(), remember));
        }
    }
    if asked.is_empty() {
        return Ok(Settled::Run(Approved::default()));
    }
    let answers = match asking {
        Asking::Cannot => {
            let all =
                ctx.config.no_elicitation_support_fallback == Some(ElicitationFallback::Allow);
            return Ok(Settled::Run(Approved {
                all,
                ..Approved::default()
            }));
        }
        Asking::Can { answers: None } => {
            return ask(ctx, slug, arguments, &asked).await.map(Settled::Ask);
        }
        Asking::Can {
            answers: Some(answers),
        } => answers,
    };
    let Answers {
        responses,
        request_state: state,
    } = answers;
    let session = ctx.record.id.clone();
    let pending = ctx
        .state
        .store
        .run(move |store| store.take_pending_approval(&session, &state, now()))
        .await
        .map_err(ToolError::internal)?
        .ok_or_else(|| {
            ToolError::InvalidArguments(
                "request_state: unknown, expired or already answered; make the call again without input_responses to be asked again".into(),
            )
        })?;
    if pending.call_hash != call_hash(slug, arguments) {
        return Err(ToolError::InvalidArguments(
            "request_state: it was issued for another call; repeat the same tool and arguments with the answers".into(),
        ));
    }
    let mut approved = Approved::default();
    for (id, tool_slug) in &pending.requests {
        let Some(response) = responses.get(id) else {
            return Err(ToolError::InvalidArguments(format!(
                "input_responses: no answer for {id} (every request of input_requests needs one)"
            )));
        };
        let decision = response
            .content
            .as_ref()
            .and_then(|c| c.get("decision"))
            .and_then(Value::as_str);
        match (response.action.as_str(), decision) {
            ("accept", Some("approve")) => {
                approved.slugs.insert(tool_slug.clone());
                if asked
                    .iter()
                    .any(|(s, remember)| s == tool_slug && *remember)
                {
                    grant(ctx, tool_slug).await?;
                }
            }
            ("accept", Some("always_approve")) => {
                approved.slugs.insert(tool_slug.clone());
                grant(ctx, tool_slug).await?;
            }
            ("accept", Some("deny")) | ("decline" | "cancel", _) => {
                approved.denied.insert(tool_slug.clone());
            }
            ("accept", _) => {
                return Err(ToolError::InvalidArguments(format!(
                    "input_responses.{id}.content.decision: must be approve, always_approve or deny"
                )));
            }
            _ => {
                return Err(ToolError::InvalidArguments(format!(
                    "input_responses.{id}.action: must be accept, decline or cancel"
                )));
            }
        }
    }
    if let Some(extra) = responses
        .keys()
        .find(|id| !pending.requests.contains_key(*id))
    {
        return Err(ToolError::InvalidArguments(format!(
            "input_responses: {} is not a request of this call",
            crate::error::clip(extra, 64)
        )));
    }
    Ok(Settled::Run(approved))
}

async fn grant(ctx: &SessionContext, tool_slug: &str) -> Result<(), ToolError> {
    let (session, slug) = (ctx.record.id.clone(), tool_slug.to_owned());
    ctx.state
        .store
        .run(move |store| store.grant_approval(&session, &slug, now()))
        .await
        .map_err(ToolError::internal)
}

/// Records the pending call and returns the question.
async fn ask(
    ctx: &SessionContext,
    slug: &str,
    arguments: &Map<String, Value>,
    asked: &[(String, bool)],
) -> Result<InputRequired, ToolError> {
    let mut requests = BTreeMap::new();
    let mut input_requests = BTreeMap::new();
    for (i, (tool_slug, _)) in asked.iter().enumerate() {
        let id = format!("approve_{}", i + 1);
        let name = ctx
            .state
            .catalog()
            .tool(tool_slug)
            .map(|t| t.tool.name.clone())
            .unwrap_or_default();
        input_requests.insert(
            id.clone(),
            json!({
                "type": "elicitation",
                "mode": "form",
                "message": format!(
                    "Allow {tool_slug} ({name}) for user {}? Arguments: {}",
                    ctx.record.user_id,
                    crate::error::clip(&Value::Object(arguments.clone()).to_string(), 500)
                ),
                "requested_schema": {
                    "type": "object",
                    "properties": {"decision": {
                        "type": "string",
                        "title": "Decision",
                        "enum": ["approve", "always_approve", "deny"],
                        "enumNames": ["Approve this call", "Approve for the rest of the session", "Deny"]
                    }},
                    "required": ["decision"]
                }
            }),
        );
        requests.insert(id, tool_slug.clone());
    }
    let pending = PendingApproval {
        id: crate::keys::new_id("apr_"),
        session_id: ctx.record.id.clone(),
        call_hash: call_hash(slug, arguments),
        requests,
        created_at: now(),
    };
    let request_state = pending.id.clone();
    ctx.state
        .store
        .run(move |store| store.add_pending_approval(&pending))
        .await
        .map_err(ToolError::internal)?;
    Ok(InputRequired {
        result_type: "input_required",
        input_requests,
        request_state,
    })
}
