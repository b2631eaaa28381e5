//! The `toolkit.toml` format (docs/TOOLKITS.md): parsing with unknown keys
//! refused, and validation whose errors name the file and the field.

use super::openapi_import::{ImportError, Imported, Overlay, cache, import};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A toolkit file that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{}: {field}: {problem}", path.display())]
pub struct ToolkitError {
    /// The file.
    pub path: PathBuf,
    /// The dotted field (e.g. `tools[3].http.path`).
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

/// A toolkit as written in its file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Toolkit {
    /// Lower-case slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Logo URL.
    #[serde(default)]
    pub logo: String,
    /// Upstream base URL (none for a toolkit served by an MCP server).
    #[serde(default)]
    pub base_url: String,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Authentication.
    pub auth: Auth,
    /// The tools (moved to the catalog's index of tools when it loads).
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// The MCP server the tools come from, instead of `tools`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<super::mcp::Server>,
    /// How many tools the catalog holds for the toolkit (set when it loads).
    #[serde(skip)]
    pub tools_count: usize,
}

/// How a toolkit authenticates.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// Accepted schemes (NO_AUTH, API_KEY, BEARER_TOKEN, BASIC, OAUTH2).
    pub schemes: Vec<String>,
    /// Where the credential goes.
    #[serde(default)]
    pub inject: Option<Inject>,
    /// The provider's OAuth2 endpoints, for the OAUTH2 scheme (the
    /// operator's config file may override them).
    #[serde(default)]
    pub oauth2: Option<OAuth2>,
}

/// A provider's OAuth2 authorization-code flow.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    /// Where the user's browser is sent to grant access.
    pub authorize_url: String,
    /// Where codes and refresh tokens are exchanged for access tokens.
    pub token_url: String,
    /// Where tokens are revoked (RFC 7009), if the provider has one.
    #[serde(default)]
    pub revoke_url: Option<String>,
    /// The scopes asked for when the auth config names none.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Whether to use PKCE (S256); on unless the provider rejects it.
    #[serde(default = "yes")]
    pub pkce: bool,
    /// How the client authenticates at the token endpoint: `basic` (HTTP
    /// Basic, RFC 6749's default) or `post` (client_id and client_secret in
    /// the form).
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// Extra query parameters of the authorize URL (e.g. Google's
    /// `access_type = "offline"`, needed for a refresh token).
    #[serde(default)]
    pub authorize_params: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

/// How an OAuth2 client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// HTTP Basic.
    #[default]
    Basic,
    /// Form fields.
    Post,
}

/// Where a credential goes in upstream requests.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    /// `header` or `query`.
    #[serde(rename = "in")]
    pub location: String,
    /// Header or query parameter name.
    pub name: String,
    /// The value, with `{token}`, `{api_key}` or `{basic}`.
    pub format: String,
}

/// One tool.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// `TOOLKIT_ACTION`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// MCP hints and topical tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The HTTP binding (for a GraphQL tool, filled in from `graphql`).
    #[serde(default)]
    pub http: Http,
    /// The GraphQL binding, instead of `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graphql: Option<super::graphql::Graphql>,
    /// The MCP binding (set for the tools of an `[mcp]` toolkit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<super::mcp::McpTool>,
    /// JSON Schema of the arguments.
    pub input_parameters: Value,
    /// JSON Schema of the response data.
    #[serde(default = "empty_object_schema")]
    pub output_parameters: Value,
    /// Arguments that work against the fixtures.
    #[serde(default)]
    pub example: Option<Value>,
    /// Set by the OpenAPI importer: made from an operation, not written
    /// by hand.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
}

impl Tool {
    /// Whether the tool is one of its toolkit's main ones: written by hand,
    /// or imported and tagged `important` by its overlay. Search ranks
    /// these first among equals, and `important=true` lists only these.
    pub fn is_important(&self) -> bool {
        !self.imported || self.tags.iter().any(|t| t == "important")
    }
}

