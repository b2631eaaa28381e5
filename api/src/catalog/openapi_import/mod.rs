//! Toolkits from OpenAPI 3.0 and 3.1 documents (docs/TOOLKITS.md, "From an
//! OpenAPI document").
//!
//! A toolkit folder whose `toolkit.toml` has an `[openapi]` table is an
//! overlay: it names the document and may set the toolkit's slug, name,
//! logo, base URL and auth, choose operations, rename them and add
//! hand-written tools. The document is parsed with `openapiv3`; schemas are
//! converted from the raw JSON so nothing the model drops is lost.
//!
//! - `schema.rs`: `$ref` inlining and OpenAPI-to-JSON-Schema keywords.
//! - `operation.rs`: one operation as one tool.
//! - `auth.rs`: `securitySchemes` as `[auth]`.
//! - `cache.rs`: imports kept on disk between starts.
//! - `v31.rs`: OpenAPI 3.1 documents in 3.0 terms.

mod auth;
pub mod cache;
mod operation;
mod schema;
mod v31;

use super::toolkit::{Auth, Tool, Toolkit};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The longest tool slug.
pub const MAX_SLUG: usize = 128;

/// A `toolkit.toml` with an `[openapi]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// Lower-case slug.
    pub slug: String,
    /// Display name (default: the document's `info.title`).
    #[serde(default)]
    pub name: Option<String>,
    /// What it is for (default: the first paragraph of `info.description`).
    #[serde(default)]
    pub description: Option<String>,
    /// Logo URL.
    #[serde(default)]
    pub logo: String,
    /// Upstream base URL (default: the document's first server).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Authentication (default: from `securitySchemes`).
    #[serde(default)]
    pub auth: Option<Auth>,
    /// The document and how to read it.
    pub openapi: Source,
    /// Hand-written tools, added to the imported ones (one with the slug
    /// of an imported tool replaces it).
    #[serde(default)]
    pub tools: Vec<Tool>,
}

/// The `[openapi]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The document, relative to the toolkit's folder (JSON or YAML).
    pub document: PathBuf,
    /// Operations to import (default: all). Each pattern matches an
    /// operationId, `tag:NAME` or `METHOD /path`; `*` is a wildcard.
    #[serde(default)]
    pub include: Vec<String>,
    /// Operations to leave out, matched like `include`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Tool actions by operationId (or `METHOD /path`), e.g.
    /// `"repos/get" = "GET_REPOSITORY"` for slug `GITHUB_GET_REPOSITORY`.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// The toolkit's main operations, matched like `include`: tagged
    /// `important`, ranked first among equals by search, and the ones
    /// listed when a client asks for important tools (as the SDKs do when
    /// they list a toolkit's tools).
    #[serde(default)]
    pub important: Vec<String>,
    /// Headers sent with every call (e.g. an API version).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Whether deprecated operations are imported (default: no).
    #[serde(default)]
    pub include_deprecated: bool,
}

/// A document that could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not JSON or YAML.
    #[error("not JSON or YAML: {0}")]
    Syntax(String),
    /// Not an OpenAPI version this importer reads.
    #[error("{0}")]
    Version(String),
    /// Not a valid OpenAPI 3.0 (or 3.1) document.
    #[error("not a valid OpenAPI document at {path}: {problem}")]
    Invalid {
        /// Where in the document.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The overlay is wrong.
    #[error("{field}: {problem}")]
    Overlay {
        /// The overlay field.
        field: String,
        /// What is wrong.
        problem: String,
    },
}

/// What an import made, and what it left out.
#[derive(Debug, serde::Serialize, Deserialize)]
pub struct Imported {
    /// The toolkit.
    pub toolkit: Toolkit,
    /// The operations in the document (before include/exclude).
    pub operations: usize,
    /// Operations not imported, with why.
    pub skipped: Vec<(String, String)>,
    /// Tools whose slug is not the one their operation asked for, with why.
    pub renamed: Vec<(String, String)>,
    /// Other remarks (auth schemes not used, parameters left out).
    pub notes: Vec<String>,
}

