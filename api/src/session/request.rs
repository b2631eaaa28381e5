//! The session config as create and PATCH requests give it (the SDK's
//! shape: `enable`/`disable` lists, `sandbox` or `workbench`, ...). These
//! types are what the server deserializes and what the OpenAPI document
//! describes; [`super::config::SessionConfig`] turns them into the
//! normalized response shape. Unknown keys are ignored (the SDKs send fields
//! toolshed does not use); a wrong type is an error naming the field.

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Longest `user_id`, in characters.
pub const MAX_USER_ID_CHARS: usize = 256;

/// A session create body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionCreate {
    /// The end user the session acts for.
    pub user_id: UserId,
    /// The config blocks; each left out takes its default.
    #[serde(flatten)]
    pub config: ConfigBlocks,
}

/// A session PATCH body: a present block replaces the current one, `null`
/// resets it to its default, and a block left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionPatch {
    /// The session's user, if given; it cannot change.
    pub user_id: Option<UserId>,
    /// The `config_version` this update expects (409 when it is stale).
    pub expected_config_version: Option<i64>,
    /// The blocks to replace or reset.
    #[serde(flatten)]
    pub config: ConfigBlocks,
    /// The blocks given as `null`, to reset.
    #[serde(skip)]
    #[schema(ignore)]
    pub resets: Vec<String>,
}

/// A field with the wrong type or value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ConfigError {
    /// The dotted path of the field.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    /// A problem with `field`.
    pub fn new(field: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.to_owned(),
            problem: problem.into(),
        }
    }
}

/// Deserializes `value`, naming the field a problem is in (under `prefix`,
/// when the value is one field of the body).
fn parse<T: DeserializeOwned>(value: &Value, prefix: Option<&str>) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = match (prefix, path.as_str()) {
            (Some(prefix), ".") => prefix.to_owned(),
            (Some(prefix), path) => format!("{prefix}.{path}"),
            (None, ".") => "body".to_owned(),
            (None, path) => path.to_owned(),
        };
        ConfigError::new(&field, crate::error::clip(&err.inner().to_string(), 200))
    })
}

/// The body as an object.
fn object(body: &Value) -> Result<&serde_json::Map<String, Value>, ConfigError> {
    body.as_object()
        .ok_or_else(|| ConfigError::new("body", "must be a JSON object"))
}

// serde's `flatten` buffers the body and loses the path of a bad field, so
// the two bodies read their own fields and their blocks apart.

impl SessionCreate {
    /// Reads a create body.
    pub fn parse(body: &Value) -> Result<SessionCreate, ConfigError> {
        let user_id = match object(body)?.get("user_id") {
            None | Some(Value::Null) => {
                return Err(ConfigError::new(
                    "user_id",
                    "is required and must be a non-empty string",
                ));
            }
            Some(user_id) => parse(user_id, Some("user_id"))?,
        };
        Ok(SessionCreate {
            user_id,
            config: parse(body, None)?,
        })
    }
}

impl SessionPatch {
    /// Reads a PATCH body.
    pub fn parse(body: &Value) -> Result<SessionPatch, ConfigError> {
        let fields = object(body)?;
        let field = |name: &str| fields.get(name).filter(|v| !v.is_null());
        Ok(SessionPatch {
            user_id: field("user_id")
                .map(|v| parse(v, Some("user_id")))
                .transpose()?,
            expected_config_version: field("expected_config_version")
                .map(|v| {
                    json_integer(v.clone()).map_err(|e: serde_json::Error| {
                        ConfigError::new("expected_config_version", e.to_string())
                    })
                })
                .transpose()?
                .flatten(),
            config: parse(body, None)?,
            resets: fields
                .iter()
                .filter(|(_, value)| value.is_null())
                .map(|(key, _)| key.clone())
                .collect(),
        })
    }
}

