//! Auth-config requests and responses, in Composio's shapes (secret
//! settings are never part of a response).

use crate::catalog::toolkit::Toolkit;
use crate::store::AuthConfigRecord;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Keys of an auth config's `credentials` that are secret: stored sealed,
/// never shown back.
pub const SECRET_SETTINGS: &[&str] = &[
    "client_secret",
    "api_key",
    "token",
    "password",
    "private_key",
];

/// `POST /auth_configs`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateAuthConfig {
    /// The toolkit, as `{slug}`.
    pub toolkit: ToolkitSlug,
    /// The config; left out, toolshed's default for the toolkit.
    #[serde(default)]
    pub auth_config: AuthConfigSpec,
}

/// A toolkit named by slug.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ToolkitSlug {
    /// The toolkit's slug.
    #[schema(min_length = 1, max_length = 64)]
    pub slug: String,
}

/// Whose app an auth config uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub enum AuthConfigType {
    /// The operator's (no client secret of the project's own; for API key,
    /// bearer and basic toolkits nothing is needed).
    #[default]
    #[serde(rename = "use_composio_managed_auth")]
    Managed,
    /// The project's own app or settings, given in `credentials`.
    #[serde(rename = "use_custom_auth")]
    Custom,
}

/// What a create body says about the config.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct AuthConfigSpec {
    /// Managed (the default) or custom.
    #[serde(rename = "type", default)]
    pub kind: AuthConfigType,
    /// API_KEY, BEARER_TOKEN, BASIC or OAUTH2 (`auth_scheme` is accepted too).
    #[serde(rename = "authScheme", alias = "auth_scheme")]
    pub auth_scheme: Option<String>,
    /// A label.
    #[schema(max_length = 256)]
    pub name: Option<String>,
    /// The scheme's settings: for OAUTH2 `client_id`, `client_secret` and
    /// optionally `scopes` (a list or a comma-separated string).
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<Map<String, Value>>,
    /// Composio's tool access block, kept as given.
    #[schema(value_type = Option<Object>)]
    pub tool_access_config: Option<Map<String, Value>>,
    /// Only these tools may run under the config's accounts (kept as given).
    pub restrict_to_following_tools: Option<Vec<String>>,
    /// Whether sessions may use it.
    pub is_enabled_for_tool_router: Option<bool>,
}

/// `PATCH /auth_configs/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateAuthConfig {
    /// `custom` or `default` (informational: a config keeps its kind).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A new label.
    #[schema(max_length = 256)]
    pub name: Option<String>,
    /// Settings to set (each given key replaces the stored one).
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<Map<String, Value>>,
    /// Tool access settings to set (`{}` changes nothing).
    #[schema(value_type = Option<Object>)]
    pub tool_access_config: Option<Map<String, Value>>,
    /// Only these tools.
    pub restrict_to_following_tools: Option<Vec<String>>,
    /// Whether sessions may use it.
    pub is_enabled_for_tool_router: Option<bool>,
    /// OAuth scopes (a list or a comma-separated string).
    #[schema(value_type = Option<Object>)]
    pub scopes: Option<Value>,
}

/// What `POST /auth_configs` returns.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedAuthConfig {
    /// `{slug}`.
    pub toolkit: ToolkitSlug,
    /// The new config.
    pub auth_config: CreatedAuthConfigRef,
}

/// The new config's identity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedAuthConfigRef {
    /// `ac_...`.
    pub id: String,
    /// The scheme.
    pub auth_scheme: String,
    /// Whether it uses the operator's app.
    pub is_composio_managed: bool,
    /// Only these tools (empty: all).
    pub restrict_to_following_tools: Vec<String>,
}

