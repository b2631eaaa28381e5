//! Connected-account responses (credentials are never part of them).

use crate::store::{AccountRecord, AuthConfigRecord};
use serde::Serialize;

/// A connected account as create/retrieve/list return it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountResponse {
    /// `ca_...`.
    pub id: String,
    /// The user's label.
    pub alias: Option<String>,
    /// ACTIVE, ...
    pub status: String,
    /// Why the status is what it is (FAILED, EXPIRED, ...).
    pub status_reason: Option<String>,
    /// Whether the account was disabled.
    pub is_disabled: bool,
    /// The end user.
    pub user_id: String,
    /// `{slug}`.
    pub toolkit: ToolkitRef,
    /// The (implicit) auth config.
    pub auth_config: AuthConfigRef,
    /// Composio's connection state, without secrets.
    pub state: AccountState,
    /// Always empty.
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
    /// Always empty.
    #[schema(value_type = Object)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// `{account_type: PRIVATE}`.
    pub experimental: AccountExperimental,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A toolkit by slug.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ToolkitRef {
    /// The toolkit.
    pub slug: String,
}

/// The auth config an account was made under.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthConfigRef {
    /// `ac_...`.
    pub id: String,
    /// API_KEY, BEARER_TOKEN, ...
    pub auth_scheme: String,
    /// Whether it uses the operator's app.
    pub is_composio_managed: bool,
    /// Whether it was disabled (or deleted).
    pub is_disabled: bool,
}

/// The account's state in Composio's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountState {
    /// The scheme.
    #[serde(rename = "authScheme")]
    pub auth_scheme: String,
    /// `{status}`.
    pub val: StateValue,
}

/// The status inside [`AccountState`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StateValue {
    /// ACTIVE, ...
    pub status: String,
}

/// Composio's experimental block of an account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountExperimental {
    /// Always PRIVATE.
    pub account_type: &'static str,
}

impl AccountResponse {
    /// The public view of a stored account (`config` is its auth config,
    /// when it still exists).
    pub fn of(account: &AccountRecord, config: Option<&AuthConfigRecord>) -> AccountResponse {
        AccountResponse {
            id: account.id.clone(),
            alias: account.alias.clone(),
            status: account.status.clone(),
            status_reason: account.status_reason.clone(),
            is_disabled: !account.enabled,
            user_id: account.user_id.clone(),
            toolkit: ToolkitRef {
                slug: account.toolkit.clone(),
            },
            auth_config: AuthConfigRef {
                id: account.auth_config_id.clone(),
                auth_scheme: account.auth_scheme.clone(),
                is_composio_managed: config.is_some_and(|c| c.managed),
                is_disabled: config.is_none_or(|c| !c.enabled),
            },
            state: AccountState {
                auth_scheme: account.auth_scheme.clone(),
                val: StateValue {
                    status: account.status.clone(),
                },
            },
            data: serde_json::Map::new(),
            params: serde_json::Map::new(),
            experimental: AccountExperimental {
                account_type: "PRIVATE",
            },
            created_at: crate::timestamp::rfc3339(account.created_at as u64),
            updated_at: crate::timestamp::rfc3339(account.updated_at as u64),
        }
    }
}