/// The config blocks a create or PATCH body may give.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConfigBlocks {
    /// Which toolkits the session may use.
    pub toolkits: Option<FilterRequest>,
    /// Per toolkit: which of its tools (slugs, or hint tags under `tags`).
    pub tools: Option<BTreeMap<String, ToolFilterRequest>>,
    /// A filter over the tools' hint tags (readOnlyHint, destructiveHint, ...).
    pub tags: Option<FilterRequest>,
    /// Toolkit -> the auth config id its connections use.
    pub auth_configs: Option<BTreeMap<String, String>>,
    /// Toolkit -> the connected account id(s) to use.
    pub connected_accounts: Option<BTreeMap<String, AccountIds>>,
    /// The connection-management meta tools.
    pub manage_connections: Option<ManageConnectionsRequest>,
    /// The workbench (Python sandbox) block.
    pub workbench: Option<WorkbenchRequest>,
    /// The SDK's newer name for `workbench`; `workbench` wins when both are given.
    pub sandbox: Option<WorkbenchRequest>,
    /// Several accounts per user and toolkit.
    pub multi_account: Option<MultiAccountRequest>,
    /// Tools exposed directly (besides the meta tools).
    pub preload: Option<PreloadRequest>,
    /// The search meta tool.
    pub search: Option<SearchRequest>,
    /// The multi-execute meta tool.
    pub execute: Option<ExecuteRequest>,
    /// The proxy-execute meta tool.
    pub proxy_execute: Option<ProxyExecuteRequest>,
    /// Composio's instant block (`false` or an object), kept as given.
    pub instant: Option<Instant>,
    /// The TypeScript SDK's name for `instant`; `instant` wins when both
    /// are given.
    pub premium_usage: Option<Instant>,
    /// Composio's experimental block: `submit_feedback` is read (other
    /// keys, such as `assistive_prompt`, are accepted and ignored).
    pub experimental: Option<ExperimentalRequest>,
}

/// The experimental block.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ExperimentalRequest {
    /// COMPOSIO_SUBMIT_FEEDBACK: `{enable}`; `null` turns it off.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<SubmitFeedbackRequest>)]
    pub submit_feedback: Option<Option<SubmitFeedbackRequest>>,
    /// Who approves tool calls: `{default, overrides}`; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<PermissionsRequest>)]
    pub permissions: Option<Option<PermissionsRequest>>,
    /// What a call needing approval does when the MCP client cannot ask
    /// the user: `deny` (the default) or `allow`.
    pub no_elicitation_support_fallback: Option<ElicitationFallback>,
}

/// `experimental.permissions`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionsRequest {
    /// What every call does unless an override says otherwise.
    pub default: PermissionDefault,
    /// By `TOOL_SLUG:account_id` (`__none__` for no account, `*` for any
    /// tool of an account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<std::collections::BTreeMap<String, PermissionOverride>>,
}

/// `experimental.permissions.default`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermissionDefault {
    /// No approval (the `require_approval` lists still apply).
    AllowAll,
    /// Every call of every tool asks.
    AskEveryCall,
    /// A tool asks the first time in the session.
    AskOncePerSession,
}

/// An override of `experimental.permissions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermissionOverride {
    /// Never asks.
    AlwaysAllow,
    /// Never runs.
    AlwaysDeny,
    /// Asks the first time in the session.
    AskOnce,
    /// Asks every call, whatever was approved before.
    AskAlways,
}

/// `experimental.no_elicitation_support_fallback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ElicitationFallback {
    /// The call fails.
    Deny,
    /// The call runs.
    Allow,
}

/// The submit-feedback block.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitFeedbackRequest {
    /// Whether the session has COMPOSIO_SUBMIT_FEEDBACK (default false).
    #[serde(default)]
    pub enable: bool,
}

/// A field that was given, `null` included (`Some(None)`), as opposed to
/// left out (`None`, the field's default).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Composio's instant block: `false`, `true` or its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Instant {
    /// Off (or on with the defaults).
    Flag(bool),
    /// The settings, kept as given.
    #[schema(value_type = Object)]
    Settings(serde_json::Map<String, Value>),
}

/// An integer that JSON may write as `5` or `5.0` (JSON Schema's
/// `integer` admits both).
fn json_integer<'de, D: Deserializer<'de>, T: TryFrom<i64>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    let Some(value) = Option::<Value>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
            .map(|f| f as i64)
    });
    whole
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| de::Error::custom(format!("must be an integer (got {value})")))
}

/// A non-blank user id of at most [`MAX_USER_ID_CHARS`] characters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserId(pub String);

