//! A session's configuration: parsed from the create/PATCH request shape
//! (`enable`/`disable`) into the response shape (`enabled`/`disabled`) the
//! SDK reads back. Unknown keys are ignored (the SDK sends fields we do not
//! use); wrong types are rejected with a message naming the field.

use crate::catalog::{Catalog, CatalogTool};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Longest `user_id`, in bytes.
pub const MAX_USER_ID_BYTES: usize = 256;
/// Largest session config, serialised as stored. Every list and value the
/// config keeps (toolkit and tool filters, tags, pinned accounts, the blocks
/// kept as given) counts against it, so one request cannot store an
/// unbounded document.
pub const MAX_CONFIG_BYTES: usize = 64 << 10;

/// Default `workbench.auto_offload_threshold`, in characters.
pub const DEFAULT_OFFLOAD_THRESHOLD: u64 = 20_000;

/// Which toolkits (or tools, or tags) a session allows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Filter {
    /// Only these, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Vec<String>>,
    /// Never these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Vec<String>>,
    /// These need approval (recorded; approvals are not implemented yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Vec<String>>,
}

impl Filter {
    /// Whether `name` passes the filter (case-insensitive).
    pub fn allows(&self, name: &str) -> bool {
        self.passes(|entry| entry.eq_ignore_ascii_case(name))
    }

    /// Whether something passes: no disabled entry matches it and, when
    /// there is an enabled list, an entry of it does.
    fn passes(&self, matches: impl Fn(&str) -> bool) -> bool {
        let has = |list: &Option<Vec<String>>| {
            list.as_ref()
                .is_some_and(|l| l.iter().any(|entry| matches(entry)))
        };
        if has(&self.disabled) {
            return false;
        }
        match &self.enabled {
            Some(_) => has(&self.enabled),
            None => true,
        }
    }
}

/// The workbench block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Workbench {
    /// Whether the workbench meta tools are exposed.
    pub enable: bool,
    /// Whether proxy execution is allowed from the workbench.
    pub proxy_execution_enabled: bool,
    /// Responses longer than this many characters are offloaded to a file.
    pub auto_offload_threshold: u64,
    /// standard | medium | large | xlarge.
    pub sandbox_size: String,
    /// Whether cells may call tools.
    pub tool_execution_enabled: bool,
}

/// The normalized session config (response shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionConfig {
    /// The end user.
    pub user_id: String,
    /// Toolkit filter; `None` allows every toolkit.
    pub toolkits: Option<Filter>,
    /// Per-toolkit tool filters (tool slugs, or `tags`).
    pub tools: BTreeMap<String, Filter>,
    /// Tag filter over MCP hints.
    pub tags: Option<Filter>,
    /// Toolkit -> auth config id.
    pub auth_configs: BTreeMap<String, String>,
    /// Toolkit -> connected account ids to use.
    pub connected_accounts: BTreeMap<String, Vec<String>>,
    /// The connection-management block.
    pub manage_connections: Value,
    /// The workbench block.
    pub workbench: Workbench,
    /// The multi-account block, as given.
    pub multi_account: Value,
    /// `{"tools": [...] | "all"}`.
    pub preload: Value,
    /// `{"enable": bool}`.
    pub search: Value,
    /// `{"enable_multi_execute": bool}`.
    pub execute: Value,
    /// `{"enable": bool}`.
    pub proxy_execute: Value,
    /// `false` or the instant block, as given.
    pub instant: Value,
}

/// A config field with the wrong type or value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ConfigError {
    /// The dotted path of the field.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

