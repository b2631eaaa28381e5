//! `GET /oauth/callback`: where OAuth2 providers send the browser back
//! after the consent screen (register `{public URL}/oauth/callback` as the
//! app's redirect URI). The `state` finds the link the flow started from;
//! the link is spent before the code is exchanged, so a replayed callback
//! changes nothing. The account becomes ACTIVE with the tokens (sealed), or
//! FAILED with the reason, and the browser goes on to the link's
//! `callback_url` as after the credential form.

use super::connect_page::{finish, notice, unclaimed, unusable};
use crate::oauth::flow;
use crate::routes::sessions::base_url;
use crate::state::AppState;
use crate::store::{AccountRecord, LinkKey, LinkRecord, now};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

/// The callback route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/oauth/callback", get(callback))
}

/// What the provider appends (RFC 6749 section 4.1.2).
#[derive(Deserialize)]
struct Params {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Longest `state`, `code` or error text read.
const MAX_PARAM_BYTES: usize = 4096;

async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    let Some(flow_state) = params
        .state
        .filter(|s| !s.is_empty() && s.len() <= MAX_PARAM_BYTES)
    else {
        return not_recognised();
    };
    let at = now();
    let lookup = {
        let flow_state = flow_state.clone();
        state
            .store
            .run(move |store| store.link_and_account(LinkKey::State(&flow_state), at))
            .await
    };
    let Ok((link, account)) = lookup else {
        return notice(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "toolshed could not read this sign-in. Try again in a moment.",
        );
    };
    let Some(link) = link else {
        return not_recognised();
    };
    if let Some(page) = unusable(Some(&link), at) {
        return page;
    }
    let Some(account) = account.filter(|a| a.status == "INITIATED") else {
        return notice(
            StatusCode::GONE,
            "Link already used",
            "This connection is no longer waiting to be completed.",
        );
    };
    let name = state
        .catalog()
        .toolkit(&account.toolkit)
        .map_or_else(|| account.toolkit.clone(), |t| t.name.clone());
    let code = params
        .code
        .filter(|c| !c.is_empty() && c.len() <= MAX_PARAM_BYTES);
    let answer = match (params.error, code) {
        (Some(error), _) => Err(error),
        (None, Some(code)) => Ok(code),
        (None, None) => {
            return notice(
                StatusCode::BAD_REQUEST,
                "Sign-in incomplete",
                "The provider sent back neither a code nor an error. Open the connection link again.",
            );
        }
    };
    // Spent first: of two callbacks with this state, one goes on.
    let claimed = {
        let flow_state = flow_state.clone();
        state
            .store
            .run(move |store| store.use_link_by_state(&flow_state, at))
            .await
    };
    if let Some(page) = unclaimed(claimed) {
        return page;
    }
    let outcome = match answer {
        Err(error) => {
            let error = crate::error::clip(&error, 64);
            let detail = params
                .error_description
                .map(|d| format!(": {}", crate::error::clip(&d, 200)))
                .unwrap_or_default();
            let reason = if error == "access_denied" {
                format!("the user did not allow access ({error}{detail})")
            } else {
                format!("the provider returned an error ({error}{detail})")
            };
            Err((error, reason))
        }
        Ok(code) => exchange(&state, &headers, &account, &flow_state, &code).await,
    };
    complete(&state, account, &link, outcome, &name).await
}

/// Exchanges `code` for tokens with the account's app: the account as it
/// will be stored, or the error code and reason.
async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    account: &AccountRecord,
    flow_state: &str,
    code: &str,
) -> Result<AccountRecord, (String, String)> {
    let config = {
        let (project, id) = (account.project_id.clone(), account.auth_config_id.clone());
        state
            .store
            .run(move |store| store.auth_config(&project, &id))
            .await
    };
    let catalog = state.catalog();
    let toolkit = catalog.toolkit(&account.toolkit);
    let (Ok(Some(config)), Some(toolkit)) = (config, toolkit) else {
        return Err((
            "server_error".into(),
            "the auth config of this connection no longer exists".into(),
        ));
    };
    let app = state.oauth.app(&config, toolkit).map_err(|err| {
        (
            "server_error".to_owned(),
            format!("the OAuth app is not set up: {err}"),
        )
    })?;
    let verifier = flow::verifier_for(&state.store, flow_state);
    let redirect_uri = format!("{}/oauth/callback", base_url(state, headers));
    let tokens = state
        .oauth
        .exchange_code(&app, &redirect_uri, code, &verifier)
        .await
        .map_err(|err| {
            (
                "token_exchange_failed".to_owned(),
                format!("the code could not be exchanged for tokens: {err}"),
            )
        })?;
    let mut account = account.clone();
    account.credentials = tokens.to_credentials();
    Ok(account)
}

/// Stores the outcome (ACTIVE with tokens, or FAILED with the reason) and
/// sends the browser on.
async fn complete(
    state: &AppState,
    mut account: AccountRecord,
    link: &LinkRecord,
    outcome: Result<AccountRecord, (String, String)>,
    name: &str,
) -> Response {
    let failure = match outcome {
        Ok(done) => {
            account = done;
            account.status = "ACTIVE".into();
            account.status_reason = None;
            None
        }
        Err((code, reason)) => {
            account.status = "FAILED".into();
            account.status_reason = Some(reason.clone());
            Some((code, reason))
        }
    };
    account.updated_at = now();
    let saved = {
        let account = account.clone();
        state
            .store
            .run(move |store| store.update_account(&account))
            .await
    };
    if saved.is_err() {
        return notice(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "toolshed could not save the connection. Ask for a new link.",
        );
    }
    match &failure {
        None => {
            tracing::info!(account = %account.id, toolkit = %account.toolkit, "OAuth2 account connected");
        }
        Some((code, _)) => {
            tracing::info!(account = %account.id, toolkit = %account.toolkit, %code, "OAuth2 connection failed");
        }
    }
    let message;
    let outcome = match &failure {
        None => Ok(()),
        Some((code, reason)) => {
            message = format!("{name} was not connected: {reason}.");
            Err((code.as_str(), message.as_str()))
        }
    };
    finish(link.callback_url.as_deref(), &account.id, outcome, name)
}

fn not_recognised() -> Response {
    notice(
        StatusCode::BAD_REQUEST,
        "Sign-in not recognised",
        "This sign-in did not start from a valid connection link, so nothing was changed. Open the link you were given again.",
    )
}
