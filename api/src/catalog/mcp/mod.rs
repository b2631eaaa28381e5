//! Toolkits whose tools come from an MCP server: an `[mcp]` table in a
//! `toolkit.toml` names a command to run (stdio) or a URL (streamable
//! HTTP). When the catalog loads, the server's tools are listed and become
//! `{TOOLKIT}_{TOOL}` tools with the server's schemas and annotations; a
//! call goes to a pooled connection (`pool.rs`).
//!
//! - `connect.rs`: starting or reaching a server, and listing its tools.
//! - `pool.rs`: one live connection per toolkit and credential, calls with
//!   a deadline, reconnecting when a connection died.
//!
//! Commands come only from the operator's toolkit files: nothing a client
//! sends over the API can name a command, its arguments or its environment.

pub mod connect;
pub mod pool;

use super::openapi_import::Imported;
use super::toolkit::{Auth, Http, RESERVED_HEADERS, Tool, Toolkit};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Longest a call may be given (`timeout_secs`).
const MAX_TIMEOUT_SECS: u64 = 3600;
/// Longest description kept (longer ones are cut).
const MAX_DESCRIPTION_BYTES: usize = 8 << 10;
/// Largest input or output schema served (as JSON); a tool with a larger
/// one is skipped.
const MAX_SCHEMA_BYTES: usize = 256 << 10;

/// The MCP server a toolkit's tools come from (`[mcp]`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// A stdio server: the program and its arguments. A program without a
    /// `/` is looked up in `PATH`; a relative path is taken from the
    /// toolkit's folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Environment of a stdio server, on top of `PATH`, `HOME`, `LANG` and
    /// `TMPDIR` (nothing else of toolshed's environment is passed).
    /// `${NAME}` in a value is toolshed's variable `NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Working directory of a stdio server (default: the toolkit's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// A streamable HTTP server: its endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Headers sent to an HTTP server on every request (`${NAME}` as in
    /// `env`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Headers sent only when toolshed lists the server's tools (an
    /// operator's credential for a server that lists its tools only to an
    /// authenticated client): never with a session's calls.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub listing_headers: BTreeMap<String, String>,
    /// Environment only of the stdio server process that lists the tools.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub listing_env: BTreeMap<String, String>,
    /// Longest a tool call may take, in seconds (default 60).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Longest starting or reaching the server and its handshake may take,
    /// in seconds (default 30).
    #[serde(default = "default_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
    /// Most open connections for the toolkit (one per credential in use;
    /// the least recently used closes first). Default 16.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Only the server's tools whose names match one of these globs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// None of the server's tools whose names match one of these globs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Tools to rank as the toolkit's main ones (globs on tool names); by
    /// default every tool of an MCP server is a main one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub important: Option<Vec<String>>,
    /// The toolkit file's folder (set when it loads).
    #[serde(skip)]
    pub folder: PathBuf,
}

fn default_timeout_secs() -> u64 {
    60
}

fn default_connect_timeout_secs() -> u64 {
    30
}

fn default_max_connections() -> usize {
    16
}

/// A tool's MCP binding: the server-side name it is called by.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct McpTool {
    /// The tool's name on the server.
    pub name: String,
    /// Whether calling it twice is harmless (the server's readOnlyHint or
    /// idempotentHint): only such calls are made again after a connection
    /// dies mid-call.
    #[serde(default)]
    pub retry_safe: bool,
}

