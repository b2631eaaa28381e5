//! COMPOSIO_SUBMIT_FEEDBACK (when the session's
//! `experimental.submit_feedback.enable` is on): the agent reports a tool
//! result that was empty, wrong or failed; the server keeps it for the
//! operator (`toolshed feedback`).

use super::Workflow;
use crate::keys;
use crate::session::{SessionContext, WorkflowSession};
use crate::store::{FeedbackRecord, now};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Longest feedback text kept.
const MAX_TEXT_CHARS: usize = 4000;

/// The tool's description, as agents see it.
pub const DESCRIPTION: &str = "Report a tool result that was empty, incorrect or failed, so the people running this server can fix the tool: feedback (what happened and what you expected), kind (empty_result, incorrect_result, failed, other), and the tool_slug and log_id of the execution when you have them.";

/// What the feedback is about.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The tool returned nothing useful.
    EmptyResult,
    /// The tool returned something wrong.
    IncorrectResult,
    /// The tool failed.
    Failed,
    /// Anything else.
    #[default]
    Other,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::EmptyResult => "empty_result",
            Kind::IncorrectResult => "incorrect_result",
            Kind::Failed => "failed",
            Kind::Other => "other",
        }
    }
}

/// The arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// What happened and what was expected.
    pub feedback: String,
    /// What kind of problem (default other).
    #[serde(default)]
    pub kind: Kind,
    /// The tool it is about.
    #[serde(default)]
    pub tool_slug: Option<String>,
    /// The execution it is about.
    #[serde(default)]
    pub log_id: Option<String>,
    /// The workflow id echoed back.
    #[serde(flatten)]
    pub workflow: Workflow,
}

/// The result.
#[derive(Debug, Serialize)]
pub struct Output {
    /// The stored feedback's id.
    pub feedback_id: String,
    /// What happened.
    pub message: &'static str,
    /// The workflow id to echo.
    pub session: WorkflowSession,
}

/// The input schema.
pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "required": ["feedback"],
        "additionalProperties": false,
        "properties": {
            "feedback": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS, "description": "What happened and what you expected."},
            "kind": {"type": "string", "enum": ["empty_result", "incorrect_result", "failed", "other"], "default": "other"},
            "tool_slug": {"type": "string", "maxLength": crate::session::app_tools::MAX_SLUG_CHARS},
            "log_id": {"type": "string", "maxLength": 64, "description": "The log_id of the execution."},
            "session_id": super::session_id_property()
        }
    })
}

/// Keeps the feedback (on a blocking thread: it writes the store).
pub fn run(ctx: &SessionContext, args: &Args) -> Result<Output, ToolError> {
    let text = args.feedback.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(ToolError::InvalidArguments(format!(
            "feedback: 1 to {MAX_TEXT_CHARS} characters"
        )));
    }
    if let Some(slug) = &args.tool_slug
        && !crate::session::app_tools::is_valid_slug(slug)
    {
        return Err(ToolError::InvalidArguments(
            "tool_slug: 1-128 characters of A-Z, 0-9 and _".into(),
        ));
    }
    if args.log_id.as_ref().is_some_and(|id| id.len() > 64) {
        return Err(ToolError::InvalidArguments(
            "log_id: at most 64 characters".into(),
        ));
    }
    let record = FeedbackRecord {
        id: keys::new_id("fb_"),
        project_id: ctx.record.project_id.clone(),
        session_id: ctx.record.id.clone(),
        kind: args.kind.as_str().to_owned(),
        tool_slug: args.tool_slug.as_ref().map(|s| s.to_ascii_uppercase()),
        log_id: args.log_id.clone(),
        text: text.to_owned(),
        created_at: now(),
    };
    ctx.state
        .store
        .add_feedback(&record)
        .map_err(ToolError::internal)?;
    Ok(Output {
        feedback_id: record.id,
        message: "Thank you: the feedback is stored for the people running this server.",
        session: ctx.workflow_session(args.workflow.id()),
    })
}
