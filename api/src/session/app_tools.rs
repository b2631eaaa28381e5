//! Executing an app tool for a session: lookup, session filters, argument
//! validation, the connected account, the HTTP call and its log.

use crate::catalog::http::Executor;
use crate::catalog::http::{Attachment, Attachments, Call, Execution, Spool};
use crate::error::clip;
use crate::keys;
use crate::oauth::OAuthError;
use crate::session::config::SessionConfig;
use crate::store::Store;
use crate::store::{AccountRecord, LogRecord, now};
use crate::tool_error::ToolError;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// What running app tools needs: the catalog, the HTTP executor and the
/// store (accounts, logs). Cheap to clone; a sandbox's tool bridge holds
/// this, not the whole server state.
#[derive(Clone)]
pub struct AppTools {
    /// The app tools.
    pub catalog: Arc<crate::catalog::live::LiveCatalog>,
    /// Runs them over HTTP.
    pub executor: Executor,
    /// Keeps OAuth2 access tokens fresh.
    pub oauth: crate::oauth::OAuth,
    /// Accounts and logs.
    pub store: Store,
    /// Files staged for file-typed arguments.
    pub staged: crate::staged::Staged,
}

/// Who is calling: the session's project, user and config.
pub struct Caller<'a> {
    /// The project.
    pub project_id: &'a str,
    /// The session, when there is one.
    pub session_id: Option<&'a str>,
    /// The end user.
    pub user_id: &'a str,
    /// The session's config (filters, connected accounts).
    pub config: &'a SessionConfig,
    /// The approvals the request carries ([`super::approval::NOT_ASKED`]
    /// where nothing asked).
    pub approved: &'a super::approval::Approved,
}

/// The outcome and its log id.
pub struct Outcome {
    /// The execution.
    pub execution: Execution,
    /// The log's id.
    pub log_id: String,
}

/// Runs an app tool. Every failure (unknown tool, disabled, bad arguments,
/// no account, upstream error) is a failed [`Execution`] with a message for
/// the agent; only store failures are errors.
pub async fn execute(
    tools: &AppTools,
    caller: &Caller<'_>,
    slug: &str,
    arguments: &Value,
    account: Option<&str>,
) -> Result<Outcome, crate::ApiError> {
    execute_spooled(tools, caller, slug, arguments, account, None).await
}

