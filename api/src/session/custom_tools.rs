//! Custom tools and toolkits (Composio's experimental API): tools an app
//! defines in its own process (`@composio.experimental.tool`,
//! `composio.experimental.Toolkit`) and sends inline, in `experimental`,
//! with each request that needs them (create, attach, search, execute);
//! v3.1 sessions do not keep them. toolshed checks them, names them
//! `LOCAL_[TOOLKIT_]SLUG` as the SDKs do, echoes them (the SDKs route
//! calls to their local handlers by that echo), ranks them in searches and
//! returns their schemas like any tool's. They run in the app: a call that
//! reaches the server anyway fails saying where it runs.

use crate::catalog::Catalog;
use crate::error::ApiError;
use serde::Deserialize;
use serde_json::{Value, json};

/// The prefix of every custom tool's slug.
pub const PREFIX: &str = "LOCAL_";
/// Longest final slug (`LOCAL_[TOOLKIT_]SLUG`), as the SDKs check it.
pub const MAX_SLUG_CHARS: usize = 60;
/// Most custom tools one request may carry.
const MAX_TOOLS: usize = 100;
/// Longest name or description, in characters.
const MAX_TEXT_CHARS: usize = 4096;
/// Largest input or output schema, serialised.
const MAX_SCHEMA_BYTES: usize = 64 << 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolRequest {
    slug: String,
    name: String,
    description: String,
    input_schema: Value,
    #[serde(default)]
    output_schema: Option<Value>,
    #[serde(default)]
    extends_toolkit: Option<String>,
    #[serde(default)]
    preload: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolkitRequest {
    slug: String,
    name: String,
    description: String,
    #[serde(default)]
    preload: Option<bool>,
    tools: Vec<ToolRequest>,
}

/// The inline payload: `experimental.{custom_tools, custom_toolkits}`.
#[derive(Debug, Default, Deserialize)]
struct Inline {
    #[serde(default)]
    custom_tools: Option<Vec<ToolRequest>>,
    #[serde(default)]
    custom_toolkits: Option<Vec<ToolkitRequest>>,
}

/// One custom tool, named.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomTool {
    /// `LOCAL_[TOOLKIT_]SLUG`.
    pub slug: String,
    /// The slug the app gave.
    pub original_slug: String,
    /// Display name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its input.
    pub input_schema: Value,
    /// JSON Schema of its output, when given.
    pub output_schema: Option<Value>,
    /// The catalog toolkit whose connected account it uses, when it
    /// extends one.
    pub extends_toolkit: Option<String>,
    /// The custom toolkit it belongs to (its slug as given), when it does.
    pub toolkit: Option<String>,
    /// Whether it is listed directly (not only through search).
    pub preload: Option<bool>,
}

impl CustomTool {
    /// The toolkit it is ranked and grouped under: the one it extends, or
    /// its custom toolkit (lower-case).
    pub fn toolkit_slug(&self) -> String {
        self.extends_toolkit
            .clone()
            .or_else(|| self.toolkit.as_ref().map(|t| t.to_ascii_lowercase()))
            .unwrap_or_else(|| "custom".to_owned())
    }
}

/// A custom toolkit.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomToolkit {
    /// Its slug as given.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Whether its tools are listed directly.
    pub preload: Option<bool>,
}

/// The custom tools and toolkits one request carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Customs {
    /// Every custom tool (standalone ones and toolkits' ones).
    pub tools: Vec<CustomTool>,
    /// The custom toolkits.
    pub toolkits: Vec<CustomToolkit>,
}

fn bad(field: &str, problem: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("experimental.{field}: {problem}"))
}

/// A custom tool or toolkit slug, checked as the SDKs check it.
fn check_slug(slug: &str, field: &str) -> Result<(), ApiError> {
    if slug.is_empty()
        || !slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(bad(field, "must be letters, digits, _ and - (not empty)"));
    }
    let upper = slug.to_ascii_uppercase();
    if upper.starts_with(PREFIX) || upper.starts_with("COMPOSIO_") {
        return Err(bad(
            field,
            "must not start with LOCAL_ or COMPOSIO_ (reserved)",
        ));
    }
    Ok(())
}

