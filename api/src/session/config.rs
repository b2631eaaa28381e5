//! A session's configuration: parsed from the create/PATCH request shape
//! (`enable`/`disable`) into the response shape (`enabled`/`disabled`) the
//! SDK reads back. Unknown keys are ignored (the SDK sends fields we do not
//! use); wrong types are rejected with a message naming the field.

pub use super::request::ConfigError;
use super::request::{
    ConfigBlocks, FilterRequest, PreloadTools, SessionCreate, SessionPatch, ToolFilterRequest,
};
use crate::catalog::{Catalog, CatalogTool};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

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
    /// These need the user's approval before they run (toolkits, tool
    /// slugs or hint tags, by where the filter is).
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
    /// Tag filter over MCP hints (left out when there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Filter>,
    /// Toolkit -> auth config id.
    pub auth_configs: BTreeMap<String, String>,
    /// Toolkit -> connected account ids to use.
    pub connected_accounts: BTreeMap<String, Vec<String>>,
    /// The connection-management block.
    pub manage_connections: Value,
    /// The workbench block.
    pub workbench: Workbench,
    /// The multi-account block, as given (left out when there is none).
    #[serde(default, skip_serializing_if = "Value::is_null")]
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
    /// `{"enable": bool}` of COMPOSIO_SUBMIT_FEEDBACK (left out when off).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub submit_feedback: Value,
    /// `experimental.permissions`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<super::request::PermissionsRequest>,
    /// `experimental.no_elicitation_support_fallback`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_elicitation_support_fallback: Option<super::request::ElicitationFallback>,
}

fn bad(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::new(field, problem)
}

impl SessionConfig {
    /// The defaults for `user_id`.
    fn defaults(user_id: String) -> SessionConfig {
        SessionConfig {
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
            submit_feedback: Value::Null,
            permissions: None,
            no_elicitation_support_fallback: None,
        }
    }