impl Server {
    /// The deadline of one call.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// The deadline of starting or reaching the server.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    /// Checks the table; errors name the field. `auth` is the toolkit's:
    /// a stdio server takes a connected account's credential in its
    /// environment, an HTTP server in a header or the URL's query.
    pub fn check(&self, auth: &Auth) -> Result<(), (String, String)> {
        let fail = |field: &str, problem: String| Err((format!("mcp.{field}"), problem));
        match (self.command.is_empty(), &self.url) {
            (true, None) => {
                return fail(
                    "command",
                    "give `command` (a stdio server) or `url` (a streamable HTTP server)".into(),
                );
            }
            (false, Some(_)) => {
                return fail("url", "give `command` or `url`, not both".into());
            }
            _ => {}
        }
        if let Some(url) = &self.url {
            if !super::toolkit::is_http_url(url) {
                return fail("url", "must be an absolute http(s) URL".into());
            }
            if !self.env.is_empty() || !self.listing_env.is_empty() || self.cwd.is_some() {
                return fail(
                    "env",
                    "`env`, `listing_env` and `cwd` are for stdio servers".into(),
                );
            }
        } else {
            if self.command[0].trim().is_empty() {
                return fail("command[0]", "must name a program".into());
            }
            if !self.headers.is_empty() || !self.listing_headers.is_empty() {
                return fail(
                    "headers",
                    "`headers` and `listing_headers` are for HTTP servers".into(),
                );
            }
        }
        let env = self.env.iter().map(|e| ("env", e));
        let listing_env = self.listing_env.iter().map(|e| ("listing_env", e));
        for (field, (name, value)) in env.chain(listing_env) {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return fail(
                    &format!("{field}.{name}"),
                    "a variable name is letters, digits and _".into(),
                );
            }
            expand(value).map_err(|problem| (format!("mcp.{field}.{name}"), problem))?;
        }
        let headers = self.headers.iter().map(|h| ("headers", h));
        let listing_headers = self.listing_headers.iter().map(|h| ("listing_headers", h));
        for (field, (name, value)) in headers.chain(listing_headers) {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return fail(&format!("{field}.{name}"), "is not a header name".into());
            }
            if is_reserved_header(name) {
                return fail(
                    &format!("{field}.{name}"),
                    "toolshed or MCP sets this header".into(),
                );
            }
            expand(value).map_err(|problem| (format!("mcp.{field}.{name}"), problem))?;
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.timeout_secs) {
            return fail("timeout_secs", format!("must be 1 to {MAX_TIMEOUT_SECS}"));
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.connect_timeout_secs) {
            return fail(
                "connect_timeout_secs",
                format!("must be 1 to {MAX_TIMEOUT_SECS}"),
            );
        }
        if !(1..=1024).contains(&self.max_connections) {
            return fail("max_connections", "must be 1 to 1024".into());
        }
        for (field, patterns) in [
            ("include", &self.include),
            ("exclude", &self.exclude),
            ("important", self.important.as_ref().unwrap_or(&Vec::new())),
        ] {
            globs(patterns).map_err(|(i, problem)| (format!("mcp.{field}[{i}]"), problem))?;
        }
        if let Some(inject) = &auth.inject {
            let allowed: &[&str] = if self.url.is_some() {
                &["header", "query"]
            } else {
                &["env"]
            };
            if !allowed.contains(&inject.location.as_str()) {
                return Err((
                    "auth.inject.in".into(),
                    format!(
                        "an MCP toolkit served over {} takes the credential in {}",
                        if self.url.is_some() { "HTTP" } else { "stdio" },
                        allowed.join(" or ")
                    ),
                ));
            }
            if inject.location == "header" && is_reserved_header(&inject.name) {
                return Err((
                    "auth.inject.name".into(),
                    "toolshed or MCP sets this header".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Headers an operator's `headers` cannot set: the HTTP framing and the
/// ones the MCP transport sends itself.
fn is_reserved_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    (RESERVED_HEADERS.contains(&name.as_str()) && name != "authorization")
        || matches!(
            name.as_str(),
            "mcp-session-id" | "mcp-protocol-version" | "last-event-id"
        )
}

/// `value` with each `${NAME}` replaced by toolshed's environment variable
/// `NAME`. The error names the variable, never a value.
pub fn expand(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "an unclosed ${ (write ${NAME})".to_owned())?;
        let name = &after[..end];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err("${...} must name an environment variable (letters, digits, _)".into());
        }
        let found = std::env::var(name)
            .map_err(|_| format!("the environment variable {name} is not set"))?;
        out.push_str(&found);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn globs(patterns: &[String]) -> Result<Option<globset::GlobSet>, (usize, String)> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = globset::GlobSetBuilder::new();
    for (i, pattern) in patterns.iter().enumerate() {
        builder.add(globset::Glob::new(pattern).map_err(|e| (i, e.to_string()))?);
    }
    builder.build().map(Some).map_err(|e| (0, e.to_string()))
}

/// The toolkit's tools from the server's listing: each named
/// `{TOOLKIT}_{TOOL}` (collisions numbered in the server's order), with
/// the server's schemas, title and description, and its annotations as
/// hint tags. Tools whose schemas toolshed cannot serve are skipped, with
/// why.
pub fn tools_from(toolkit: &Toolkit, server: &Server, listed: &[rmcp::model::Tool]) -> Imported {
    let prefix = format!("{}_", toolkit.slug.to_ascii_uppercase());
    let include = globs(&server.include).ok().flatten();
    let exclude = globs(&server.exclude).ok().flatten();
    let important = server
        .important
        .as_deref()
        .and_then(|p| globs(p).ok().flatten());
    let mut imported = Imported {
        toolkit: Toolkit {
            tools: Vec::new(),
            ..toolkit.clone()
        },
        operations: listed.len(),
        skipped: Vec::new(),
        renamed: Vec::new(),
        notes: Vec::new(),
    };
    let mut taken = std::collections::BTreeSet::new();
    for listed in listed {
        let name = listed.name.to_string();
        if name.trim().is_empty() {
            imported
                .skipped
                .push((name, "has no name to call it by".into()));
            continue;
        }
        if include.as_ref().is_some_and(|g| !g.is_match(&name))
            || exclude.as_ref().is_some_and(|g| g.is_match(&name))
        {
            imported
                .skipped
                .push((name, "left out by mcp.include/exclude".into()));
            continue;
        }
        let too_large = |schema: &Map<String, Value>| {
            serde_json::to_vec(schema).map_or(true, |b| b.len() > MAX_SCHEMA_BYTES)
        };
        if too_large(&listed.input_schema) || listed.output_schema.as_deref().is_some_and(too_large)
        {
            imported.skipped.push((
                name,
                format!("its schemas are larger than {} KiB", MAX_SCHEMA_BYTES >> 10),
            ));
            continue;
        }
        let input = match input_schema(&listed.input_schema) {
            Ok(schema) => schema,
            Err(why) => {
                imported.skipped.push((name, why));
                continue;
            }
        };
        let output = match &listed.output_schema {
            Some(schema) if schema.get("type").and_then(Value::as_str) == Some("object") => {
                Value::Object(schema.as_ref().clone())
            }
            Some(_) => {
                imported.notes.push(format!(
                    "{name}: its outputSchema is not an object; left out"
                ));
                json!({"type": "object"})
            }
            None => json!({"type": "object"}),
        };
        if jsonschema::validator_for(&output).is_err() {
            imported
                .skipped
                .push((name, "its outputSchema is not a valid JSON Schema".into()));
            continue;
        }
        let wanted = super::openapi_import::slug(&prefix, &name);
        let mut slug = wanted.clone();
        let mut n = 2;
        while taken.contains(&slug) {
            let suffix = format!("_{n}");
            let mut base = wanted.clone();
            base.truncate(super::openapi_import::MAX_SLUG - suffix.len());
            slug = format!("{base}{suffix}");
            n += 1;
        }
        if slug != wanted {
            imported
                .renamed
                .push((name.clone(), format!("{wanted} is taken: {slug}")));
        }
        taken.insert(slug.clone());
        let annotations = listed.annotations.as_ref();
        let hint = |get: fn(&rmcp::model::ToolAnnotations) -> Option<bool>| {
            annotations.and_then(get).unwrap_or(false)
        };
        let mut tags = Vec::new();
        for (on, tag) in [
            (hint(|a| a.read_only_hint), "readOnlyHint"),
            (hint(|a| a.destructive_hint), "destructiveHint"),
            (hint(|a| a.idempotent_hint), "idempotentHint"),
            (hint(|a| a.open_world_hint), "openWorldHint"),
        ] {
            if on {
                tags.push(tag.to_owned());
            }
        }
        let is_important = important.as_ref().is_none_or(|g| g.is_match(&name));
        if server.important.is_some() && is_important {
            tags.push("important".into());
        }
        let title = listed
            .title
            .clone()
            .or_else(|| annotations.and_then(|a| a.title.clone()))
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| name.clone());
        let description = listed
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map_or_else(
                || title.clone(),
                |d| crate::error::clip(d, MAX_DESCRIPTION_BYTES),
            );
        imported.toolkit.tools.push(Tool {
            slug,
            name: title,
            description,
            tags,
            http: Http::default(),
            graphql: None,
            mcp: Some(McpTool {
                name,
                retry_safe: hint(|a| a.read_only_hint) || hint(|a| a.idempotent_hint),
            }),
            input_parameters: input,
            output_parameters: output,
            example: None,
            // Ranked like imported tools only when the operator picks the
            // main ones.
            imported: server.important.is_some(),
        });
    }
    imported
}