/// An auth config as get and list return it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthConfigResponse {
    /// `ac_...`.
    pub id: String,
    /// The same as `id`.
    pub uuid: String,
    /// The label.
    pub name: String,
    /// `default` (managed) or `custom`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// ENABLED or DISABLED.
    pub status: &'static str,
    /// Accounts made under it.
    pub no_of_connections: usize,
    /// `{slug, logo}`.
    pub toolkit: ToolkitLogo,
    /// The scheme.
    pub auth_scheme: String,
    /// Whether it uses the operator's app.
    pub is_composio_managed: bool,
    /// Whether sessions may use it.
    pub is_enabled_for_tool_router: bool,
    /// The non-secret settings (client id, scopes, ...).
    #[schema(value_type = Object)]
    pub credentials: Map<String, Value>,
    /// The fields a user fills in to connect.
    pub expected_input_fields: Vec<InputField>,
    /// Composio's tool access block.
    #[schema(value_type = Object)]
    pub tool_access_config: Map<String, Value>,
    /// Only these tools (empty: all).
    pub restrict_to_following_tools: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Who made it.
    pub created_by: &'static str,
    /// RFC 3339.
    pub last_updated_at: String,
}

/// A toolkit with its logo.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ToolkitLogo {
    /// The slug.
    pub slug: String,
    /// The logo URL.
    pub logo: String,
}

/// A field a user fills in to connect.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InputField {
    /// The credential key (`api_key`, `token`, `username`, `password`).
    pub name: &'static str,
    /// Its label.
    #[serde(rename = "displayName")]
    pub display_name: &'static str,
    /// Always `string`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// Whether it is a secret (shown masked).
    pub is_secret: bool,
}

/// The fields a user fills in for `scheme`.
pub fn input_fields(scheme: &str) -> Vec<InputField> {
    let field = |name, display_name, required, is_secret| InputField {
        name,
        display_name,
        kind: "string",
        required,
        is_secret,
    };
    match scheme {
        "API_KEY" => vec![field("api_key", "API key", true, true)],
        "BEARER_TOKEN" => vec![field("token", "Token", true, true)],
        "BASIC" => vec![
            field("username", "Username", true, false),
            field("password", "Password", false, true),
        ],
        _ => Vec::new(),
    }
}

/// `{success, message}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Success {
    /// Always true.
    pub success: bool,
    /// What happened.
    pub message: String,
}

impl AuthConfigResponse {
    /// The public view of a stored config (`toolkit` for its logo, when the
    /// catalog still has it).
    pub fn of(
        config: &AuthConfigRecord,
        toolkit: Option<&Toolkit>,
        no_of_connections: usize,
    ) -> AuthConfigResponse {
        let list = |key: &str| -> Vec<String> {
            config
                .settings
                .get(key)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default()
        };
        let mut tool_access = config
            .settings
            .get("tool_access_config")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for key in [
            "tools_for_connected_account_creation",
            "tools_available_for_execution",
        ] {
            tool_access
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
        }
        AuthConfigResponse {
            id: config.id.clone(),
            uuid: config.id.clone(),
            name: config.name.clone(),
            kind: if config.managed { "default" } else { "custom" },
            status: if config.enabled {
                "ENABLED"
            } else {
                "DISABLED"
            },
            no_of_connections,
            toolkit: ToolkitLogo {
                slug: config.toolkit.clone(),
                logo: toolkit.map(|t| t.logo.clone()).unwrap_or_default(),
            },
            auth_scheme: config.auth_scheme.clone(),
            is_composio_managed: config.managed,
            is_enabled_for_tool_router: config
                .settings
                .get("is_enabled_for_tool_router")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            credentials: config
                .credentials
                .iter()
                .filter(|(key, _)| !SECRET_SETTINGS.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            expected_input_fields: input_fields(&config.auth_scheme),
            tool_access_config: tool_access,
            restrict_to_following_tools: list("restrict_to_following_tools"),
            created_at: crate::timestamp::rfc3339(config.created_at as u64),
            created_by: "toolshed",
            last_updated_at: crate::timestamp::rfc3339(config.updated_at as u64),
        }
    }
}
