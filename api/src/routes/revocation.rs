//! `POST /api/v3.1/connected_accounts/{id}/revoke`: revokes an OAUTH2
//! account's tokens at the provider (RFC 7009) and marks it REVOKED with its
//! tokens wiped. Deleting an OAUTH2 account revokes its tokens too, in the
//! background ([`revoke_in_background`]).

use crate::error::{ApiError, clip};
use crate::extract::Project;
use crate::oauth::App;
use crate::state::AppState;
use crate::store::{AccountRecord, now};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use serde::Serialize;
use serde_json::{Map, Value};

/// The revoke route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v3.1/connected_accounts/{id}/revoke", post(revoke))
}

/// What `revoke` answers.
#[derive(Serialize, utoipa::ToSchema)]
struct Revoked {
    /// The tokens revoked at the provider by this call (`refresh_token`,
    /// `access_token`); empty when the account was already revoked.
    revoked_tokens: Vec<&'static str>,
    /// `{id, status}`.
    connected_account: RevokedAccount,
}

/// The account after the call.
#[derive(Serialize, utoipa::ToSchema)]
struct RevokedAccount {
    /// `ca_...`.
    id: String,
    /// REVOKED.
    status: String,
}

/// The OAuth app `account` was made with, when its provider can revoke
/// tokens.
async fn revocable_app(state: &AppState, account: &AccountRecord) -> Option<App> {
    if account.auth_scheme != "OAUTH2" {
        return None;
    }
    let (project, id) = (account.project_id.clone(), account.auth_config_id.clone());
    let config = state
        .store
        .run(move |store| store.auth_config(&project, &id))
        .await
        .ok()??;
    let catalog = state.catalog();
    let toolkit = catalog.toolkit(&account.toolkit)?;
    state
        .oauth
        .app(&config, toolkit)
        .ok()
        .filter(|app| app.revoke_url.is_some())
}

/// After `account` was deleted: its tokens are revoked at the provider
/// without holding up the response (best effort; failures are logged).
pub async fn revoke_in_background(state: &AppState, account: AccountRecord) {
    let Some(app) = revocable_app(state, &account).await else {
        return;
    };
    let oauth = state.oauth.clone();
    tokio::spawn(async move {
        let revoked = oauth.revoke(&app, &account.credentials).await;
        tracing::info!(account = %account.id, ?revoked, "revoked a deleted account's OAuth2 tokens");
    });
}

#[utoipa::path(
    operation_id = "account_revoke", post, path = "/api/v3.1/connected_accounts/{id}/revoke", tag = "connected accounts", params(("id" = String, Path, description = "The account id (ca_...)")),
    responses((status = 200, body = Revoked), (status = 400, description = "The account's toolkit cannot revoke tokens (not OAuth2, or no revocation endpoint): disable or delete the account instead", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such account in the key's project", body = crate::error::ErrorBody),
        (status = 409, description = "The account is not connected (INITIATED or FAILED), so there is nothing to revoke", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn revoke(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
) -> Result<axum::Json<Revoked>, ApiError> {
    let key = id.clone();
    let mut account = state
        .store
        .run(move |store| store.account(&project, &key))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::NotFound(format!("connected account {} not found", clip(&id, 64)))
        })?;
    let answer = |account: AccountRecord, revoked_tokens| Revoked {
        revoked_tokens,
        connected_account: RevokedAccount {
            id: account.id,
            status: account.status,
        },
    };
    if account.status == "REVOKED" {
        return Ok(axum::Json(answer(account, Vec::new())));
    }
    if matches!(
        account.status.as_str(),
        "INITIALIZING" | "INITIATED" | "FAILED"
    ) {
        return Err(ApiError::Conflict(format!(
            "connected account {} is {}: it holds no tokens to revoke",
            account.id, account.status
        )));
    }
    let Some(app) = revocable_app(&state, &account).await else {
        return Err(ApiError::BadRequest(format!(
            "connected account {}: {} cannot revoke its {} credentials programmatically; disable the account (PATCH .../status) or delete it",
            account.id, account.toolkit, account.auth_scheme
        )));
    };
    let revoked = state.oauth.revoke(&app, &account.credentials).await;
    account.status = "REVOKED".into();
    account.status_reason = Some(if revoked.is_empty() {
        "revoked through the API (the provider could not be reached; the tokens were discarded)"
            .into()
    } else {
        "revoked through the API".into()
    });
    account.credentials = Value::Object(Map::new());
    account.updated_at = now();
    let saved = account.clone();
    state
        .store
        .run(move |store| store.update_account(&saved))
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(answer(account, revoked)))
}