/// [`execute`], streaming a large response body to `spool` instead of
/// holding it in memory.
pub async fn execute_spooled(
    tools: &AppTools,
    caller: &Caller<'_>,
    slug: &str,
    arguments: &Value,
    account: Option<&str>,
    spool: Option<&Spool>,
) -> Result<Outcome, crate::ApiError> {
    let started = Instant::now();
    // Custom tools' slugs may hold `-`; they fail in `run`, saying where
    // they run.
    let valid_slug = is_valid_slug(slug)
        || (super::custom_tools::is_custom(slug)
            && slug.len() <= super::custom_tools::MAX_SLUG_CHARS
            && slug
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    let execution = if valid_slug {
        run(tools, caller, slug, arguments, account, spool).await
    } else {
        failed(ToolError::InvalidArguments(format!(
            "invalid tool slug {}: a slug is 1-{MAX_SLUG_CHARS} characters of A-Z, 0-9 and _",
            clip(slug, 64)
        )))
    };
    // Guest- and client-chosen text is stored bounded.
    let log = LogRecord {
        id: keys::new_id("log_"),
        project_id: caller.project_id.to_owned(),
        session_id: caller.session_id.map(str::to_owned),
        tool_slug: if valid_slug {
            slug.to_ascii_uppercase()
        } else {
            "(invalid slug)".into()
        },
        successful: execution.successful,
        error: execution
            .error
            .as_deref()
            .map(|e| clip(e, MAX_LOGGED_ERROR_BYTES)),
        duration_ms: started.elapsed().as_millis() as i64,
        created_at: now(),
    };
    tools
        .store
        .add_log(&log)
        .map_err(crate::ApiError::internal)?;
    Ok(Outcome {
        execution,
        log_id: log.id,
    })
}

/// Longest tool slug (Composio's slugs are far shorter).
pub const MAX_SLUG_CHARS: usize = 128;
/// Longest error text stored in a tool-execution log.
const MAX_LOGGED_ERROR_BYTES: usize = 1024;
/// Longest argument-validation message returned (it can quote the value).
const MAX_VALIDATION_MESSAGE_BYTES: usize = 512;

/// `^[A-Za-z0-9_]{1,128}$` (slugs are matched upper-cased).
pub fn is_valid_slug(slug: &str) -> bool {
    (1..=MAX_SLUG_CHARS).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A call that did not reach the upstream: the error's message is what
/// the agent (or the cell) sees.
fn failed(err: ToolError) -> Execution {
    if let ToolError::Internal(source) = &err {
        tracing::error!(error = %source, "an app tool call failed on our side");
    }
    Execution {
        successful: false,
        data: Value::Null,
        error: Some(err.to_string()),
        status: None,
        spooled: None,
    }
}

async fn run(
    tools: &AppTools,
    caller: &Caller<'_>,
    slug: &str,
    arguments: &Value,
    account: Option<&str>,
    spool: Option<&Spool>,
) -> Execution {
    if super::custom_tools::is_custom(slug) {
        return failed(ToolError::InvalidArguments(
            super::custom_tools::runs_in_the_app(slug),
        ));
    }
    let catalog = tools.catalog.current();
    let Some(tool) = catalog.tool(slug) else {
        return failed(ToolError::UnknownTool(slug.to_owned()));
    };
    if !caller.config.allows_tool(tool) {
        return failed(ToolError::Disabled(tool.tool.slug.clone()));
    }
    if let Err(message) = tool.validate(arguments) {
        return failed(ToolError::InvalidArguments(format!(
            "invalid arguments for {}: {}",
            tool.tool.slug,
            clip(&message, MAX_VALIDATION_MESSAGE_BYTES)
        )));
    }
    let files = match attachments(tools, caller.project_id, tool, arguments).await {
        Ok(files) => files,
        Err(err) => return failed(err),
    };
    let catalog = tools.catalog.current();
    let Some(toolkit) = catalog.toolkit(&tool.toolkit) else {
        return failed(ToolError::internal(std::io::Error::other(format!(
            "toolkit {} of tool {} is not loaded",
            tool.toolkit, tool.tool.slug
        ))));
    };
    let no_auth = toolkit.auth.schemes.iter().all(|s| s == "NO_AUTH");
    let account = if no_auth {
        None
    } else {
        match resolve_account(tools, caller, &tool.toolkit, account).await {
            Ok(account) => match refreshed(tools, account).await {
                Ok(account) => Some(account),
                Err(err) => return failed(err),
            },
            Err(err) => return failed(err),
        }
    };
    if let Err(err) =
        super::approval::admit(tools, caller, tool, account.as_ref().map(|a| a.id.as_str())).await
    {
        return failed(err);
    }
    let credentials = account.as_ref().map(|a| &a.credentials);
    let call = Call {
        project_id: caller.project_id,
        toolkit,
        tool,
        arguments,
        files: &files,
    };
    let execution = tools.executor.execute(&call, credentials, spool).await;
    let Some(account) = account.filter(|_| execution.status == Some(401)) else {
        return execution;
    };
    // The provider refused the access token: with a new one the call is
    // made again (a 401 means the request was not carried out).
    match after_refusal(tools, account).await {
        Ok(Some(account)) => {
            tools
                .executor
                .execute(&call, Some(&account.credentials), spool)
                .await
        }
        Ok(None) => execution,
        Err(err) => failed(err),
    }
}

/// Most files one call may send.
const MAX_FILES_PER_CALL: usize = 20;

/// The staged files a call's file-typed arguments name, opened (the
/// arguments are already valid: each is a `{name, mimetype, s3key}`).
async fn attachments(
    tools: &AppTools,
    project_id: &str,
    tool: &crate::catalog::CatalogTool,
    arguments: &Value,
) -> Result<Attachments, ToolError> {
    let mut out = Attachments::new();
    let mut count = 0;
    for argument in crate::catalog::file_args::arguments(&tool.tool.input_parameters) {
        let given: Vec<&Value> = match arguments.get(&argument.name) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(items)) if argument.many => items.iter().collect(),
            Some(value) => vec![value],
        };
        count += given.len();
        if count > MAX_FILES_PER_CALL {
            return Err(ToolError::InvalidArguments(format!(
                "at most {MAX_FILES_PER_CALL} files per call"
            )));
        }
        let mut files = Vec::new();
        for value in given {
            let key = value["s3key"].as_str().unwrap_or_default();
            let opened = tools
                .staged
                .open(&tools.store, project_id, key)
                .await
                .map_err(|err| match err {
                    crate::staged::StagedError::Internal(source) => ToolError::Internal(source),
                    other => {
                        ToolError::InvalidArguments(format!("arguments.{}: {other}", argument.name))
                    }
                })?;
            let text = |field: &str, fallback: &str| {
                value[field]
                    .as_str()
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or(fallback)
                    .to_owned()
            };
            files.push(Attachment {
                name: text("name", &opened.record.filename),
                mimetype: text("mimetype", &opened.record.mimetype),
                size: opened.record.size.unwrap_or(0).max(0) as u64,
                file: Arc::new(opened.file),
            });
        }
        out.insert(argument.name, files);
    }
    Ok(out)
}

/// `account`, its OAuth2 access token refreshed first when it expires
/// soon. When the refresh cannot be made now (the provider is down, the
/// app is gone) the current token is used: it may still work.
pub async fn refreshed(
    tools: &AppTools,
    account: AccountRecord,
) -> Result<AccountRecord, ToolError> {
    match tools
        .oauth
        .fresh(&tools.store, &tools.catalog.current(), account.clone())
        .await
    {
        Ok(account) => Ok(account),
        Err(OAuthError::Expired(message)) => Err(ToolError::NoAccount(message)),
        Err(OAuthError::Store(err)) => Err(ToolError::internal(err)),
        Err(err) => {
            tracing::warn!(account = %account.id, error = %err, "could not refresh an OAuth2 access token ahead of its expiry");
            Ok(account)
        }
    }
}

