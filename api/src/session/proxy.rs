//! Proxy execute: an authenticated request to a toolkit's own API with
//! the user's account, for endpoints no tool covers. The URL must stay under
//! the toolkit's base URL. The agent reaches it as COMPOSIO_PROXY_EXECUTE
//! (and `POST .../proxy_execute`, [`crate::tools::proxy_execute`]); a cell
//! as `proxy_execute(...)`, through the session's bridge.

use crate::catalog::proxy::{ProxyError, ProxyRequest};
use crate::session::app_tools::{self, AppTools, Caller};
use crate::tool_error::ToolError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest endpoint, in characters.
pub const MAX_ENDPOINT_CHARS: usize = 2048;
/// Most parameters.
pub const MAX_PARAMETERS: usize = 50;

/// An HTTP method the proxy sends.
#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[schema(as = ProxyMethod)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ProxyParameterKind)]
pub enum ParameterKind {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
}

/// One header or query parameter.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ProxyParameter)]
pub struct Parameter {
    /// Its name.
    #[schema(min_length = 1, max_length = 256)]
    pub name: String,
    /// header or query (`in` is accepted too).
    #[serde(rename = "type", alias = "in")]
    pub kind: ParameterKind,
    /// Its value (numbers and booleans are written as text).
    #[schema(value_type = String)]
    pub value: Value,
}

/// The arguments (and the REST body).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ProxyExecuteArgs)]
pub struct Args {
    /// The toolkit whose API to call (`toolkit` is accepted too).
    #[serde(alias = "toolkit")]
    #[schema(min_length = 1, max_length = 64)]
    pub toolkit_slug: String,
    /// A path under the toolkit's API, or an absolute URL under it.
    #[schema(min_length = 1, max_length = 2048)]
    pub endpoint: String,
    /// The HTTP method.
    pub method: Method,
    /// The JSON body.
    #[schema(value_type = Option<Object>)]
    pub body: Option<Value>,
    /// Headers and query parameters.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// The connected account id or alias to use, when the user has several.
    pub account: Option<String>,
}

/// What the upstream answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ProxyExecuteOutput)]
pub struct Output {
    /// Its HTTP status.
    pub status: u16,
    /// Its body: JSON, or `{"text": ...}`.
    #[schema(value_type = Object)]
    pub data: Value,
    /// Its headers.
    pub headers: BTreeMap<String, String>,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Runs the request for the caller's user.
pub async fn run(tools: &AppTools, caller: &Caller<'_>, args: Args) -> Result<Output, ToolError> {
    let slug = args.toolkit_slug.to_ascii_lowercase();
    let catalog = tools.catalog.current();
    let toolkit = catalog.toolkit(&slug).ok_or_else(|| {
        ToolError::argument(
            "toolkit_slug",
            format!("{} is not a known toolkit", crate::error::clip(&slug, 64)),
        )
    })?;
    if caller
        .config
        .toolkits
        .as_ref()
        .is_some_and(|filter| !filter.allows(&slug))
    {
        return Err(ToolError::argument(
            "toolkit_slug",
            format!("{slug} is not enabled in this session"),
        ));
    }
    // A raw request could do what a tool needing approval does, so a
    // toolkit under approval takes no proxy requests.
    if !caller.approved.all
        && super::approval::guards_toolkit(caller.config, &tools.catalog.current(), &slug)
    {
        return Err(ToolError::NotApproved(format!(
            "proxy requests to {slug} are refused: this session needs the user's approval for {slug}'s tools, so call those tools through execute, where the user is asked"
        )));
    }
    if args.endpoint.chars().count() > MAX_ENDPOINT_CHARS {
        return Err(ToolError::argument(
            "endpoint",
            format!("must be at most {MAX_ENDPOINT_CHARS} characters"),
        ));
    }
    if args.parameters.len() > MAX_PARAMETERS {
        return Err(ToolError::argument(
            "parameters",
            format!("at most {MAX_PARAMETERS}"),
        ));
    }
    let method = match args.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    };
    let body = args.body.filter(|b| !b.is_null());
    match (&args.method, &body) {
        (Method::Post | Method::Put | Method::Patch, None) => {
            return Err(ToolError::argument(
                "body",
                format!("is required for {method}"),
            ));
        }
        (Method::Get | Method::Delete, Some(_)) => {
            return Err(ToolError::argument(
                "body",
                format!("is not allowed for {method}"),
            ));
        }
        _ => {}
    }
    let (mut query, mut headers) = (Vec::new(), Vec::new());
    for parameter in args.parameters {
        let pair = (parameter.name, text(&parameter.value));
        match parameter.kind {
            ParameterKind::Header => headers.push(pair),
            ParameterKind::Query => query.push(pair),
        }
    }
    let account = if toolkit.auth.schemes.iter().all(|s| s == "NO_AUTH") {
        None
    } else {
        let account =
            app_tools::resolve_account(tools, caller, &slug, args.account.as_deref()).await?;
        Some(app_tools::refreshed(tools, account).await?)
    };
    let request = ProxyRequest {
        method,
        endpoint: args.endpoint,
        query,
        headers,
        body,
    };
    let mut response = tools
        .executor
        .proxy(
            toolkit,
            request.clone(),
            account.as_ref().map(|a| &a.credentials),
        )
        .await;
    if let (Ok(first), Some(account)) = (&response, account)
        && first.status == 401
        && let Some(account) = app_tools::after_refusal(tools, account).await?
    {
        response = tools
            .executor
            .proxy(toolkit, request, Some(&account.credentials))
            .await;
    }
    match response {
        Ok(response) => Ok(Output {
            status: response.status,
            data: response.data,
            headers: response.headers,
        }),
        Err(ProxyError::Refused(message)) => Err(ToolError::InvalidArguments(message)),
        Err(ProxyError::Upstream(message)) => Err(ToolError::Unavailable(format!(
            "{slug}'s API did not answer: {message}"
        ))),
    }
}
