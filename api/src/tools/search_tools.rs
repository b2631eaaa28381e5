//! COMPOSIO_SEARCH_TOOLS (and `POST .../search`): deterministic BM25
//! search over the session's allowed tools, with schemas and the
//! connection status of every toolkit involved.

use super::{SchemaEntry, Workflow};
use crate::catalog::search::Extra;
use crate::session::custom_tools::CustomTool;
use crate::session::{SessionContext, WorkflowSession};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Primary tools per query.
const PRIMARY: usize = 3;
/// Related tools per query (after the primary ones).
const RELATED: usize = 3;

/// Most queries one search takes (Composio's limit).
pub const MAX_QUERIES: usize = 7;
/// Longest `known_fields` text, in characters.
const MAX_KNOWN_FIELDS_CHARS: usize = 1024;
/// Longest `use_case`, in characters.
const MAX_USE_CASE_CHARS: usize = 1024;

/// The arguments.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SearchArgs)]
pub struct Args {
    /// One query per sub-task.
    #[schema(min_items = 1, max_items = 7)]
    pub queries: Vec<Query>,
    /// The workflow id echoed back.
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// One sub-task to find tools for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SearchQuery)]
pub struct Query {
    /// What the agent wants to do.
    #[schema(min_length = 1, max_length = 1024, pattern = r"\S")]
    pub use_case: String,
    /// Known values as "key:value,key:value".
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub known_fields: Option<String>,
}

impl Args {
    /// Every bound, checked before any ranking runs.
    fn check(&self) -> Result<(), ToolError> {
        if self.queries.is_empty() {
            return Err(ToolError::argument(
                "queries",
                "must be a non-empty list of {use_case}",
            ));
        }
        if self.queries.len() > MAX_QUERIES {
            return Err(ToolError::argument(
                "queries",
                format!(
                    "at most {MAX_QUERIES} queries per search ({} given)",
                    self.queries.len()
                ),
            ));
        }
        for (i, query) in self.queries.iter().enumerate() {
            if query.use_case.trim().is_empty()
                || query.use_case.chars().count() > MAX_USE_CASE_CHARS
            {
                return Err(ToolError::argument(
                    &format!("queries[{i}].use_case"),
                    format!(
                        "must be a non-empty string of at most {MAX_USE_CASE_CHARS} characters"
                    ),
                ));
            }
            if query
                .known_fields
                .as_ref()
                .is_some_and(|k| k.chars().count() > MAX_KNOWN_FIELDS_CHARS)
            {
                return Err(ToolError::argument(
                    &format!("queries[{i}].known_fields"),
                    format!("at most {MAX_KNOWN_FIELDS_CHARS} characters"),
                ));
            }
        }
        Ok(())
    }
}

/// The result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SearchOutput)]
pub struct Output {
    /// One per query, in order.
    pub results: Vec<QueryResult>,
    /// The schemas of every tool named in the results.
    pub tool_schemas: BTreeMap<String, SchemaEntry>,
    /// The connection status of every toolkit named in the results.
    pub toolkit_connection_statuses: Vec<ConnectionStatus>,
    /// The current time, for date arguments.
    pub time_info: TimeInfo,
    /// The workflow id to echo.
    pub session: WorkflowSession,
    /// What to do next.
    #[schema(value_type = Vec<String>)]
    pub next_steps_guidance: [&'static str; 3],
    /// Whether every query found something.
    pub success: bool,
    /// "N out of M searches failed", when some found nothing; else null.
    pub error: Option<String>,
}

/// The tools found for one query.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueryResult {
    /// 1-based position of the query.
    pub index: usize,
    /// The query's use case.
    pub use_case: String,
    /// The best matches.
    pub primary_tool_slugs: Vec<String>,
    /// The next best.
    pub related_tool_slugs: Vec<String>,
    /// Their toolkits.
    pub toolkits: Vec<String>,
    /// How they were ranked.
    pub reasoning: String,
    /// easy (one tool) or medium.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<&'static str>,
    /// Set when nothing matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// What the session remembers that bears on this query, by app (facts
    /// recorded with COMPOSIO_MULTI_EXECUTE_TOOL's `memory`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub memory: BTreeMap<String, Vec<String>>,
}

/// The current time.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimeInfo {
    /// RFC 3339.
    pub current_time_utc: String,
    /// Unix seconds.
    pub current_time_utc_epoch_seconds: u64,
    /// A hint.
    pub message: &'static str,
}

