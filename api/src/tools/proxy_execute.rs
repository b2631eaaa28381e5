//! COMPOSIO_PROXY_EXECUTE (and `POST .../proxy_execute`): the agent-facing
//! side of [`crate::session::proxy`].

use crate::session::SessionContext;
use crate::session::app_tools::Caller;
use crate::session::proxy::MAX_PARAMETERS;
pub use crate::session::proxy::{Args, Output};
use crate::tool_error::ToolError;
use serde_json::{Value, json};

/// The tool's description, as agents see it.
pub const DESCRIPTION: &str = "Send an authenticated HTTP request to a connected toolkit's own API, for endpoints no tool covers: toolkit_slug, endpoint (a path under the toolkit's API, or a full URL under it), method, body (JSON; required for POST, PUT and PATCH, not allowed for GET and DELETE) and parameters ([{name, type: header|query, value}]). The user's connected account is used; the reply is the upstream's status, headers and data.";

/// The input schema.
pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "required": ["toolkit_slug", "endpoint", "method"],
        "properties": {
            "toolkit_slug": {"type": "string", "description": "The toolkit whose API to call."},
            "endpoint": {"type": "string", "description": "A path under the toolkit's API (\"/user/repos\") or a full URL under it."},
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
            "body": {"description": "JSON body; required for POST, PUT and PATCH, not allowed for GET and DELETE."},
            "parameters": {"type": "array", "maxItems": MAX_PARAMETERS, "items": {
                "type": "object", "required": ["name", "type", "value"],
                "properties": {"name": {"type": "string"}, "type": {"type": "string", "enum": ["header", "query"]}, "value": {"type": "string"}}}},
            "account": {"type": "string", "description": "The connected account id or alias, when the user has several."}
        }
    })
}

/// Runs the request for the session's user.
pub async fn run(ctx: &SessionContext, args: Args) -> Result<Output, ToolError> {
    let caller = Caller {
        project_id: &ctx.record.project_id,
        session_id: Some(&ctx.record.id),
        user_id: &ctx.record.user_id,
        config: &ctx.config,
        approved: &crate::session::approval::NOT_ASKED,
    };
    crate::session::proxy::run(&ctx.state.app_tools(), &caller, args).await
}