// utoipa derives `PartialSchema` from this trait (it is also how it
// composes generic arguments such as `Option<UserId>`).
impl utoipa::__dev::ComposeSchema for UserId {
    fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_USER_ID_CHARS))
            .pattern(Some(r"\S"))
            .description(Some("The end user: not blank, at most 256 characters"))
            .into()
    }
}

impl ToSchema for UserId {}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        if id.trim().is_empty() {
            return Err(de::Error::custom("must be a non-empty string"));
        }
        if id.chars().count() > MAX_USER_ID_CHARS {
            return Err(de::Error::custom(format!(
                "must be at most {MAX_USER_ID_CHARS} characters"
            )));
        }
        Ok(UserId(id))
    }
}

/// An allow/deny filter: a bare list (meaning `enable`) or an object.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum FilterRequest {
    /// Only these.
    List(Vec<String>),
    /// The object form.
    Object(FilterObject),
}

/// The object form of a filter.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterObject {
    /// Only these, when set.
    pub enable: Option<Vec<String>>,
    /// Never these.
    pub disable: Option<Vec<String>>,
    /// These need approval.
    pub require_approval: Option<Vec<String>>,
}

impl FilterRequest {
    /// The filter as `enable`/`disable`/`require_approval` lists.
    pub fn into_object(self) -> FilterObject {
        match self {
            FilterRequest::List(enable) => FilterObject {
                enable: Some(enable),
                ..FilterObject::default()
            },
            FilterRequest::Object(object) => object,
        }
    }
}

impl<'de> Deserialize<'de> for FilterRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            list @ Value::Array(_) => serde_json::from_value(list)
                .map(FilterRequest::List)
                .map_err(|_| de::Error::custom("must be a list of strings")),
            Value::Object(object) => {
                for wrong in ["enabled", "disabled"] {
                    if object.contains_key(wrong) {
                        return Err(de::Error::custom(format!(
                            "`{wrong}` is the response spelling; requests use `{}`",
                            wrong.trim_end_matches('d')
                        )));
                    }
                }
                serde_json::from_value(Value::Object(object))
                    .map(FilterRequest::Object)
                    .map_err(de::Error::custom)
            }
            _ => Err(de::Error::custom(
                "must be a list of strings or an object with enable, disable or require_approval",
            )),
        }
    }
}

/// A per-toolkit tool filter: a list of tool slugs, a filter object, or
/// `{"tags": filter}` over hint tags.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ToolFilterRequest {
    /// Hint tags.
    Tags {
        /// The filter over hint tags.
        tags: FilterRequest,
        /// Tool slugs of the toolkit that need approval.
        #[serde(skip_serializing_if = "Option::is_none")]
        require_approval: Option<Vec<String>>,
    },
    /// Tool slugs (or hint tags).
    Tools(FilterRequest),
}

impl<'de> Deserialize<'de> for ToolFilterRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let tags = value.as_object().and_then(|o| o.get("tags")).cloned();
        let parse = |v: Value| FilterRequest::deserialize(v).map_err(de::Error::custom);
        match tags {
            Some(tags) => {
                // Other keys next to `tags` are ignored, like unknown
                // keys anywhere in a config.
                let object = value.as_object().cloned().unwrap_or_default();
                let require_approval = match object.get("require_approval") {
                    None | Some(Value::Null) => None,
                    Some(list) => Some(Vec::<String>::deserialize(list.clone()).map_err(|_| {
                        de::Error::custom("require_approval: must be a list of tool slugs")
                    })?),
                };
                parse(tags).map(|tags| ToolFilterRequest::Tags {
                    tags,
                    require_approval,
                })
            }
            None => parse(value).map(ToolFilterRequest::Tools),
        }
    }
}

/// One connected account id or several.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum AccountIds {
    /// One id.
    One(String),
    /// Several ids.
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for AccountIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(id) => Ok(AccountIds::One(id)),
            list => serde_json::from_value(list)
                .map(AccountIds::Many)
                .map_err(|_| de::Error::custom("must be a string or a list of strings")),
        }
    }
}

impl AccountIds {
    /// The ids as a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            AccountIds::One(id) => vec![id],
            AccountIds::Many(ids) => ids,
        }
    }
}

