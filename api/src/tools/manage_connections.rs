//! COMPOSIO_MANAGE_CONNECTIONS: the session user's connection status per
//! toolkit. Accounts with API-key or bearer-token credentials are created
//! with `POST /api/v3.1/connected_accounts`; hosted OAuth connect links are
//! not offered by this server yet, so a missing connection is reported as
//! `failed` with instructions rather than as a link that cannot complete.

use crate::error::ApiError;
use crate::session::SessionContext;
use serde_json::{Map, Value, json};

/// Runs the tool.
pub fn run(ctx: &SessionContext, args: &Value) -> Result<(Value, Option<String>), ApiError> {
    let toolkits = super::toolkits_arg(args)?;
    let catalog = &ctx.state.catalog;
    let mut results = Map::new();
    let (mut active, mut failed) = (0, 0);
    for slug in toolkits.iter().cloned() {
        let entry = match catalog.toolkit(&slug) {
            None => json!({"toolkit": slug, "status": "failed", "has_active_connection": false,
                           "error_message": format!("unknown toolkit {slug}")}),
            Some(_)
                if ctx
                    .config
                    .toolkits
                    .as_ref()
                    .is_some_and(|f| !f.allows(&slug)) =>
            {
                json!({"toolkit": slug, "status": "failed", "has_active_connection": false,
                       "error_message": format!("{slug} is not enabled in this session")})
            }
            Some(t) if t.auth.schemes.iter().all(|s| s == "NO_AUTH") => {
                json!({"toolkit": slug, "status": "active", "has_active_connection": true,
                       "instruction": format!("{slug} needs no connection.")})
            }
            Some(t) => {
                let accounts = ctx
                    .state
                    .store
                    .accounts_for_user(&ctx.record.project_id, &ctx.record.user_id, Some(&slug))
                    .map_err(ApiError::internal)?;
                match accounts.iter().find(|a| a.status == "ACTIVE") {
                    Some(account) => json!({
                        "toolkit": slug, "status": "active", "has_active_connection": true,
                        "connected_account_id": account.id,
                        "auth_config_id": format!("ac_{slug}"),
                        "created_at": crate::timestamp::rfc3339(account.created_at as u64),
                        "account_type": "PRIVATE",
                    }),
                    None => json!({
                        "toolkit": slug, "status": "failed", "has_active_connection": false,
                        "error_message": format!("no connected {slug} account for user {}", ctx.record.user_id),
                        "instruction": format!(
                            "Ask the user (or the app) to connect {slug}: POST /api/v3.1/connected_accounts with user_id, toolkit \"{slug}\", auth_scheme one of {} and the credential. Hosted OAuth links are not available on this server yet.",
                            t.auth.schemes.join(", ")
                        ),
                    }),
                }
            }
        };
        if entry["has_active_connection"] == json!(true) {
            active += 1;
        } else {
            failed += 1;
        }
        results.insert(slug, entry);
    }
    let data = json!({
        "message": format!("{active} of {} toolkits are connected", toolkits.len()),
        "results": results,
        "summary": {
            "total_toolkits": toolkits.len(),
            "active_connections": active,
            "initiated_connections": 0,
            "failed_connections": failed,
        },
        "session": ctx.workflow_session(args),
    });
    Ok((data, None))
}
