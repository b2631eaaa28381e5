//! A session's toolkits (`GET .../toolkits`).

use crate::store::AccountRecord;
use serde::Serialize;

/// A toolkit and the session user's connection to it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ToolkitItem {
    /// The slug.
    pub slug: String,
    /// A display name.
    pub name: String,
    /// Always true (listed toolkits are the enabled ones).
    pub enabled: bool,
    /// Whether it needs no account.
    pub is_no_auth: bool,
    /// Always empty (no Composio-managed auth here).
    pub composio_managed_auth_schemes: Vec<String>,
    /// Description and logo.
    pub meta: ToolkitMeta,
    /// The user's active account, if any.
    pub connected_account: Option<ToolkitAccount>,
}

/// Description and logo of a toolkit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ToolkitMeta {
    /// What it is.
    pub description: String,
    /// A logo URL.
    pub logo: String,
}

/// The account a toolkit item reports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ToolkitAccount {
    /// `ca_...`.
    pub id: String,
    /// ACTIVE.
    pub status: String,
    /// The end user.
    pub user_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// Its auth config.
    pub auth_config: super::account::AuthConfigRef,
}

impl ToolkitAccount {
    /// The report of `account`, whose auth config is `managed` or not.
    pub fn of(account: &AccountRecord, managed: bool) -> ToolkitAccount {
        ToolkitAccount {
            id: account.id.clone(),
            status: account.status.clone(),
            user_id: account.user_id.clone(),
            created_at: crate::timestamp::rfc3339(account.created_at as u64),
            auth_config: super::account::AuthConfigRef {
                id: account.auth_config_id.clone(),
                auth_scheme: account.auth_scheme.clone(),
                is_composio_managed: managed,
                is_disabled: !account.enabled,
            },
        }
    }
}

/// A toolkit category.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Category {
    /// Its slug (lists call it `id`, details `slug`: both are sent).
    pub id: String,
    /// The same.
    pub slug: String,
    /// A display name.
    pub name: String,
}

impl Category {
    /// The category `slug` (`developer-tools` is "Developer Tools").
    pub fn of(slug: &str) -> Category {
        let name = slug
            .split(['-', '_'])
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut chars = w.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        Category {
            id: slug.to_owned(),
            slug: slug.to_owned(),
            name,
        }
    }
}

/// A catalog toolkit, as `GET /api/v3.1/toolkits` lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CatalogToolkit {
    /// The slug.
    pub slug: String,
    /// A display name.
    pub name: String,
    /// Always `native`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Always false.
    pub is_local_toolkit: bool,
    /// Its auth schemes (API_KEY, OAUTH2, ...).
    pub auth_schemes: Vec<String>,
    /// Always empty (no Composio-managed auth here).
    pub composio_managed_auth_schemes: Vec<String>,
    /// Whether it needs no account.
    pub no_auth: bool,
    /// Composio's deprecation block: `{toolkitId}`.
    #[schema(value_type = Object)]
    pub deprecated: serde_json::Value,
    /// Description, logo, categories, counts.
    pub meta: CatalogToolkitMeta,
}

/// What a catalog toolkit's `meta` holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CatalogToolkitMeta {
    /// What it is.
    pub description: String,
    /// A logo URL.
    pub logo: String,
    /// Its categories.
    pub categories: Vec<Category>,
    /// How many tools it has.
    pub tools_count: usize,
    /// Always 0 (no triggers here).
    pub triggers_count: usize,
    /// The version of its tools.
    pub version: &'static str,
    /// Every version (one).
    #[schema(value_type = Vec<String>)]
    pub available_versions: [&'static str; 1],
    /// When the server loaded it (RFC 3339).
    pub created_at: String,
    /// The same.
    pub updated_at: String,
}

/// One toolkit in full (`GET /api/v3.1/toolkits/{slug}`): the list item
/// plus how to authenticate.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ToolkitDetail {
    /// The list item's fields.
    #[serde(flatten)]
    pub toolkit: CatalogToolkit,
    /// Always true.
    pub enabled: bool,
    /// Always empty (no Composio-managed auth here).
    #[schema(value_type = Vec<Object>)]
    pub composio_managed_auth: Vec<serde_json::Value>,
    /// The API's base URL.
    pub base_url: String,
    /// For each auth scheme, the fields an auth config and a connection
    /// need.
    pub auth_config_details: Vec<AuthConfigDetail>,
}

/// How to authenticate with one scheme.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthConfigDetail {
    /// The scheme's display name.
    pub name: String,
    /// The scheme (API_KEY, OAUTH2, ...).
    pub mode: String,
    /// Always null.
    pub auth_hint_url: Option<String>,
    /// OAuth2 scopes the toolkit asks for.
    pub required_scopes: Vec<String>,
    /// Where proxied requests go.
    pub proxy: ProxyInfo,
    /// The fields.
    pub fields: AuthFields,
}

/// Where proxied requests go.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProxyInfo {
    /// The API's base URL.
    pub base_url: String,
}

/// The fields of an auth config and of a connection.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthFields {
    /// What creating a custom auth config asks for.
    pub auth_config_creation: FieldSet,
    /// What connecting an account asks for.
    pub connected_account_initiation: FieldSet,
}

/// Required and optional fields.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct FieldSet {
    /// Must be given.
    pub required: Vec<AuthField>,
    /// May be given.
    pub optional: Vec<AuthField>,
}

/// One field.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthField {
    /// The key.
    pub name: String,
    /// Its label.
    #[serde(rename = "displayName")]
    pub display_name: String,
    /// Always `string`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What it is.
    pub description: String,
    /// Whether it must be given.
    pub required: bool,
    /// Always null.
    pub default: Option<String>,
    /// Whether it is a secret.
    pub is_secret: bool,
    /// Always true.
    pub user_visible: bool,
}

impl FieldSet {
    /// The fields as sets: required first, then optional.
    pub fn of(fields: Vec<AuthField>) -> FieldSet {
        let (required, optional) = fields.into_iter().partition(|f| f.required);
        FieldSet { required, optional }
    }
}