    /// Parses a create request ([`SessionCreate`]).
    pub fn from_request(body: &Value) -> Result<SessionConfig, ConfigError> {
        let request = SessionCreate::parse(body)?;
        let mut config = SessionConfig::defaults(request.user_id.0);
        config.apply(request.config);
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

    /// Applies a PATCH ([`SessionPatch`]): present blocks replace theirs,
    /// `null` resets one to its default.
    pub fn patched(&self, request: SessionPatch) -> Result<SessionConfig, ConfigError> {
        if let Some(user) = &request.user_id
            && user.0 != self.user_id
        {
            return Err(bad("user_id", "cannot be changed; create a new session"));
        }
        let mut config = self.clone();
        let defaults = SessionConfig::defaults(self.user_id.clone());
        for key in request.resets.iter().map(String::as_str) {
            match key {
                "toolkits" => config.toolkits = None,
                "tools" => config.tools.clear(),
                "tags" => config.tags = None,
                "auth_configs" => config.auth_configs.clear(),
                "connected_accounts" => config.connected_accounts.clear(),
                "manage_connections" => {
                    config.manage_connections = defaults.manage_connections.clone()
                }
                "workbench" | "sandbox" => config.workbench = defaults.workbench.clone(),
                "multi_account" => config.multi_account = Value::Null,
                "preload" => config.preload = defaults.preload.clone(),
                "search" => config.search = defaults.search.clone(),
                "execute" => config.execute = defaults.execute.clone(),
                "proxy_execute" => config.proxy_execute = defaults.proxy_execute.clone(),
                "instant" | "premium_usage" => config.instant = defaults.instant.clone(),
                "experimental" => {
                    config.submit_feedback = Value::Null;
                    config.permissions = None;
                    config.no_elicitation_support_fallback = None;
                }
                _ => {}
            }
        }
        config.apply(request.config);
        config.check_size()?;
        Ok(config)
    }

    /// Applies the blocks a request gives on top of this config.
    fn apply(&mut self, request: ConfigBlocks) {
        if let Some(filter) = request.toolkits {
            self.toolkits = Some(Filter::from(filter));
        }
        for (toolkit, filter) in request.tools.into_iter().flatten() {
            // Tag filters per toolkit are kept with the toolkit's tools;
            // `allows_tool` tells tags from slugs by their `Hint` suffix.
            let filter = match filter {
                ToolFilterRequest::Tags {
                    tags,
                    require_approval,
                } => {
                    let mut filter = Filter::from(tags);
                    if let Some(slugs) = require_approval {
                        filter
                            .require_approval
                            .get_or_insert_default()
                            .extend(slugs);
                    }
                    filter
                }
                ToolFilterRequest::Tools(tools) => Filter::from(tools),
            };
            self.tools.insert(toolkit.to_ascii_lowercase(), filter);
        }
        if let Some(filter) = request.tags {
            self.tags = Some(Filter::from(filter));
        }
        for (toolkit, id) in request.auth_configs.into_iter().flatten() {
            self.auth_configs.insert(toolkit.to_ascii_lowercase(), id);
        }
        for (toolkit, ids) in request.connected_accounts.into_iter().flatten() {
            self.connected_accounts
                .insert(toolkit.to_ascii_lowercase(), ids.into_vec());
        }
        if let Some(block) = request.manage_connections {
            let mut out = self
                .manage_connections
                .as_object()
                .cloned()
                .unwrap_or_default();
            let mut set = |key: &str, value: Option<Value>| {
                if let Some(value) = value {
                    out.insert(key.into(), value);
                }
            };
            set("enabled", block.enable.map(Value::Bool));
            set("callback_url", block.callback_url.map(Value::String));
            set(
                "enable_wait_for_connections",
                block.enable_wait_for_connections.map(Value::Bool),
            );
            set(
                "enable_connection_removal",
                block.enable_connection_removal.map(Value::Bool),
            );
            self.manage_connections = Value::Object(out);
        }
        if let Some(block) = request.workbench.or(request.sandbox) {
            let workbench = &mut self.workbench;
            workbench.enable = block.enable.unwrap_or(workbench.enable);
            workbench.proxy_execution_enabled = block
                .enable_proxy_execution
                .unwrap_or(workbench.proxy_execution_enabled);
            workbench.tool_execution_enabled = block
                .enable_tool_execution
                .unwrap_or(workbench.tool_execution_enabled);
            workbench.auto_offload_threshold = block
                .auto_offload_threshold
                .unwrap_or(workbench.auto_offload_threshold);
            if let Some(size) = block.sandbox_size {
                workbench.sandbox_size = size.as_str().into();
            }
        }
        if let Some(block) = request.multi_account {
            self.multi_account = serde_json::to_value(block).unwrap_or(Value::Null);
        }
        if let Some(block) = request.preload {
            self.preload = match block.tools {
                Some(PreloadTools::All(_)) => json!({"tools": "all"}),
                Some(PreloadTools::List(tools)) => json!({ "tools": tools }),
                None => json!({"tools": []}),
            };
        }
        if let Some(enable) = request.search.and_then(|b| b.enable) {
            self.search = json!({ "enable": enable });
        }
        if let Some(enable) = request.execute.and_then(|b| b.enable_multi_execute) {
            self.execute = json!({ "enable_multi_execute": enable });
        }
        if let Some(enable) = request.proxy_execute.and_then(|b| b.enable) {
            self.proxy_execute = json!({ "enable": enable });
        }
        if let Some(experimental) = request.experimental {
            if let Some(block) = experimental.submit_feedback {
                self.submit_feedback = match block {
                    Some(block) if block.enable => json!({"enable": true}),
                    _ => Value::Null,
                };
            }
            if let Some(permissions) = experimental.permissions {
                self.permissions = permissions;
            }
            if let Some(fallback) = experimental.no_elicitation_support_fallback {
                self.no_elicitation_support_fallback = Some(fallback);
            }
        }
        if let Some(instant) = request.instant.or(request.premium_usage) {
            self.instant = serde_json::to_value(instant).unwrap_or(Value::Bool(false));
        }
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
            "submit_feedback" => self
                .submit_feedback
                .get("enable")
                .and_then(Value::as_bool)
                .unwrap_or(false),
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

    /// Whether a tool call must name its account when the user has several
    /// for the toolkit (`multi_account: {enable, require_explicit_selection}`).
    pub fn requires_explicit_account(&self) -> bool {
        let flag = |key| self.multi_account.get(key).and_then(Value::as_bool) == Some(true);
        flag("enable") && flag("require_explicit_selection")
    }

    /// How many active accounts of one toolkit a user may have for this
    /// session to connect another: `multi_account.max_accounts_per_toolkit`
    /// (default 5) when multi-account is on; no bound otherwise.
    pub fn max_accounts_per_toolkit(&self) -> Option<usize> {
        if self.multi_account.get("enable").and_then(Value::as_bool) != Some(true) {
            return None;
        }
        Some(
            self.multi_account
                .get("max_accounts_per_toolkit")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(5),
        )
    }

    /// Whether `preload.tools` is "all".
    pub fn preload_all(&self) -> bool {
        self.preload.get("tools").and_then(Value::as_str) == Some("all")
    }
}

impl From<FilterRequest> for Filter {
    fn from(request: FilterRequest) -> Filter {
        let object = request.into_object();
        Filter {
            enabled: object.enable,
            disabled: object.disable,
            require_approval: object.require_approval,
        }
    }
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

    /// Whether anything in the config asks for approvals.
    pub fn has_approvals(&self) -> bool {
        let listed = |f: Option<&Filter>| {
            f.and_then(|f| f.require_approval.as_ref())
                .is_some_and(|l| !l.is_empty())
        };
        self.permissions.is_some()
            || listed(self.toolkits.as_ref())
            || listed(self.tags.as_ref())
            || self.tools.values().any(|f| listed(Some(f)))
    }

    /// Whether a `require_approval` list names the tool: its toolkit (in
    /// `toolkits`), its slug or one of its hint tags (in its toolkit's
    /// `tools` filter), or one of its tags (in `tags`).
    pub fn requires_approval(&self, tool: &CatalogTool) -> bool {
        let named = |filter: Option<&Filter>, names: &[&str]| {
            filter
                .and_then(|f| f.require_approval.as_ref())
                .is_some_and(|list| {
                    list.iter()
                        .any(|entry| names.iter().any(|n| entry.eq_ignore_ascii_case(n)))
                })
        };
        let tags: Vec<&str> = tool.tool.tags.iter().map(String::as_str).collect();
        let mut slug_or_tags = tags.clone();
        slug_or_tags.push(&tool.tool.slug);
        named(self.toolkits.as_ref(), &[&tool.toolkit])
            || named(self.tools.get(&tool.toolkit), &slug_or_tags)
            || named(self.tags.as_ref(), &tags)
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
        assert_eq!(err.field, "toolkits");
        assert!(err.problem.contains("requests use `enable`"), "{err}");
        let err = SessionConfig::from_request(
            &json!({"user_id": "a", "workbench": {"auto_offload_threshold": -1}}),
        )
        .unwrap_err();
        assert_eq!(err.field, "workbench.auto_offload_threshold");
        let err =
            SessionConfig::from_request(&json!({"user_id": "a", "search": {"enable": "yes"}}))
                .unwrap_err();
        assert_eq!(err.field, "search.enable");
        for (body, field) in [
            (json!({"user_id": "  "}), "user_id"),
            (json!({"user_id": 7}), "user_id"),
            (json!({"user_id": "é".repeat(257)}), "user_id"),
            (
                json!({"user_id": "a", "tools": {"github": {"tags": 3}}}),
                "tools.github",
            ),
            (
                json!({"user_id": "a", "tools": {"github": [1]}}),
                "tools.github",
            ),
            (
                json!({"user_id": "a", "toolkits": {"enable": ["x"], "allow": []}}),
                "toolkits",
            ),
            (
                json!({"user_id": "a", "connected_accounts": {"github": [1]}}),
                "connected_accounts.github",
            ),
            (
                json!({"user_id": "a", "preload": {"tools": "some"}}),
                "preload.tools",
            ),
            (
                json!({"user_id": "a", "sandbox": {"sandbox_size": "huge"}}),
                "sandbox.sandbox_size",
            ),
            (
                json!({"user_id": "a", "manage_connections": {"enable": 1}}),
                "manage_connections.enable",
            ),
            (json!(["user_id"]), "body"),
        ] {
            let err = SessionConfig::from_request(&body).unwrap_err();
            assert_eq!(err.field, field, "{body}: {err}");
        }
        let config = SessionConfig::from_request(&json!({
            "user_id": "é".repeat(256),
            "tools": {"GitHub": {"tags": ["readOnlyHint"]}},
            "preload": {"tools": "all"},
            "sandbox": {"sandbox_size": "large", "enable": false},
            "manage_connections": {"enabled": false},
        }))
        .unwrap();
        assert_eq!(
            config.tools["github"].enabled,
            Some(vec!["readOnlyHint".to_owned()])
        );
        assert!(config.preload_all());
        assert_eq!(config.workbench.sandbox_size, "large");
        assert!(!config.flag("workbench"));
        assert!(!config.flag("manage_connections"));
    }

    #[test]
    fn patch_replaces_blocks_and_null_resets() {
        let config = SessionConfig::from_request(
            &json!({"user_id": "a", "toolkits": ["github"], "search": {"enable": false}}),
        )
        .unwrap();
        let patch = |body: Value| config.patched(SessionPatch::parse(&body).unwrap());
        let patched = patch(json!({"toolkits": {"enable": ["slack"]}, "search": null})).unwrap();
        assert_eq!(
            patched.toolkits.clone().unwrap().enabled,
            Some(vec!["slack".to_owned()])
        );
        assert!(patched.flag("search"));
        assert!(patch(json!({"user_id": "bob"})).is_err());
        assert!(patch(json!({"user_id": "a"})).is_ok());
        for (version, want) in [
            (json!(3), Some(3)),
            (json!(3.0), Some(3)),
            (json!(null), None),
        ] {
            let body = json!({"expected_config_version": version});
            assert_eq!(
                SessionPatch::parse(&body).unwrap().expected_config_version,
                want
            );
        }
        for bad in [json!(3.5), json!("3"), json!(1e300)] {
            let body = json!({"expected_config_version": bad});
            let err = SessionPatch::parse(&body).unwrap_err();
            assert_eq!(err.field, "expected_config_version");
        }
        let reset = patch(json!({"toolkits": null})).unwrap();
        assert_eq!(reset.toolkits, None);
        assert!(!reset.flag("search"), "blocks left out stay as they are");
    }
}