/// The display name of a custom tool's toolkit.
fn custom_toolkit_name(ctx: &SessionContext, tool: &CustomTool) -> String {
    if let Some(extends) = &tool.extends_toolkit {
        return ctx
            .state
            .catalog()
            .toolkit(extends)
            .map(|k| k.name.clone())
            .unwrap_or_default();
    }
    ctx.customs
        .toolkits
        .iter()
        .find(|k| Some(&k.slug) == tool.toolkit.as_ref())
        .map(|k| k.name.clone())
        .unwrap_or_default()
}

/// One toolkit's connection status for the session's user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectionStatus {
    /// The toolkit slug.
    pub toolkit: String,
    /// Its description.
    pub description: String,
    /// Whether its tools can run now.
    pub has_active_connection: bool,
    /// `{no_auth: true}` or the active accounts.
    pub connection_details: ConnectionDetails,
    /// In words.
    pub status_message: String,
}

/// How a toolkit is connected.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ConnectionDetails {
    /// The toolkit needs no account.
    NoAuth {
        /// Always true.
        no_auth: bool,
    },
    /// The user's active accounts.
    Accounts {
        /// id, alias, auth scheme.
        accounts: Vec<AccountRef>,
    },
}

/// An account, without its credentials.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountRef {
    /// `ca_...`.
    pub id: String,
    /// The user's label.
    pub alias: Option<String>,
    /// API_KEY, BEARER_TOKEN, ...
    pub auth_scheme: String,
}

/// Runs the search (on a blocking thread: ranking is CPU work and the
/// connection statuses read the store).
pub fn run(ctx: &SessionContext, args: &Args) -> Result<Output, ToolError> {
    args.check()?;
    let catalog = &ctx.state.catalog();
    let remembered = ctx
        .state
        .store
        .memory(&ctx.record.id)
        .map_err(ToolError::internal)?;
    // A request's custom tools are ranked with the catalog's.
    let extended;
    let index = if ctx.customs.is_empty() {
        catalog.index()
    } else {
        let extras: Vec<Extra> = ctx
            .customs
            .tools
            .iter()
            .map(|t| Extra {
                slug: t.slug.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
                toolkit: t.toolkit_slug(),
                toolkit_name: custom_toolkit_name(ctx, t),
            })
            .collect();
        extended = catalog.index().extended(&extras);
        &extended
    };
    let mut results = Vec::new();
    let mut schemas = BTreeMap::new();
    let mut toolkits_involved = BTreeSet::new();
    let mut failed = 0;
    for (i, query) in args.queries.iter().enumerate() {
        let use_case = &query.use_case;
        let known = query.known_fields.as_deref().unwrap_or_default();
        let text = format!("{use_case} {}", known.replace([':', ','], " "));
        let hits = index.search(&text, |slug| {
            ctx.customs.get(slug).is_some()
                || catalog
                    .tool(slug)
                    .is_some_and(|t| ctx.config.allows_tool(t))
        });
        if hits.is_empty() {
            failed += 1;
            results.push(QueryResult {
                index: i + 1,
                use_case: use_case.clone(),
                primary_tool_slugs: Vec::new(),
                related_tool_slugs: Vec::new(),
                toolkits: Vec::new(),
                reasoning: "No tool of this session's toolkits matches this use case.".into(),
                difficulty: None,
                error: Some("no matching tools"),
                memory: super::memory::relevant(&remembered, &[], use_case),
            });
            continue;
        }
        let primary: Vec<String> = hits.iter().take(PRIMARY).map(|h| h.slug.clone()).collect();
        let related: Vec<String> = hits
            .iter()
            .skip(PRIMARY)
            .take(RELATED)
            .map(|h| h.slug.clone())
            .collect();
        let mut toolkits = BTreeSet::new();
        for slug in primary.iter().chain(&related) {
            if let Some(custom) = ctx.customs.get(slug) {
                toolkits.insert(custom.toolkit_slug());
                schemas.entry(slug.clone()).or_insert_with(|| SchemaEntry {
                    tool_slug: custom.slug.clone(),
                    toolkit: custom.toolkit_slug(),
                    description: custom.description.clone(),
                    input_schema: Some(custom.input_schema.clone()),
                    output_schema: None,
                });
            } else if let Some(tool) = catalog.tool(slug) {
                toolkits.insert(tool.toolkit.clone());
                schemas
                    .entry(slug.clone())
                    .or_insert_with(|| SchemaEntry::input_of(tool));
            }
        }
        let scores: Vec<String> = hits
            .iter()
            .take(PRIMARY + RELATED)
            .map(|h| format!("{} {:.2}", h.slug, h.score))
            .collect();
        let toolkit_list: Vec<String> = toolkits.iter().cloned().collect();
        results.push(QueryResult {
            index: i + 1,
            use_case: use_case.clone(),
            difficulty: Some(if primary.len() > 1 { "medium" } else { "easy" }),
            memory: super::memory::relevant(&remembered, &toolkit_list, &text),
            primary_tool_slugs: primary,
            related_tool_slugs: related,
            toolkits: toolkit_list,
            reasoning: format!(
                "BM25 over slug, name, description, tags and toolkit; scores: {}",
                scores.join(", ")
            ),
            error: None,
        });
        toolkits_involved.extend(toolkits);
    }
    let toolkit_connection_statuses = toolkits_involved
        .iter()
        .map(|t| connection_status(ctx, t))
        .collect::<Result<_, _>>()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    Ok(Output {
        results,
        tool_schemas: schemas,
        toolkit_connection_statuses,
        time_info: TimeInfo {
            current_time_utc: crate::timestamp::rfc3339(now),
            current_time_utc_epoch_seconds: now,
            message: "Use this as the current time for date arguments.",
        },
        session: ctx.workflow_session(args.workflow.id()),
        next_steps_guidance: [
            "Check toolkit_connection_statuses: toolkits without an active connection need one before their tools run.",
            "Run the primary tools with COMPOSIO_MULTI_EXECUTE_TOOL (up to 50 at once).",
            "For bulk work or large results use COMPOSIO_REMOTE_WORKBENCH with run_composio_tools.",
        ],
        success: failed == 0,
        error: (failed > 0)
            .then(|| format!("{failed} out of {} searches failed", args.queries.len())),
    })
}