fn bad(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

impl SessionConfig {
    /// Parses a create request.
    pub fn from_request(body: &Value) -> Result<SessionConfig, ConfigError> {
        let obj = body
            .as_object()
            .ok_or_else(|| bad("body", "must be a JSON object"))?;
        let user_id = match obj.get("user_id") {
            Some(Value::String(s)) if s.len() > MAX_USER_ID_BYTES => {
                return Err(bad(
                    "user_id",
                    format!("must be at most {MAX_USER_ID_BYTES} bytes"),
                ));
            }
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(bad("user_id", "is required and must be a non-empty string"));
            }
            Some(_) => return Err(bad("user_id", "must be a string")),
        };
        let mut config = SessionConfig {
            user_id,
            toolkits: None,
            tools: BTreeMap::new(),
            tags: None,
            auth_configs: BTreeMap::new(),
            connected_accounts: BTreeMap::new(),
            manage_connections: json!({"enabled": true, "enable_connection_removal": true, "enable_wait_for_connections": false}),
            workbench: Workbench {
                enable: true,
                proxy_execution_enabled: true,
                auto_offload_threshold: DEFAULT_OFFLOAD_THRESHOLD,
                sandbox_size: "standard".into(),
                tool_execution_enabled: true,
            },
            multi_account: Value::Null,
            preload: json!({"tools": []}),
            search: json!({"enable": true}),
            execute: json!({"enable_multi_execute": true}),
            proxy_execute: json!({"enable": false}),
            instant: Value::Bool(false),
        };
        config.apply(obj)?;
        config.check_size()?;
        Ok(config)
    }

    /// The config as stored must fit [`MAX_CONFIG_BYTES`].
    fn check_size(&self) -> Result<(), ConfigError> {
        let stored = serde_json::to_vec(self).map_or(usize::MAX, |v| v.len());
        if stored > MAX_CONFIG_BYTES {
            return Err(bad(
                "config",
                format!(
                    "is {stored} bytes as stored; a session config may be at most {MAX_CONFIG_BYTES} (shorten its lists)"
                ),
            ));
        }
        Ok(())
    }

    /// Applies a PATCH: present keys replace their block, `null` resets it.
    pub fn patched(&self, patch: &Value) -> Result<SessionConfig, ConfigError> {
        let obj = patch
            .as_object()
            .ok_or_else(|| bad("body", "must be a JSON object"))?;
        if let Some(user) = obj.get("user_id")
            && user.as_str() != Some(self.user_id.as_str())
            && !user.is_null()
        {
            return Err(bad("user_id", "cannot be changed; create a new session"));
        }
        let mut base = SessionConfig::from_request(&json!({"user_id": self.user_id}))?;
        // Start from the current config, then apply the patch on top.
        base.clone_from(self);
        let mut reset = Map::new();
        for (key, value) in obj {
            if value.is_null() {
                reset.insert(key.clone(), Value::Null);
            }
        }
        let defaults = SessionConfig::from_request(&json!({"user_id": self.user_id}))?;
        for key in reset.keys() {
            match key.as_str() {
                "toolkits" => base.toolkits = None,
                "tools" => base.tools.clear(),
                "tags" => base.tags = None,
                "auth_configs" => base.auth_configs.clear(),
                "connected_accounts" => base.connected_accounts.clear(),
                "manage_connections" => {
                    base.manage_connections = defaults.manage_connections.clone()
                }
                "workbench" | "sandbox" => base.workbench = defaults.workbench.clone(),
                "multi_account" => base.multi_account = Value::Null,
                "preload" => base.preload = defaults.preload.clone(),
                "search" => base.search = defaults.search.clone(),
                "execute" => base.execute = defaults.execute.clone(),
                "proxy_execute" => base.proxy_execute = defaults.proxy_execute.clone(),
                _ => {}
            }
        }
        let rest: Map<String, Value> = obj
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        base.apply(&rest)?;
        base.check_size()?;
        Ok(base)
    }

    fn apply(&mut self, obj: &Map<String, Value>) -> Result<(), ConfigError> {
        if let Some(v) = obj.get("toolkits").filter(|v| !v.is_null()) {
            self.toolkits = Some(filter(v, "toolkits")?);
        }
        if let Some(v) = obj.get("tools").filter(|v| !v.is_null()) {
            let map = v
                .as_object()
                .ok_or_else(|| bad("tools", "must be an object of toolkit -> filter"))?;
            for (toolkit, f) in map {
                let field = format!("tools.{toolkit}");
                let parsed = match f {
                    Value::Array(_) => filter(&json!({"enable": f}), &field)?,
                    Value::Object(o) if o.contains_key("tags") => {
                        // Tag filters per toolkit are folded into the tag filter.
                        filter(&o["tags"], &format!("{field}.tags"))?
                    }
                    other => filter(other, &field)?,
                };
                self.tools.insert(toolkit.to_ascii_lowercase(), parsed);
            }
        }
        if let Some(v) = obj.get("tags").filter(|v| !v.is_null()) {
            self.tags = Some(filter(v, "tags")?);
        }
        if let Some(v) = obj.get("auth_configs").filter(|v| !v.is_null()) {
            let map = v
                .as_object()
                .ok_or_else(|| bad("auth_configs", "must be an object of toolkit -> id"))?;
            for (toolkit, id) in map {
                let id = id
                    .as_str()
                    .ok_or_else(|| bad(&format!("auth_configs.{toolkit}"), "must be a string"))?;
                self.auth_configs
                    .insert(toolkit.to_ascii_lowercase(), id.to_owned());
            }
        }
        if let Some(v) = obj.get("connected_accounts").filter(|v| !v.is_null()) {
            let map = v.as_object().ok_or_else(|| {
                bad(
                    "connected_accounts",
                    "must be an object of toolkit -> [ids]",
                )
            })?;
            for (toolkit, ids) in map {
                let field = format!("connected_accounts.{toolkit}");
                let ids = match ids {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(items) => items
                        .iter()
                        .map(|i| {
                            i.as_str()
                                .map(str::to_owned)
                                .ok_or_else(|| bad(&field, "must hold strings"))
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(bad(&field, "must be a string or a list of strings")),
                };
                self.connected_accounts
                    .insert(toolkit.to_ascii_lowercase(), ids);
            }
        }
        if let Some(v) = obj.get("manage_connections").filter(|v| !v.is_null()) {
            let o = v
                .as_object()
                .ok_or_else(|| bad("manage_connections", "must be an object"))?;
            let mut out = self
                .manage_connections
                .as_object()
                .cloned()
                .unwrap_or_default();
            if let Some(e) = o.get("enable").or_else(|| o.get("enabled")) {
                out.insert(
                    "enabled".into(),
                    Value::Bool(boolean(e, "manage_connections.enable")?),
                );
            }
            for key in [
                "callback_url",
                "enable_wait_for_connections",
                "enable_connection_removal",
            ] {
                if let Some(value) = o.get(key) {
                    out.insert(key.into(), value.clone());
                }
            }
            self.manage_connections = Value::Object(out);
        }
        if let Some(v) = obj
            .get("workbench")
            .or_else(|| obj.get("sandbox"))
            .filter(|v| !v.is_null())
        {
            let o = v
                .as_object()
                .ok_or_else(|| bad("workbench", "must be an object"))?;
            if let Some(e) = o.get("enable") {
                self.workbench.enable = boolean(e, "workbench.enable")?;
            }
            if let Some(e) = o.get("enable_proxy_execution") {
                self.workbench.proxy_execution_enabled =
                    boolean(e, "workbench.enable_proxy_execution")?;
            }
            if let Some(e) = o.get("enable_tool_execution") {
                self.workbench.tool_execution_enabled =
                    boolean(e, "workbench.enable_tool_execution")?;
            }
            if let Some(t) = o.get("auto_offload_threshold").filter(|t| !t.is_null()) {
                self.workbench.auto_offload_threshold = t
                    .as_u64()
                    .filter(|n| (1..=100_000_000).contains(n))
                    .ok_or_else(|| {
                        bad(
                            "workbench.auto_offload_threshold",
                            "must be an integer from 1 to 100000000",
                        )
                    })?;
            }
            if let Some(size) = o.get("sandbox_size").filter(|s| !s.is_null()) {
                let size = size.as_str().unwrap_or_default();
                if !["standard", "medium", "large", "xlarge"].contains(&size) {
                    return Err(bad(
                        "workbench.sandbox_size",
                        "must be standard, medium, large or xlarge",
                    ));
                }
                self.workbench.sandbox_size = size.into();
            }
        }
        if let Some(v) = obj.get("multi_account").filter(|v| !v.is_null()) {
            self.multi_account = v.clone();
        }
        if let Some(v) = obj.get("preload").filter(|v| !v.is_null()) {
            match v.get("tools") {
                Some(Value::String(all)) if all == "all" => {}
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
                None => {}
                _ => {
                    return Err(bad(
                        "preload.tools",
                        "must be a list of tool slugs or \"all\"",
                    ));
                }
            }
            self.preload = json!({"tools": v.get("tools").cloned().unwrap_or_else(|| json!([]))});
        }
        for (key, field, target) in [
            ("search", "enable", &mut self.search),
            ("execute", "enable_multi_execute", &mut self.execute),
            ("proxy_execute", "enable", &mut self.proxy_execute),
        ] {
            if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
                let o = v.as_object().ok_or_else(|| bad(key, "must be an object"))?;
                if let Some(e) = o.get(field) {
                    *target = json!({ field: boolean(e, &format!("{key}.{field}"))? });
                }
            }
        }
        if let Some(v) = obj.get("instant") {
            self.instant = v.clone();
        }
        Ok(())
    }

    /// Whether a meta-tool block is on.
    pub fn flag(&self, block: &str) -> bool {
        match block {
            "search" => self
                .search
                .get("enable")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            "multi_execute" => self
                .execute
                .get("enable_multi_execute")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            "manage_connections" => self
                .manage_connections
                .get("enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            "wait_for_connections" => self
                .manage_connections
                .get("enable_wait_for_connections")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            "proxy_execute" => self
                .proxy_execute
                .get("enable")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            "workbench" => self.workbench.enable,
            _ => false,
        }
    }

    /// The preloaded tools: `Some(None)` for "all", `Some(Some(list))`.
    pub fn preload(&self) -> Option<Vec<String>> {
        match self.preload.get("tools") {
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_ascii_uppercase))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Whether `preload.tools` is "all".
    pub fn preload_all(&self) -> bool {
        self.preload.get("tools").and_then(Value::as_str) == Some("all")
    }
}

/// Parses `{"enable": [...]}` / `{"disable": [...]}` / `{"require_approval": [...]}`
/// (or a bare list, meaning enable).
fn filter(v: &Value, field: &str) -> Result<Filter, ConfigError> {
    let list = |v: &Value, sub: &str| -> Result<Vec<String>, ConfigError> {
        let items = v
            .as_array()
            .ok_or_else(|| bad(&format!("{field}.{sub}"), "must be a list of strings"))?;
        items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad(&format!("{field}.{sub}"), "must be a list of strings"))
            })
            .collect()
    };
    if v.is_array() {
        return Ok(Filter {
            enabled: Some(list(v, "enable")?),
            ..Filter::default()
        });
    }
    let o = v.as_object().ok_or_else(|| {
        bad(
            field,
            "must be an object with enable, disable or require_approval",
        )
    })?;
    for wrong in ["enabled", "disabled"] {
        if o.contains_key(wrong) {
            return Err(bad(
                &format!("{field}.{wrong}"),
                format!(
                    "is the response spelling; requests use `{}`",
                    wrong.trim_end_matches('d')
                ),
            ));
        }
    }
    Ok(Filter {
        enabled: o.get("enable").map(|v| list(v, "enable")).transpose()?,
        disabled: o.get("disable").map(|v| list(v, "disable")).transpose()?,
        require_approval: o
            .get("require_approval")
            .map(|v| list(v, "require_approval"))
            .transpose()?,
    })
}