/// The tool's inputSchema as toolshed serves it: an object schema whose
/// properties each say what they hold (a property with no type takes any
/// JSON value, written out as the list of every type).
fn input_schema(schema: &Map<String, Value>) -> Result<Value, String> {
    let mut schema = schema.clone();
    match schema.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        None => {
            schema.insert("type".into(), json!("object"));
        }
        Some(_) => return Err("its inputSchema is not an object schema".into()),
    }
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            let Value::Object(property) = property else {
                // `true` / `false` schemas: any value / no value.
                if *property == Value::Bool(true) {
                    *property = json!({"type": ANY_TYPE});
                    continue;
                }
                return Err("its inputSchema has a property that is not a schema".into());
            };
            let typed = property.contains_key("type")
                || ["anyOf", "oneOf", "allOf"]
                    .iter()
                    .any(|k| property.contains_key(*k));
            if !typed {
                property.insert("type".into(), json!(ANY_TYPE));
            }
        }
    }
    let schema = Value::Object(schema);
    jsonschema::meta::validate(&schema)
        .map_err(|e| format!("its inputSchema is not a valid JSON Schema: {e}"))?;
    jsonschema::validator_for(&schema)
        .map_err(|e| format!("its inputSchema does not compile: {e}"))?;
    Ok(schema)
}

/// Every JSON type: what a property without a type may hold.
const ANY_TYPE: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

#[cfg(test)]
mod tests;