fn empty_object_schema() -> Value {
    serde_json::json!({"type": "object"})
}

/// How a list or object argument is written in a query, header or form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// `a=1,2` (objects as JSON text).
    #[default]
    Comma,
    /// `a=1&a=2`.
    Repeat,
    /// `a[k]=v`, `a[]=1`.
    Deep,
}

/// A tool's HTTP binding.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// Path template with `{arg}` placeholders.
    pub path: String,
    /// Arguments sent as query parameters.
    #[serde(default)]
    pub query: Vec<String>,
    /// Arguments sent as request headers.
    #[serde(default)]
    pub header: Vec<String>,
    /// Arguments sent as fields of the JSON body.
    #[serde(default)]
    pub body: Vec<String>,
    /// The argument sent as the whole JSON body (for bodies that are not
    /// objects); exclusive with `body`, `form` and `multipart`.
    #[serde(default)]
    pub body_whole: Option<String>,
    /// Arguments sent as an `application/x-www-form-urlencoded` body.
    #[serde(default)]
    pub form: Vec<String>,
    /// Arguments sent as `multipart/form-data` parts instead (file-typed
    /// arguments must be; the others become text parts).
    #[serde(default)]
    pub multipart: Vec<String>,
    /// Static headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How list and object arguments of the query, headers and form are
    /// written: `comma` (`a=1,2`, the default), `repeat` (`a=1&a=2`) or
    /// `deep` (`a[k]=v`, `a[]=1`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub styles: BTreeMap<String, Style>,
    /// Names on the wire of arguments whose argument name differs (e.g. a
    /// body field `name` next to a path placeholder `name` becomes argument
    /// `body_name` with wire name `name`).
    #[serde(default)]
    pub wire_names: BTreeMap<String, String>,
    /// Whether retrying is safe (default: by method).
    #[serde(default)]
    pub idempotent: Option<bool>,
}

impl Http {
    /// The name on the wire of argument `name`.
    pub fn wire_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.wire_names.get(name).map_or(name, String::as_str)
    }

    /// Whether the call may be retried on 429/5xx.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent.unwrap_or(matches!(
            self.method.as_str(),
            "GET" | "HEAD" | "PUT" | "DELETE"
        ))
    }

    /// The `{placeholders}` of the path, in order, each once (a
    /// placeholder may appear twice; every occurrence gets the value).
    pub fn placeholders(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut rest = self.path.as_str();
        while let Some(start) = rest.find('{') {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 1..start + len];
            if !out.iter().any(|n| n == name) {
                out.push(name.to_owned());
            }
            rest = &rest[start + len + 1..];
        }
        out
    }
}