/// Imports a document (JSON or YAML text) as the overlay says.
pub fn import(text: &str, overlay: &Overlay) -> Result<Imported, ImportError> {
    if overlay.slug.is_empty()
        || !overlay
            .slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(ImportError::Overlay {
            field: "slug".into(),
            problem: "must be lower-case letters, digits and _".into(),
        });
    }
    let mut notes = Vec::new();
    let mut raw = parse_text(text)?;
    if raw
        .get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("3.1"))
    {
        v31::downgrade(&mut raw);
    }
    let doc = match parse_document(&raw) {
        Err(ImportError::Invalid { path, .. }) if path.starts_with("components.schemas.") => {
            // The model refused a named schema (real documents have, e.g.,
            // an integer `format`). Those are only reached through `$ref`,
            // which the conversion resolves in the raw document, so the
            // model can read a copy without them.
            let mut skeleton = raw.clone();
            if let Some(Value::Object(schemas)) = skeleton.pointer_mut("/components/schemas") {
                schemas
                    .values_mut()
                    .for_each(|s| *s = Value::Object(Default::default()));
            }
            notes.push(format!(
                "the OpenAPI model could not read {path}; schemas were read from the raw document"
            ));
            parse_document(&skeleton)?
        }
        other => other?,
    };
    let selection = Selection::new(&overlay.openapi)?;
    let important = Selection::patterns("important", &overlay.openapi.important)?;
    let converter = schema::Converter::new(&raw);
    let base_url = match &overlay.base_url {
        Some(url) => url.clone(),
        None => server_url(&doc).ok_or_else(|| ImportError::Overlay {
            field: "base_url".into(),
            problem: "the document names no absolute server URL; set base_url".into(),
        })?,
    };
    let (auth, auth_notes) = match &overlay.auth {
        Some(auth) => (auth.clone(), Vec::new()),
        None => auth::from_document(&doc, &base_url),
    };
    notes.extend(auth_notes);
    let prefix = format!("{}_", overlay.slug.to_ascii_uppercase());

    // Operations in a fixed order (path, then method), so slugs that
    // collide are numbered the same way on every import.
    let mut found = Vec::new();
    for (path, item) in doc.paths.iter() {
        let Some(item) = item.as_item() else {
            notes.push(format!(
                "path {path}: path item references are not followed"
            ));
            continue;
        };
        for (method, op) in item.iter() {
            found.push((path.clone(), method.to_ascii_uppercase(), item, op));
        }
    }
    found.sort_by(|a, b| (&a.0, method_rank(&a.1)).cmp(&(&b.0, method_rank(&b.1))));
    let operations = found.len();
    let mut skipped = Vec::new();
    let mut built: Vec<(String, String, Tool)> = Vec::new();
    for (path, method, item, op) in &found {
        let label = op
            .operation_id
            .clone()
            .unwrap_or_else(|| format!("{method} {path}"));
        if !selection.wants(op, method, path) {
            continue;
        }
        if op.deprecated && !overlay.openapi.include_deprecated {
            skipped.push((label, "deprecated (set include_deprecated = true)".into()));
            continue;
        }
        let context = operation::Context {
            doc: &doc,
            converter: &converter,
            inject: auth.inject.as_ref().map(|i| i.name.as_str()),
            headers: &overlay.openapi.headers,
        };
        match operation::build(&context, path, method, item, op) {
            Ok(mut tool) => {
                if selection_names(op, method, path)
                    .iter()
                    .any(|n| important.is_match(n))
                {
                    tool.tags.insert(0, "important".into());
                }
                let requested = overlay
                    .openapi
                    .rename
                    .get(&label)
                    .or_else(|| overlay.openapi.rename.get(&format!("{method} {path}")))
                    .map(|action| slug(&prefix, action))
                    .unwrap_or_else(|| {
                        // An operationId with nothing usable in it names
                        // the tool by method and path instead.
                        let named = op.operation_id.as_deref().unwrap_or(&label);
                        match action_slug(&prefix, named) {
                            s if s.len() > prefix.len() => s,
                            _ => slug(&prefix, &format!("{method} {path}")),
                        }
                    });
                tool.slug = requested.clone();
                built.push((label, requested, tool));
            }
            Err(reason) => skipped.push((label, reason)),
        }
    }
    for pattern in overlay.openapi.rename.keys() {
        if !built.iter().any(|(label, _, tool)| {
            label == pattern || format!("{} {}", tool.http.method, tool.http.path) == *pattern
        }) {
            notes.push(format!(
                "rename {pattern}: no imported operation has this operationId"
            ));
        }
    }

    // Renamed operations claim their slugs first; the rest in order.
    let mut taken: BTreeSet<String> = overlay.tools.iter().map(|t| t.slug.clone()).collect();
    let mut renamed = Vec::new();
    let mut tools = Vec::new();
    let (first, rest): (Vec<_>, Vec<_>) = built
        .into_iter()
        .partition(|(label, _, _)| overlay.openapi.rename.contains_key(label));
    for (label, requested, mut tool) in first.into_iter().chain(rest) {
        if overlay.tools.iter().any(|t| t.slug == requested) {
            skipped.push((
                label,
                format!("replaced by the hand-written tool {requested}"),
            ));
            continue;
        }
        let mut candidate = requested.clone();
        let mut n = 2;
        while !taken.insert(candidate.clone()) {
            let suffix = format!("_{n}");
            candidate = format!(
                "{}{suffix}",
                &requested[..requested.len().min(MAX_SLUG - suffix.len())]
            );
            n += 1;
        }
        if candidate != requested {
            renamed.push((
                label,
                format!("{candidate}: {requested} is taken by another operation"),
            ));
        }
        tool.slug = candidate;
        tools.push(tool);
    }
    tools.extend(overlay.tools.iter().cloned());
    tools.sort_by(|a, b| a.slug.cmp(&b.slug));

    let toolkit = Toolkit {
        slug: overlay.slug.clone(),
        name: overlay
            .name
            .clone()
            .unwrap_or_else(|| doc.info.title.clone()),
        description: overlay.description.clone().unwrap_or_else(|| {
            doc.info
                .description
                .as_deref()
                .map(|d| operation::first_paragraph(d, 300))
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| doc.info.title.clone())
        }),
        logo: overlay.logo.clone(),
        base_url,
        categories: overlay.categories.clone(),
        auth,
        tools,
        mcp: None,
        tools_count: 0,
    };
    Ok(Imported {
        toolkit,
        operations,
        skipped,
        renamed,
        notes,
    })
}