fn check_text(text: &str, field: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(bad(
            field,
            format!("must be 1 to {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}

fn check_schema(schema: &Value, field: &str) -> Result<(), ApiError> {
    let size = serde_json::to_vec(schema).map_or(usize::MAX, |v| v.len());
    if size > MAX_SCHEMA_BYTES {
        return Err(bad(
            field,
            format!("at most {} KiB", MAX_SCHEMA_BYTES >> 10),
        ));
    }
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(bad(field, "must be a JSON Schema of type object"));
    }
    if let Err(err) = jsonschema::meta::validate(schema) {
        return Err(bad(
            field,
            format!(
                "is not a valid JSON Schema: {}",
                crate::error::clip(&err.to_string(), 200)
            ),
        ));
    }
    Ok(())
}

/// Names and checks one tool (`toolkit`: the custom toolkit's slug).
fn tool(
    request: ToolRequest,
    toolkit: Option<&str>,
    field: &str,
    catalog: &Catalog,
) -> Result<CustomTool, ApiError> {
    check_slug(&request.slug, &format!("{field}.slug"))?;
    check_text(&request.name, &format!("{field}.name"))?;
    check_text(&request.description, &format!("{field}.description"))?;
    check_schema(&request.input_schema, &format!("{field}.input_schema"))?;
    if let Some(output) = &request.output_schema {
        check_schema(output, &format!("{field}.output_schema"))?;
    }
    let extends = match request.extends_toolkit.as_deref() {
        None => None,
        Some(_) if toolkit.is_some() => {
            return Err(bad(
                &format!("{field}.extends_toolkit"),
                "a custom toolkit's tools take the toolkit's identity, not extends_toolkit",
            ));
        }
        Some(slug) => match catalog.toolkit(slug) {
            Some(found) => Some(found.slug.clone()),
            None => {
                return Err(bad(
                    &format!("{field}.extends_toolkit"),
                    format!(
                        "no toolkit {} in this server's catalog",
                        crate::error::clip(slug, 64)
                    ),
                ));
            }
        },
    };
    let prefix = extends.as_deref().or(toolkit);
    let slug = match prefix {
        Some(p) => format!(
            "{PREFIX}{}_{}",
            p.to_ascii_uppercase(),
            request.slug.to_ascii_uppercase()
        ),
        None => format!("{PREFIX}{}", request.slug.to_ascii_uppercase()),
    };
    if slug.len() > MAX_SLUG_CHARS {
        return Err(bad(
            &format!("{field}.slug"),
            format!("the final slug {slug} is longer than {MAX_SLUG_CHARS} characters"),
        ));
    }
    Ok(CustomTool {
        slug,
        original_slug: request.slug,
        name: request.name,
        description: request.description,
        input_schema: request.input_schema,
        output_schema: request.output_schema,
        extends_toolkit: extends,
        toolkit: toolkit.map(str::to_owned),
        preload: request.preload,
    })
}

impl Customs {
    /// The custom tools of a request's `experimental` block (none when it
    /// is absent or names none); 400 naming the field when one is wrong.
    pub fn parse(experimental: Option<&Value>, catalog: &Catalog) -> Result<Customs, ApiError> {
        let Some(experimental) = experimental.filter(|e| !e.is_null()) else {
            return Ok(Customs::default());
        };
        if !experimental.is_object() {
            return Err(ApiError::BadRequest(
                "experimental: must be an object".into(),
            ));
        }
        let inline: Inline = serde_path_to_error::deserialize(experimental).map_err(|err| {
            let path = err.path().to_string();
            bad(&path, crate::error::clip(&err.inner().to_string(), 200))
        })?;
        let mut customs = Customs::default();
        for (i, request) in inline
            .custom_tools
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            customs
                .tools
                .push(tool(request, None, &format!("custom_tools[{i}]"), catalog)?);
        }
        for (i, toolkit) in inline
            .custom_toolkits
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let field = format!("custom_toolkits[{i}]");
            check_slug(&toolkit.slug, &format!("{field}.slug"))?;
            check_text(&toolkit.name, &format!("{field}.name"))?;
            check_text(&toolkit.description, &format!("{field}.description"))?;
            if toolkit.tools.is_empty() {
                return Err(bad(
                    &format!("{field}.tools"),
                    "must list at least one tool",
                ));
            }
            for (j, request) in toolkit.tools.into_iter().enumerate() {
                customs.tools.push(tool(
                    request,
                    Some(&toolkit.slug),
                    &format!("{field}.tools[{j}]"),
                    catalog,
                )?);
            }
            customs.toolkits.push(CustomToolkit {
                slug: toolkit.slug,
                name: toolkit.name,
                description: toolkit.description,
                preload: toolkit.preload,
            });
        }
        if customs.tools.len() > MAX_TOOLS {
            return Err(bad(
                "custom_tools",
                format!("at most {MAX_TOOLS} custom tools per request"),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for tool in &customs.tools {
            if !seen.insert(tool.slug.clone()) {
                return Err(bad(
                    "custom_tools",
                    format!("{} is defined twice", tool.slug),
                ));
            }
        }
        Ok(customs)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// A custom tool by its final slug (case-insensitive).
    pub fn get(&self, slug: &str) -> Option<&CustomTool> {
        self.tools
            .iter()
            .find(|t| t.slug.eq_ignore_ascii_case(slug))
    }

    /// The echo in a session response's `experimental`: the standalone
    /// tools, and the toolkits with theirs, each with `slug` and
    /// `original_slug`.
    pub fn echo(&self) -> (Vec<Value>, Vec<Value>) {
        let item = |t: &CustomTool| {
            let mut out = json!({
                "slug": t.slug, "original_slug": t.original_slug, "name": t.name,
                "description": t.description, "input_schema": t.input_schema,
            });
            if let Some(schema) = &t.output_schema {
                out["output_schema"] = schema.clone();
            }
            if let Some(extends) = &t.extends_toolkit {
                out["extends_toolkit"] = json!(extends);
            }
            if let Some(preload) = t.preload {
                out["preload"] = json!(preload);
            }
            out
        };
        let tools = self
            .tools
            .iter()
            .filter(|t| t.toolkit.is_none())
            .map(item)
            .collect();
        let toolkits = self
            .toolkits
            .iter()
            .map(|k| {
                let mut out = json!({
                    "slug": k.slug, "name": k.name, "description": k.description,
                    "tools": self.tools.iter().filter(|t| t.toolkit.as_deref() == Some(&k.slug)).map(item).collect::<Vec<_>>(),
                });
                if let Some(preload) = k.preload {
                    out["preload"] = json!(preload);
                }
                out
            })
            .collect();
        (tools, toolkits)
    }
}

/// Whether `slug` names a custom tool (by its prefix).
pub fn is_custom(slug: &str) -> bool {
    slug.len() > PREFIX.len() && slug[..PREFIX.len()].eq_ignore_ascii_case(PREFIX)
}

/// What an agent reads when a custom tool's call reaches the server.
pub fn runs_in_the_app(slug: &str) -> String {
    format!(
        "{} is a custom tool: it runs in the app that defined it, not on the server, so nothing ran. Call it through the SDK session that defined it (session.execute(\"{0}\"), or the tools of its agentic provider), not through COMPOSIO_MULTI_EXECUTE_TOOL over the server, the workbench or MCP",
        crate::error::clip(slug, 128)
    )
}
