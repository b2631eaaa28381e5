//! COMPOSIO_WAIT_FOR_CONNECTIONS: wait until the user's connections for the
//! given toolkits are active (`mode` any or all), up to `timeout_seconds`.

use crate::error::ApiError;
use crate::session::SessionContext;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// Longest wait a call may ask for.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// How often the store is checked while waiting.
const POLL: Duration = Duration::from_millis(500);

/// Runs the tool.
pub async fn run(ctx: &SessionContext, args: &Value) -> Result<(Value, Option<String>), ApiError> {
    let toolkits = super::toolkits_arg(args)?;
    let all = match args.get("mode").and_then(Value::as_str) {
        None | Some("any") => false,
        Some("all") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "arguments.mode: must be any or all".into(),
            ));
        }
    };
    let wait = match args.get("timeout_seconds") {
        None | Some(Value::Null) => Duration::from_secs(30),
        Some(v) => Duration::from_secs(v.as_u64().ok_or_else(|| {
            ApiError::BadRequest("arguments.timeout_seconds: must be a non-negative integer".into())
        })?)
        .min(MAX_WAIT),
    };
    let deadline = Instant::now() + wait;
    loop {
        let (project, user) = (ctx.record.project_id.clone(), ctx.record.user_id.clone());
        let accounts = ctx
            .state
            .store
            .run(move |store| store.accounts_for_user(&project, &user, None))
            .await
            .map_err(ApiError::internal)?;
        let mut results = Map::new();
        let mut active = 0;
        for slug in &toolkits {
            let no_auth = ctx
                .state
                .catalog
                .toolkit(slug)
                .map(|t| t.auth.schemes.iter().all(|s| s == "NO_AUTH"));
            let account = accounts
                .iter()
                .find(|a| &a.toolkit == slug && a.status == "ACTIVE");
            let entry = match (no_auth, account) {
                (None, _) => {
                    json!({"status": "NOT_FOUND", "has_active_connection": false, "error_message": format!("unknown toolkit {slug}")})
                }
                (Some(true), _) => json!({"status": "ACTIVE", "has_active_connection": true}),
                (Some(false), Some(a)) => {
                    json!({"status": "ACTIVE", "has_active_connection": true, "connected_account_id": a.id,
                                                 "auth_config_id": format!("ac_{slug}"),
                                                 "created_at": crate::timestamp::rfc3339(a.created_at as u64)})
                }
                (Some(false), None) => {
                    json!({"status": "INITIATED", "has_active_connection": false})
                }
            };
            if entry["has_active_connection"] == json!(true) {
                active += 1;
            }
            results.insert(slug.clone(), entry);
        }
        let done = if all {
            active == toolkits.len()
        } else {
            active > 0
        };
        if done || Instant::now() >= deadline {
            let data = json!({
                "message": if done { "connections are active".to_owned() } else { format!("timed out after {} s: {active} of {} toolkits connected", wait.as_secs(), toolkits.len()) },
                "results": results,
                "session": ctx.workflow_session(args),
            });
            let error = (!done).then(|| "timed out waiting for connections".to_owned());
            return Ok((data, error));
        }
        tokio::time::sleep(POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}