const SCHEMES: [&str; 6] = [
    "NO_AUTH",
    "API_KEY",
    "BEARER_TOKEN",
    "BASIC",
    "OAUTH2",
    "DCR_OAUTH",
];
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
/// Headers no argument may set (lower case).
pub const RESERVED_HEADERS: [&str; 11] = [
    "authorization",
    "proxy-authorization",
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
    "accept",
    "cookie",
];
const TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// Loads and validates one `toolkit.toml`.
pub fn load(path: &Path) -> Result<Toolkit, ToolkitError> {
    let err = |field: &str, problem: String| ToolkitError {
        path: path.to_owned(),
        field: field.to_owned(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err("file", e.to_string()))?;
    if toml::from_str::<toml::Table>(&text).is_ok_and(|t| t.contains_key("openapi")) {
        return load_overlay(path, &text, Cache::Use).map(|imported| imported.toolkit);
    }
    let mut toolkit: Toolkit = toml::from_str(&text).map_err(|e| {
        let message = e.message().to_owned();
        let field = e
            .span()
            .map(|span| format!("line {}", text[..span.start].lines().count().max(1)))
            .unwrap_or_else(|| "toml".to_owned());
        err(&field, message)
    })?;
    if toolkit.mcp.is_some() {
        return load_mcp(path, toolkit, Cache::Use).map(|imported| imported.toolkit);
    }
    for tool in &mut toolkit.tools {
        super::file_args::complete(&mut tool.input_parameters);
    }
    bind_graphql(&mut toolkit.tools).map_err(|(field, problem)| err(&field, problem))?;
    validate(&toolkit).map_err(|(field, problem)| err(&field, problem))?;
    Ok(toolkit)
}

/// Loads a toolkit with an `[mcp]` table: its tools are the server's,
/// listed now. A server that cannot be listed leaves the toolkit with the
/// tools of its last listing (kept in the import cache), or none, and says
/// so in the log: one server being down does not stop toolshed.
pub fn load_mcp(path: &Path, mut toolkit: Toolkit, cache: Cache) -> Result<Imported, ToolkitError> {
    let err = |field: &str, problem: String| ToolkitError {
        path: path.to_owned(),
        field: field.to_owned(),
        problem,
    };
    let Some(server) = toolkit.mcp.as_mut() else {
        return Err(err("mcp", "is missing".into()));
    };
    server.folder = path
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."));
    let server = server.clone();
    if !toolkit.tools.is_empty() {
        return Err(err(
            "tools",
            "an [mcp] toolkit's tools come from its server: remove [[tools]]".into(),
        ));
    }
    if !toolkit.base_url.is_empty() {
        return Err(err(
            "base_url",
            "an [mcp] toolkit has no base_url: its server is mcp.url or mcp.command".into(),
        ));
    }
    validate(&toolkit).map_err(|(field, problem)| err(&field, problem))?;
    let key = cache::key(&toolkit.slug, &format!("mcp {toolkit:?}"), b"");
    // What the server lists is checked like a toolkit file before it is
    // served or kept; a listing that does not pass counts as none.
    let listed = super::mcp::connect::list_blocking(&server, &toolkit.slug).and_then(|listed| {
        let mut imported = super::mcp::tools_from(&toolkit, &server, &listed);
        imported.toolkit.mcp = Some(server.clone());
        validate(&imported.toolkit)
            .map(|()| imported)
            .map_err(|(field, problem)| format!("its tools do not fit: {field}: {problem}"))
    });
    let imported = match listed {
        Ok(imported) => {
            if cache == Cache::Use {
                cache::put(&key, &imported);
            }
            imported
        }
        Err(problem) if cache == Cache::Bypass => return Err(err("mcp", problem)),
        Err(problem) => match cache::get(&key) {
            Some(imported) => {
                tracing::warn!(toolkit = %toolkit.slug, %problem, tools = imported.toolkit.tools.len(), "serving the tools of the MCP server's last listing");
                imported
            }
            None => {
                tracing::warn!(toolkit = %toolkit.slug, %problem, "the MCP server's tools could not be listed: the toolkit has none until a reload (SIGHUP) lists them");
                super::mcp::tools_from(&toolkit, &server, &[])
            }
        },
    };
    for (tool, why) in &imported.skipped {
        tracing::info!(toolkit = %toolkit.slug, tool, why, "MCP tool not served");
    }
    let mut imported = imported;
    // `folder` is not kept in the cache: the binding takes this load's.
    imported.toolkit.mcp = Some(server);
    validate(&imported.toolkit).map_err(|(field, problem)| err(&field, problem))?;
    Ok(imported)
}

/// Loads a toolkit file with an `[openapi]` table: the document it names,
/// imported as it says, validated like a hand-written toolkit.
pub fn load_overlay(path: &Path, text: &str, cache: Cache) -> Result<Imported, ToolkitError> {
    let err = |field: &str, problem: String| ToolkitError {
        path: path.to_owned(),
        field: field.to_owned(),
        problem,
    };
    let overlay: Overlay = toml::from_str(text).map_err(|e| {
        let field = e
            .span()
            .map(|span| format!("line {}", text[..span.start].lines().count().max(1)))
            .unwrap_or_else(|| "toml".to_owned());
        err(&field, e.message().to_owned())
    })?;
    import_checked(&overlay, path, cache)
}

/// Whether an import may be read from (and written to) the import cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    /// Read a kept import if there is one; keep a new one.
    Use,
    /// Import anew and keep nothing (to measure or inspect an import).
    Bypass,
}