fn boolean(v: &Value, field: &str) -> Result<bool, ConfigError> {
    v.as_bool()
        .ok_or_else(|| bad(field, "must be true or false"))
}

impl SessionConfig {
    /// Whether this session's filters (toolkits, per-toolkit tools or hint
    /// tags, tags) allow a tool.
    pub fn allows_tool(&self, tool: &CatalogTool) -> bool {
        if let Some(filter) = &self.toolkits
            && !filter.allows(&tool.toolkit)
        {
            return false;
        }
        if let Some(filter) = self.tools.get(&tool.toolkit) {
            let has_tags = filter
                .enabled
                .as_ref()
                .is_some_and(|l| l.iter().any(|t| t.ends_with("Hint")))
                || filter
                    .disabled
                    .as_ref()
                    .is_some_and(|l| l.iter().any(|t| t.ends_with("Hint")));
            let ok = if has_tags {
                tag_filter_allows(filter, &tool.tool.tags)
            } else {
                filter.allows(&tool.tool.slug)
            };
            if !ok {
                return false;
            }
        }
        if let Some(tags) = &self.tags
            && !tag_filter_allows(tags, &tool.tool.tags)
        {
            return false;
        }
        true
    }

    /// The catalog's tools this session may use, by slug.
    pub fn allowed_tools<'a>(
        &'a self,
        catalog: &'a Catalog,
    ) -> impl Iterator<Item = &'a std::sync::Arc<CatalogTool>> + 'a {
        catalog.tools().filter(move |t| self.allows_tool(t))
    }
}

