//! The catalog of app tools: toolkits loaded from `toolkit.toml` files,
//! their tools' schemas in the wire shape, argument validation, session
//! filters, and search.
//!
//! - `toolkit.rs`: the file format and its validation.
//! - `search.rs`: BM25 ranking over slug, name, description, tags, toolkit.
//! - `http.rs`: executing a tool over HTTP against its upstream.
//! - `graphql.rs`: GraphQL bindings (operation, variables, errors).
//! - `openapi_import/`: toolkits from OpenAPI documents.
//! - `mcp/`: toolkits whose tools come from MCP servers.
//! - `live.rs`: the catalog being served, replaced on reload.

pub mod file_args;
pub mod graphql;
pub mod http;
pub mod intent;
pub mod live;
pub mod mcp;
pub mod openapi_import;
pub mod proxy;
pub mod search;
pub mod toolkit;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use toolkit::{Tool, Toolkit, ToolkitError};

/// A tool with its toolkit and argument validator.
pub struct CatalogTool {
    /// The definition.
    pub tool: Tool,
    /// The toolkit's slug.
    pub toolkit: String,
    /// Compiled on the tool's first call: a catalog of thousands of
    /// imported tools would otherwise hold thousands of validators that
    /// are never used (the schemas were checked to compile at load).
    validator: std::sync::OnceLock<jsonschema::Validator>,
}

impl std::fmt::Debug for CatalogTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogTool")
            .field("slug", &self.tool.slug)
            .finish()
    }
}

/// Every toolkit and tool the server knows.
#[derive(Debug, Default)]
pub struct Catalog {
    toolkits: BTreeMap<String, Toolkit>,
    tools: BTreeMap<String, Arc<CatalogTool>>,
    index: search::Index,
}

impl Catalog {
    /// Loads every `*/toolkit.toml` under `dir`, applying base-URL overrides
    /// (`TOOLSHED_BASE_URL_<SLUG>`, `TOOLSHED_BASE_URL_ALL` with `{slug}`,
    /// then `overrides`).
    pub fn load(dir: &Path, overrides: &BTreeMap<String, String>) -> Result<Catalog, ToolkitError> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| ToolkitError {
                path: dir.to_owned(),
                field: "directory".into(),
                problem: e.to_string(),
            })?
            .filter_map(Result::ok)
            .map(|e| e.path().join("toolkit.toml"))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        // Files load side by side: an import or an MCP server's listing
        // waits on its own, not after every other.
        let loaded: Vec<Result<Toolkit, ToolkitError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = entries
                .iter()
                .map(|path| scope.spawn(move || toolkit::load(path)))
                .collect();
            handles
                .into_iter()
                .zip(&entries)
                .map(|(handle, path)| {
                    handle.join().unwrap_or_else(|_| {
                        Err(ToolkitError {
                            path: path.clone(),
                            field: "file".into(),
                            problem: "loading it panicked".into(),
                        })
                    })
                })
                .collect()
        });
        let mut toolkits = Vec::new();
        for (path, toolkit) in entries.into_iter().zip(loaded) {
            let mut toolkit = toolkit?;
            if toolkit.mcp.is_none()
                && let Some(url) = base_url_override(&toolkit.slug, overrides)
            {
                toolkit.base_url = url;
            }
            toolkits.push((path, toolkit));
        }
        Catalog::from_toolkits(toolkits)
    }

    fn from_toolkits(
        toolkits: Vec<(std::path::PathBuf, Toolkit)>,
    ) -> Result<Catalog, ToolkitError> {
        let mut catalog = Catalog::default();
        for (path, mut toolkit) in toolkits {
            if catalog.toolkits.contains_key(&toolkit.slug) {
                return Err(ToolkitError {
                    path,
                    field: "slug".into(),
                    problem: format!("toolkit {} is defined twice", toolkit.slug),
                });
            }
            // The tools move to the catalog's map (one copy each).
            toolkit.tools_count = toolkit.tools.len();
            for tool in std::mem::take(&mut toolkit.tools) {
                if let Err(e) = jsonschema::validator_for(&tool.input_parameters) {
                    return Err(ToolkitError {
                        path: path.clone(),
                        field: format!("tools ({}).input_parameters", tool.slug),
                        problem: e.to_string(),
                    });
                }
                if catalog.tools.contains_key(&tool.slug) && toolkit.mcp.is_some() {
                    // A server's listing must not stop the catalog loading.
                    tracing::warn!(toolkit = %toolkit.slug, tool = %tool.slug, "an MCP tool's slug is another toolkit's tool: not served");
                    toolkit.tools_count -= 1;
                    continue;
                }
                if catalog.tools.contains_key(&tool.slug) {
                    return Err(ToolkitError {
                        path: path.clone(),
                        field: format!("tools ({}).slug", tool.slug),
                        problem: "is defined in two toolkits".into(),
                    });
                }
                catalog.tools.insert(
                    tool.slug.clone(),
                    Arc::new(CatalogTool {
                        tool,
                        toolkit: toolkit.slug.clone(),
                        validator: std::sync::OnceLock::new(),
                    }),
                );
            }
            catalog.toolkits.insert(toolkit.slug.clone(), toolkit);
        }
        catalog.index = search::Index::build(&catalog);
        Ok(catalog)
    }

    /// A toolkit by slug (case-insensitive).
    pub fn toolkit(&self, slug: &str) -> Option<&Toolkit> {
        self.toolkits.get(&slug.to_ascii_lowercase())
    }

    /// Every toolkit, by slug.
    pub fn toolkits(&self) -> impl Iterator<Item = &Toolkit> {
        self.toolkits.values()
    }

    /// A tool by slug (case-insensitive).
    pub fn tool(&self, slug: &str) -> Option<&Arc<CatalogTool>> {
        self.tools.get(&slug.to_ascii_uppercase())
    }

    /// Every tool, by slug.
    pub fn tools(&self) -> impl Iterator<Item = &Arc<CatalogTool>> {
        self.tools.values()
    }

    /// The search index.
    pub fn index(&self) -> &search::Index {
        &self.index
    }
}

fn base_url_override(slug: &str, overrides: &BTreeMap<String, String>) -> Option<String> {
    let env_key = format!("TOOLSHED_BASE_URL_{}", slug.to_ascii_uppercase());
    if let Ok(url) = std::env::var(&env_key)
        && !url.is_empty()
    {
        return Some(url);
    }
    if let Ok(url) = std::env::var("TOOLSHED_BASE_URL_ALL")
        && !url.is_empty()
    {
        return Some(url.replace("{slug}", slug));
    }
    overrides.get(slug).cloned()
}

impl CatalogTool {
    /// Validates arguments; the message names the first wrong field.
    pub fn validate(&self, arguments: &Value) -> Result<(), String> {
        let validator = match self.validator.get() {
            Some(validator) => validator,
            None => {
                let compiled = jsonschema::validator_for(&self.tool.input_parameters)
                    .map_err(|e| format!("the tool's argument schema does not compile: {e}"))?;
                self.validator.get_or_init(|| compiled)
            }
        };
        let errors: Vec<String> = validator
            .iter_errors(arguments)
            .take(3)
            .map(|e| {
                let path = e.instance_path().to_string();
                let field = if path.is_empty() {
                    "arguments".to_owned()
                } else {
                    format!("arguments{}", path.replace('/', "."))
                };
                format!("{field}: {e}")
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}