/// JSON, else YAML.
fn parse_text(text: &str) -> Result<Value, ImportError> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(json) if text.trim_start().starts_with('{') => {
            Err(ImportError::Syntax(format!("JSON: {json}")))
        }
        Err(_) => yaml_serde::from_str(text).map_err(|e| ImportError::Syntax(format!("YAML: {e}"))),
    }
}

/// The typed document, after checking its version.
fn parse_document(raw: &Value) -> Result<openapiv3::OpenAPI, ImportError> {
    if let Some(version) = raw.get("swagger") {
        return Err(ImportError::Version(format!(
            "Swagger {version} documents are not read; convert the document to OpenAPI 3.0 first (e.g. with swagger2openapi)"
        )));
    }
    match raw.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0") => {}
        Some(v) => {
            return Err(ImportError::Version(format!(
                "OpenAPI {v} is not read; OpenAPI 3.0 and 3.1 documents are"
            )));
        }
        None => {
            return Err(ImportError::Version(
                "not an OpenAPI document (no \"openapi\" version field)".into(),
            ));
        }
    }
    serde_path_to_error::deserialize(raw).map_err(|e| ImportError::Invalid {
        path: e.path().to_string(),
        problem: e.inner().to_string(),
    })
}

/// The first server's URL with its variables at their defaults, if absolute.
fn server_url(doc: &openapiv3::OpenAPI) -> Option<String> {
    let server = doc.servers.first()?;
    let mut url = server.url.clone();
    for (name, variable) in server.variables.iter().flatten() {
        url = url.replace(&format!("{{{name}}}"), &variable.default);
    }
    super::toolkit::is_http_url(&url).then(|| url.trim_end_matches('/').to_owned())
}

fn method_rank(method: &str) -> usize {
    [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
    ]
    .iter()
    .position(|m| *m == method)
    .unwrap_or(usize::MAX)
}

/// `PREFIX_ACTION`: camelCase words split, upper case, every other
/// character `_` (runs of them collapsed), at most MAX_SLUG characters. An
/// action that already starts with the prefix keeps it once.
pub fn slug(prefix: &str, action: &str) -> String {
    let slug = action_slug(prefix, action);
    if slug.len() > prefix.len() {
        slug
    } else {
        // Nothing usable in the name (e.g. an operationId of "/").
        format!("{prefix}OPERATION")
    }
}

fn action_slug(prefix: &str, action: &str) -> String {
    let chars: Vec<char> = action.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        // getTasks -> GET_TASKS, listHTTPRoutes -> LIST_HTTP_ROUTES.
        let word_start = c.is_ascii_uppercase()
            && previous.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(char::is_ascii_lowercase))
            });
        if word_start && !out.ends_with('_') {
            out.push('_');
        }
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    let action = out.trim_end_matches('_');
    let action = action.strip_prefix(prefix).unwrap_or(action);
    let mut slug = format!("{prefix}{action}");
    slug.truncate(MAX_SLUG);
    slug.trim_end_matches('_').to_owned()
}

/// Which operations the overlay asks for.
struct Selection {
    include: Option<globset::GlobSet>,
    exclude: globset::GlobSet,
}

/// The names an overlay pattern may match an operation by.
fn selection_names(op: &openapiv3::Operation, method: &str, path: &str) -> Vec<String> {
    let mut names = vec![format!("{method} {path}")];
    names.extend(op.operation_id.clone());
    names.extend(op.tags.iter().map(|t| format!("tag:{t}")));
    names
}

impl Selection {
    fn new(source: &Source) -> Result<Selection, ImportError> {
        Ok(Selection {
            include: if source.include.is_empty() {
                None
            } else {
                Some(Selection::patterns("include", &source.include)?)
            },
            exclude: Selection::patterns("exclude", &source.exclude)?,
        })
    }

    /// The overlay's `openapi.<field>` patterns, compiled.
    fn patterns(field: &str, patterns: &[String]) -> Result<globset::GlobSet, ImportError> {
        let mut builder = globset::GlobSetBuilder::new();
        for (i, pattern) in patterns.iter().enumerate() {
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(false)
                .build()
                .map_err(|e| ImportError::Overlay {
                    field: format!("openapi.{field}[{i}]"),
                    problem: e.to_string(),
                })?;
            builder.add(glob);
        }
        builder.build().map_err(|e| ImportError::Overlay {
            field: format!("openapi.{field}"),
            problem: e.to_string(),
        })
    }

    fn wants(&self, op: &openapiv3::Operation, method: &str, path: &str) -> bool {
        let names = selection_names(op, method, path);
        let hit = |set: &globset::GlobSet| names.iter().any(|n| set.is_match(n));
        self.include.as_ref().is_none_or(hit) && !hit(&self.exclude)
    }
}

#[cfg(test)]
mod tests;
