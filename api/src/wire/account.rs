//! Connected-account responses (credentials are never part of them).

use crate::store::AccountRecord;
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
    /// Always `null`.
    pub status_reason: Option<String>,
    /// Always false.
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

/// The auth config an account belongs to (one per toolkit here).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthConfigRef {
    /// `ac_<toolkit>`.
    pub id: String,
    /// API_KEY, BEARER_TOKEN, ...
    pub auth_scheme: String,
    /// Always false.
    pub is_composio_managed: bool,
    /// Always false.
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
    /// The public view of a stored account.
    pub fn of(account: &AccountRecord) -> AccountResponse {
        AccountResponse {
            id: account.id.clone(),
            alias: account.alias.clone(),
            status: account.status.clone(),
            status_reason: None,
            is_disabled: false,
            user_id: account.user_id.clone(),
            toolkit: ToolkitRef {
                slug: account.toolkit.clone(),
            },
            auth_config: AuthConfigRef {
                id: format!("ac_{}", account.toolkit),
                auth_scheme: account.auth_scheme.clone(),
                is_composio_managed: false,
                is_disabled: false,
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