/// Imports the document `overlay` names (relative to the folder of
/// `path`, the overlay's file), validated like a hand-written toolkit.
pub fn import_checked(
    overlay: &Overlay,
    path: &Path,
    cache: Cache,
) -> Result<Imported, ToolkitError> {
    let err = |field: &str, problem: String| ToolkitError {
        path: path.to_owned(),
        field: field.to_owned(),
        problem,
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    let document = folder.join(&overlay.openapi.document);
    let bytes = std::fs::read(&document).map_err(|e| {
        err(
            "openapi.document",
            format!(
                "cannot read {}: {e} (the toolkits shipped with toolshed get theirs from scripts/fetch-specs.sh)",
                document.display()
            ),
        )
    })?;
    let key = cache::key(&overlay.slug, &format!("{overlay:?}"), &bytes);
    if cache == Cache::Use
        && let Some(imported) = cache::get(&key)
    {
        return Ok(imported);
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| err("openapi.document", "is not UTF-8 text".into()))?;
    let mut imported = import(&text, overlay).map_err(|e| match e {
        ImportError::Overlay { field, problem } => err(&field, problem),
        other => err("openapi.document", other.to_string()),
    })?;
    for tool in &mut imported.toolkit.tools {
        super::file_args::complete(&mut tool.input_parameters);
    }
    bind_graphql(&mut imported.toolkit.tools).map_err(|(field, problem)| err(&field, problem))?;
    validate(&imported.toolkit).map_err(|(field, problem)| err(&field, problem))?;
    if cache == Cache::Use {
        cache::put(&key, &imported);
    }
    Ok(imported)
}

/// Gives each GraphQL tool its HTTP side: a POST to the binding's path,
/// retried only for queries. A tool has `http` or `graphql`, not both.
fn bind_graphql(tools: &mut [Tool]) -> Result<(), (String, String)> {
    for (i, tool) in tools.iter_mut().enumerate() {
        let Some(graphql) = &tool.graphql else {
            continue;
        };
        let at = |field: &str| format!("tools[{i}] ({}).{field}", tool.slug);
        if !tool.http.method.is_empty() {
            return Err((
                at("graphql"),
                "a tool has [tools.http] or [tools.graphql], not both".into(),
            ));
        }
        let operation = super::graphql::operation(&graphql.document)
            .map_err(|problem| (at("graphql.document"), problem))?;
        tool.http = Http {
            method: "POST".into(),
            path: graphql.path.clone(),
            idempotent: Some(!operation.mutation),
            ..Http::default()
        };
    }
    Ok(())
}

/// Whether `url` parses as an absolute http(s) URL.
pub fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// [`validate`], for the tests of other modules.
#[cfg(test)]
pub fn tests_validate(toolkit: &Toolkit) -> Result<(), (String, String)> {
    validate(toolkit)
}

fn validate(toolkit: &Toolkit) -> Result<(), (String, String)> {
    let fail = |field: String, problem: &str| Err((field, problem.to_owned()));
    if toolkit.slug.is_empty()
        || !toolkit
            .slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return fail("slug".into(), "must be lower-case letters, digits and _");
    }
    if toolkit.mcp.is_none()
        && !(toolkit.base_url.starts_with("http://") || toolkit.base_url.starts_with("https://"))
    {
        return fail("base_url".into(), "must be an http(s) URL");
    }
    if toolkit.auth.schemes.is_empty() {
        return fail("auth.schemes".into(), "must list at least one scheme");
    }
    for (i, scheme) in toolkit.auth.schemes.iter().enumerate() {
        if !SCHEMES.contains(&scheme.as_str()) {
            return Err((
                format!("auth.schemes[{i}]"),
                format!("unknown scheme {scheme}; use one of {SCHEMES:?}"),
            ));
        }
    }
    if let Some(oauth2) = &toolkit.auth.oauth2 {
        if !toolkit.auth.schemes.iter().any(|s| s == "OAUTH2") {
            return fail(
                "auth.oauth2".into(),
                "is only for toolkits with the OAUTH2 scheme",
            );
        }
        for (field, url) in [
            ("auth.oauth2.authorize_url", Some(&oauth2.authorize_url)),
            ("auth.oauth2.token_url", Some(&oauth2.token_url)),
            ("auth.oauth2.revoke_url", oauth2.revoke_url.as_ref()),
        ] {
            if url.is_some_and(|u| !is_http_url(u)) {
                return fail(field.into(), "must be an absolute http(s) URL");
            }
        }
    }
    let no_auth = toolkit.auth.schemes.iter().all(|s| s == "NO_AUTH");
    match (&toolkit.auth.inject, no_auth) {
        (None, false) => {
            return fail(
                "auth.inject".into(),
                "is required unless the only scheme is NO_AUTH",
            );
        }
        (Some(inject), _)
            if toolkit.mcp.is_none() && !matches!(inject.location.as_str(), "header" | "query") =>
        {
            return fail("auth.inject.in".into(), "must be header or query");
        }
        _ => {}
    }
    if let Some(server) = &toolkit.mcp {
        server.check(&toolkit.auth)?;
    }
    let prefix = format!("{}_", toolkit.slug.to_ascii_uppercase());
    let mut seen = BTreeSet::new();
    for (i, tool) in toolkit.tools.iter().enumerate() {
        let at = |field: &str| format!("tools[{i}] ({}).{field}", tool.slug);
        if !tool.slug.starts_with(&prefix) || tool.slug != tool.slug.to_ascii_uppercase() {
            return Err((
                at("slug"),
                format!("must be upper-case and start with {prefix}"),
            ));
        }
        if !seen.insert(tool.slug.clone()) {
            return Err((at("slug"), "is used twice".into()));
        }
        if tool.description.trim().is_empty() {
            return Err((at("description"), "must not be empty".into()));
        }
        if toolkit.mcp.is_some() != tool.mcp.is_some() {
            return Err((
                at("mcp"),
                "only the tools of an [mcp] toolkit are MCP tools".into(),
            ));
        }
        if tool.mcp.is_some() {
            // The server checks its own arguments; the schema was checked
            // when it was listed.
            continue;
        }
        if !METHODS.contains(&tool.http.method.as_str()) {
            return Err((at("http.method"), format!("must be one of {METHODS:?}")));
        }
        if !tool.http.path.starts_with('/') {
            return Err((at("http.path"), "must start with /".into()));
        }
        if tool.input_parameters.get("type").and_then(Value::as_str) != Some("object") {
            return Err((at("input_parameters.type"), "must be \"object\"".into()));
        }
        if tool.output_parameters.get("type").and_then(Value::as_str) != Some("object") {
            return Err((at("output_parameters.type"), "must be \"object\"".into()));
        }
        if let Err(e) = jsonschema::meta::validate(&tool.input_parameters) {
            return Err((
                at("input_parameters"),
                format!("is not a valid JSON Schema: {e}"),
            ));
        }
        let properties = tool
            .input_parameters
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, schema) in &properties {
            if !has_known_type(schema) {
                return Err((
                    at(&format!("input_parameters.properties.{name}.type")),
                    format!("must be one of {TYPES:?} (or a list of them, or anyOf/oneOf/allOf)"),
                ));
            }
        }
        let required: BTreeSet<String> = tool
            .input_parameters
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(graphql) = &tool.graphql {
            let operation = super::graphql::operation(&graphql.document)
                .map_err(|problem| (at("graphql.document"), problem))?;
            for (variable, needed) in &operation.variables {
                if !properties.contains_key(variable) {
                    return Err((
                        at("graphql.document"),
                        format!("variable ${variable} is not a property of input_parameters"),
                    ));
                }
                if *needed && !required.contains(variable) {
                    return Err((
                        at("input_parameters.required"),
                        format!(
                            "${variable} is non-null without a default: {variable} must be required"
                        ),
                    ));
                }
            }
            for name in properties.keys() {
                if !operation.variables.iter().any(|(v, _)| v == name) {
                    return Err((
                        at("input_parameters"),
                        format!("argument {name} is not a variable of the GraphQL operation"),
                    ));
                }
            }
            if !graphql.path.starts_with('/') {
                return Err((at("graphql.path"), "must start with /".into()));
            }
            continue;
        }
        let mut used = BTreeMap::new();
        for (place, names) in [
            ("http.path", tool.http.placeholders()),
            ("http.query", tool.http.query.clone()),
            ("http.header", tool.http.header.clone()),
            ("http.body", tool.http.body.clone()),
            (
                "http.body_whole",
                tool.http.body_whole.iter().cloned().collect(),
            ),
            ("http.form", tool.http.form.clone()),
            ("http.multipart", tool.http.multipart.clone()),
        ] {
            for name in names {
                if !properties.contains_key(&name) {
                    return Err((
                        at(place),
                        format!("{name} is not a property of input_parameters"),
                    ));
                }
                if let Some(other) = used.insert(name.clone(), place) {
                    return Err((at(place), format!("{name} is already used in {other}")));
                }
                if place == "http.path" && !required.contains(&name) {
                    return Err((
                        at(place),
                        format!("path placeholder {name} must be a required argument"),
                    ));
                }
            }
        }
        let bodies: Vec<&str> = [
            ("http.body", !tool.http.body.is_empty()),
            ("http.body_whole", tool.http.body_whole.is_some()),
            ("http.form", !tool.http.form.is_empty()),
            ("http.multipart", !tool.http.multipart.is_empty()),
        ]
        .into_iter()
        .filter_map(|(place, used)| used.then_some(place))
        .collect();
        if bodies.len() > 1 {
            return Err((
                at(bodies[1]),
                format!(
                    "a tool sends one kind of body: {} and {} cannot both be used",
                    bodies[0], bodies[1]
                ),
            ));
        }
        if !tool.http.multipart.is_empty()
            && !matches!(tool.http.method.as_str(), "POST" | "PUT" | "PATCH")
        {
            return Err((
                at("http.multipart"),
                "needs method POST, PUT or PATCH".into(),
            ));
        }
        for name in tool.http.styles.keys() {
            let place = used.get(name).copied();
            if !matches!(place, Some("http.query" | "http.header" | "http.form")) {
                return Err((
                    at("http.styles"),
                    format!("{name} is not a query, header or form argument"),
                ));
            }
        }
        for name in tool.http.wire_names.keys() {
            if !used.contains_key(name) || used.get(name) == Some(&"http.path") {
                return Err((
                    at("http.wire_names"),
                    format!("{name} is not a query, header, body, form or multipart argument"),
                ));
            }
        }
        // What a caller sends must not replace the credential or frame the
        // request: no argument is the injected header or query parameter,
        // or a header HTTP itself depends on.
        for name in &tool.http.header {
            let wire = tool.http.wire_name(name);
            let injected = toolkit
                .auth
                .inject
                .as_ref()
                .is_some_and(|i| i.location == "header" && i.name.eq_ignore_ascii_case(wire));
            if injected || RESERVED_HEADERS.contains(&wire.to_ascii_lowercase().as_str()) {
                return Err((
                    at("http.header"),
                    format!("{wire} cannot be an argument: toolshed or HTTP sets it"),
                ));
            }
        }
        for name in &tool.http.query {
            let wire = tool.http.wire_name(name);
            if toolkit
                .auth
                .inject
                .as_ref()
                .is_some_and(|i| i.location == "query" && i.name == wire)
            {
                return Err((
                    at("http.query"),
                    format!("{wire} cannot be an argument: the credential goes there"),
                ));
            }
        }
        for file in super::file_args::arguments(&tool.input_parameters) {
            if used.get(&file.name) != Some(&"http.multipart") {
                return Err((
                    at("http.multipart"),
                    format!(
                        "file argument {} must be sent as a multipart part",
                        file.name
                    ),
                ));
            }
        }
        for name in properties.keys() {
            if !used.contains_key(name) {
                return Err((
                    at("http"),
                    format!(
                        "argument {name} is not sent: put it in the path, query, header, body, body_whole, form or multipart"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Whether a top-level argument's schema says what it holds: a `type` (or
/// list of types) from TYPES, or a combination of schemas that do.
fn has_known_type(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => TYPES.contains(&t.as_str()),
        Some(Value::Array(types)) => {
            !types.is_empty()
                && types
                    .iter()
                    .all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t)))
        }
        Some(_) => false,
        None => ["anyOf", "oneOf", "allOf"].iter().any(|k| {
            schema
                .get(*k)
                .and_then(Value::as_array)
                .is_some_and(|v| !v.is_empty())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("toolkit.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    const GOOD: &str = r#"
slug = "demo"
name = "Demo"
description = "A demo."
base_url = "https://example.com"
[auth]
schemes = ["API_KEY"]
inject = { in = "header", name = "X-Key", format = "{api_key}" }
[[tools]]
slug = "DEMO_GET_THING"
name = "Get thing"
description = "Gets a thing."
http = { method = "GET", path = "/things/{id}", query = ["verbose"] }
[tools.input_parameters]
type = "object"
required = ["id"]
[tools.input_parameters.properties.id]
type = "integer"
[tools.input_parameters.properties.verbose]
type = "boolean"
"#;

    #[test]
    fn loads_a_valid_toolkit() {
        let dir = tempfile::tempdir().unwrap();
        let toolkit = load(&write(dir.path(), GOOD)).unwrap();
        assert_eq!(toolkit.tools[0].http.placeholders(), vec!["id"]);
        assert!(toolkit.tools[0].http.is_idempotent());
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        for (bad, field) in [
            (
                GOOD.replace("slug = \"DEMO_GET_THING\"", "slug = \"OTHER_GET\""),
                "slug",
            ),
            (GOOD.replace("query = [\"verbose\"]", "query = []"), "http"),
            (GOOD.replace("/things/{id}", "/things/{nope}"), "http.path"),
            (
                GOOD.replace("type = \"boolean\"", "type = \"bool\""),
                "input_parameters",
            ),
            (
                GOOD.replace("schemes = [\"API_KEY\"]", "schemes = [\"MAGIC\"]"),
                "auth.schemes[0]",
            ),
            (
                GOOD.replace("name = \"Demo\"", "name = \"Demo\"\ncolour = \"red\""),
                "line",
            ),
            // Arguments cannot set the credential or the request's framing.
            (
                GOOD.replace("query = [\"verbose\"]", "header = [\"verbose\"]")
                    .replace(
                        "}\n[tools.input",
                        ", wire_names = { verbose = \"Host\" } }\n[tools.input",
                    ),
                "http.header",
            ),
            (
                GOOD.replace("query = [\"verbose\"]", "header = [\"verbose\"]")
                    .replace(
                        "}\n[tools.input",
                        ", wire_names = { verbose = \"x-key\" } }\n[tools.input",
                    ),
                "http.header",
            ),
            (
                GOOD.replace(
                    "in = \"header\", name = \"X-Key\"",
                    "in = \"query\", name = \"verbose\"",
                ),
                "http.query",
            ),
        ] {
            let path = write(dir.path(), &bad);
            let err = load(&path).unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with(&path.display().to_string()), "{text}");
            assert!(err.field.contains(field), "{field} not in {}", err.field);
        }
    }
}