fn tag_filter_allows(filter: &Filter, tags: &[String]) -> bool {
    filter.passes(|entry| tags.iter().any(|tag| tag == entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_becomes_the_response_shape() {
        let config = SessionConfig::from_request(&json!({
            "user_id": "alice",
            "toolkits": {"enable": ["github", "hackernews"]},
            "tools": {"github": {"disable": ["GITHUB_DELETE_REPO"]}},
            "connected_accounts": {"github": "ca_1"},
            "workbench": {"enable": true, "auto_offload_threshold": 5000},
            "unknown_future_field": 1
        }))
        .unwrap();
        let v = serde_json::to_value(&config).unwrap();
        assert_eq!(v["toolkits"], json!({"enabled": ["github", "hackernews"]}));
        assert_eq!(
            v["tools"]["github"],
            json!({"disabled": ["GITHUB_DELETE_REPO"]})
        );
        assert_eq!(v["connected_accounts"]["github"], json!(["ca_1"]));
        assert_eq!(v["workbench"]["auto_offload_threshold"], 5000);
        assert!(config.toolkits.as_ref().unwrap().allows("GitHub"));
        assert!(!config.toolkits.as_ref().unwrap().allows("slack"));
    }

    #[test]
    fn bad_values_name_the_field() {
        let err = SessionConfig::from_request(&json!({"user_id": ""})).unwrap_err();
        assert_eq!(err.field, "user_id");
        let err =
            SessionConfig::from_request(&json!({"user_id": "a", "toolkits": {"enabled": ["x"]}}))
                .unwrap_err();
        assert_eq!(err.field, "toolkits.enabled");
        let err = SessionConfig::from_request(
            &json!({"user_id": "a", "workbench": {"auto_offload_threshold": -1}}),
        )
        .unwrap_err();
        assert_eq!(err.field, "workbench.auto_offload_threshold");
        let err =
            SessionConfig::from_request(&json!({"user_id": "a", "search": {"enable": "yes"}}))
                .unwrap_err();
        assert_eq!(err.field, "search.enable");
    }

    #[test]
    fn patch_replaces_blocks_and_null_resets() {
        let config = SessionConfig::from_request(
            &json!({"user_id": "a", "toolkits": ["github"], "search": {"enable": false}}),
        )
        .unwrap();
        let patched = config
            .patched(&json!({"toolkits": {"enable": ["slack"]}, "search": null}))
            .unwrap();
        assert_eq!(
            patched.toolkits.clone().unwrap().enabled,
            Some(vec!["slack".to_owned()])
        );
        assert!(patched.flag("search"));
        assert!(config.patched(&json!({"user_id": "bob"})).is_err());
    }
}