/// One toolkit's connection status for the session's user (reads the
/// store: call it on a blocking thread).
fn connection_status(ctx: &SessionContext, toolkit: &str) -> Result<ConnectionStatus, ToolError> {
    let catalog = &ctx.state.catalog();
    if catalog.toolkit(toolkit).is_none() {
        // A custom toolkit: its tools run in the app, with no account here.
        let description = ctx
            .customs
            .toolkits
            .iter()
            .find(|k| k.slug.eq_ignore_ascii_case(toolkit))
            .map(|k| k.description.clone())
            .unwrap_or_else(|| "The app's own tools.".to_owned());
        return Ok(ConnectionStatus {
            toolkit: toolkit.to_owned(),
            description,
            has_active_connection: true,
            connection_details: ConnectionDetails::NoAuth { no_auth: true },
            status_message: format!(
                "{toolkit} is the app's own toolkit: its tools run in the app, through the SDK session that defined them."
            ),
        });
    }
    let description = catalog
        .toolkit(toolkit)
        .map(|t| t.description.clone())
        .unwrap_or_default();
    let no_auth = catalog
        .toolkit(toolkit)
        .is_some_and(|t| t.auth.schemes.iter().all(|s| s == "NO_AUTH"));
    if no_auth {
        return Ok(ConnectionStatus {
            toolkit: toolkit.to_owned(),
            description,
            has_active_connection: true,
            connection_details: ConnectionDetails::NoAuth { no_auth: true },
            status_message: format!("{toolkit} needs no connection."),
        });
    }
    let accounts: Vec<AccountRef> = ctx
        .state
        .store
        .accounts_for_user(&ctx.record.project_id, &ctx.record.user_id, Some(toolkit))
        .map_err(ToolError::internal)?
        .into_iter()
        .filter(|a| a.is_usable())
        .map(|a| AccountRef {
            id: a.id,
            alias: a.alias,
            auth_scheme: a.auth_scheme,
        })
        .collect();
    Ok(ConnectionStatus {
        toolkit: toolkit.to_owned(),
        description,
        has_active_connection: !accounts.is_empty(),
        status_message: if accounts.is_empty() {
            format!("No active {toolkit} connection for this user: connect one first.")
        } else {
            format!("{toolkit} is connected.")
        },
        connection_details: ConnectionDetails::Accounts { accounts },
    })
}
