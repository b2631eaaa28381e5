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