/// The connection-management block.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, ToSchema)]
pub struct ManageConnectionsRequest {
    /// Whether COMPOSIO_MANAGE_CONNECTIONS is exposed.
    #[serde(alias = "enabled")]
    pub enable: Option<bool>,
    /// Where the browser goes after a connection completes.
    pub callback_url: Option<String>,
    /// Whether COMPOSIO_WAIT_FOR_CONNECTIONS is exposed.
    pub enable_wait_for_connections: Option<bool>,
    /// Whether connections may be removed.
    pub enable_connection_removal: Option<bool>,
}

/// The workbench compute tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SandboxSize {
    /// The default.
    Standard,
    /// More memory.
    Medium,
    /// More still.
    Large,
    /// The most.
    Xlarge,
}

impl SandboxSize {
    /// The name as the config stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxSize::Standard => "standard",
            SandboxSize::Medium => "medium",
            SandboxSize::Large => "large",
            SandboxSize::Xlarge => "xlarge",
        }
    }
}

/// The workbench block.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, ToSchema)]
pub struct WorkbenchRequest {
    /// Whether the workbench meta tools are exposed.
    pub enable: Option<bool>,
    /// Whether cells may make proxy requests.
    pub enable_proxy_execution: Option<bool>,
    /// Whether cells may call tools.
    pub enable_tool_execution: Option<bool>,
    /// Tool results longer than this many characters are offloaded to a file.
    #[serde(default, deserialize_with = "offload_threshold")]
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub auto_offload_threshold: Option<u64>,
    /// The compute tier.
    pub sandbox_size: Option<SandboxSize>,
}

/// Most characters `auto_offload_threshold` may be.
const MAX_OFFLOAD_THRESHOLD: u64 = 100_000_000;

fn offload_threshold<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let out_of_range = || {
        de::Error::custom(format!(
            "must be an integer from 1 to {MAX_OFFLOAD_THRESHOLD}"
        ))
    };
    match json_integer::<D, u64>(deserializer) {
        Ok(Some(n)) if (1..=MAX_OFFLOAD_THRESHOLD).contains(&n) => Ok(Some(n)),
        Ok(None) => Ok(None),
        _ => Err(out_of_range()),
    }
}

/// The multi-account block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MultiAccountRequest {
    /// Whether a user may connect several accounts of one toolkit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// How many (2-10; 5 when left out).
    #[serde(
        default,
        deserialize_with = "max_accounts",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 2, maximum = 10)]
    pub max_accounts_per_toolkit: Option<u64>,
    /// Whether a call must name its account when the user has several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_explicit_selection: Option<bool>,
}

fn max_accounts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    match json_integer::<D, u64>(deserializer) {
        Ok(Some(n)) if (2..=10).contains(&n) => Ok(Some(n)),
        Ok(None) => Ok(None),
        _ => Err(de::Error::custom("must be an integer from 2 to 10")),
    }
}

/// Which tools are exposed directly.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, ToSchema)]
pub struct PreloadRequest {
    /// A list of tool slugs, or "all".
    pub tools: Option<PreloadTools>,
}

/// `"all"` or a list of tool slugs.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PreloadTools {
    /// Every tool the session allows.
    All(AllTools),
    /// These tools.
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for PreloadTools {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(all) if all == "all" => Ok(PreloadTools::All(AllTools::All)),
            list => serde_json::from_value(list)
                .map(PreloadTools::List)
                .map_err(|_| de::Error::custom("must be a list of tool slugs or \"all\"")),
        }
    }
}

/// The literal `"all"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub enum AllTools {
    /// Every tool.
    #[serde(rename = "all")]
    All,
}

/// The search block.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, ToSchema)]
pub struct SearchRequest {
    /// Whether COMPOSIO_SEARCH_TOOLS is exposed.
    pub enable: Option<bool>,
}

/// The execute block.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, ToSchema)]
pub struct ExecuteRequest {
    /// Whether COMPOSIO_MULTI_EXECUTE_TOOL is exposed.
    pub enable_multi_execute: Option<bool>,
}

/// The proxy-execute block.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, ToSchema)]
pub struct ProxyExecuteRequest {
    /// Whether COMPOSIO_PROXY_EXECUTE is exposed.
    pub enable: Option<bool>,
}