/// After the provider refused `account`'s access token: the account with a
/// new one, or `None` when the refusal stands.
pub async fn after_refusal(
    tools: &AppTools,
    account: AccountRecord,
) -> Result<Option<AccountRecord>, ToolError> {
    let toolkit = account.toolkit.clone();
    tools
        .oauth
        .after_refusal(&tools.store, &tools.catalog.current(), account)
        .await
        .map_err(|err| match err {
            OAuthError::Expired(message) => ToolError::NoAccount(message),
            OAuthError::Store(err) => ToolError::internal(err),
            OAuthError::Unreachable(_) => ToolError::Unavailable(format!(
                "{toolkit} refused the access token and it could not be refreshed: {err}; try again shortly"
            )),
            OAuthError::NotConfigured(_) | OAuthError::Rejected { .. } => ToolError::NoAccount(
                format!("{toolkit} refused the access token and it could not be refreshed: {err}"),
            ),
        })
}

/// The account to use: the one named (id or alias), else the session's
/// configured one, else the user's first active one for the toolkit.
pub async fn resolve_account(
    tools: &AppTools,
    caller: &Caller<'_>,
    toolkit: &str,
    requested: Option<&str>,
) -> Result<AccountRecord, ToolError> {
    let (project, user, slug) = (
        caller.project_id.to_owned(),
        caller.user_id.to_owned(),
        toolkit.to_owned(),
    );
    let accounts = tools
        .store
        .run(move |store| store.accounts_for_user(&project, &user, Some(&slug)))
        .await
        .map_err(ToolError::internal)?;
    let active = |a: &&AccountRecord| a.is_usable();
    let pinned = caller.config.connected_accounts.get(toolkit);
    if let Some(wanted) = requested.filter(|r| !r.is_empty()) {
        // The session's pinned accounts bound which ones a call may name.
        return accounts
            .iter()
            .filter(active)
            .filter(|a| pinned.is_none_or(|ids| ids.contains(&a.id)))
            .find(|a| a.id == wanted || a.alias.as_deref() == Some(wanted))
            .cloned()
            .ok_or_else(|| {
                ToolError::NoAccount(format!(
                    "account {} is not an active {toolkit} account this session may use",
                    clip(wanted, 64)
                ))
            });
    }
    if let Some(ids) = caller.config.connected_accounts.get(toolkit) {
        return accounts
            .iter()
            .filter(active)
            .find(|a| ids.contains(&a.id))
            .cloned()
            .ok_or_else(|| {
                ToolError::NoAccount(format!(
                    "none of the session's {toolkit} accounts ({}) is active",
                    ids.join(", ")
                ))
            });
    }
    let usable: Vec<&AccountRecord> = accounts.iter().filter(active).collect();
    if usable.len() > 1 && caller.config.requires_explicit_account() {
        let candidates: Vec<String> = usable
            .iter()
            .map(|a| match &a.alias {
                Some(alias) => format!("{} ({})", a.id, clip(alias, 64)),
                None => a.id.clone(),
            })
            .collect();
        return Err(ToolError::NoAccount(format!(
            "user {} has {} {toolkit} accounts and this session requires choosing one: pass `account` as one of {}",
            caller.user_id,
            usable.len(),
            candidates.join(", ")
        )));
    }
    usable.first().map(|a| (*a).clone()).ok_or_else(|| {
        let unusable: Vec<String> = accounts
            .iter()
            .filter(|a| a.status != "INITIATED")
            .take(5)
            .map(|a| {
                let status = if a.enabled { a.status.as_str() } else { "disabled" };
                match &a.status_reason {
                    Some(reason) => format!("{} is {status} ({})", a.id, clip(reason, 200)),
                    None => format!("{} is {status}", a.id),
                }
            })
            .collect();
        if unusable.is_empty() {
            ToolError::NoAccount(format!(
                "no connected {toolkit} account for user {}: connect one with COMPOSIO_MANAGE_CONNECTIONS",
                caller.user_id
            ))
        } else {
            ToolError::NoAccount(format!(
                "user {} has no usable {toolkit} account: {}. The user must reconnect: COMPOSIO_MANAGE_CONNECTIONS with toolkits [\"{toolkit}\"] gives a new link",
                caller.user_id,
                unusable.join("; ")
            ))
        }
    })
}

#[cfg(test)]
mod slug_tests {
    use super::*;

    #[test]
    fn slugs_are_bounded_and_plain() {
        assert!(is_valid_slug("GITHUB_GET_ISSUE"));
        assert!(is_valid_slug("github_get_issue"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug(&"A".repeat(129)));
        assert!(!is_valid_slug("A B"));
        assert!(!is_valid_slug("A'; DROP TABLE"));
        assert!(!is_valid_slug("É"));
    }
}
