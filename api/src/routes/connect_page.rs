//! The hosted connect page, `GET`/`POST /link/{token}`: a server-rendered
//! form (no JavaScript) where a user gives the credential an INITIATED
//! account needs. A valid submission makes the account ACTIVE and sends the
//! browser to the link's `callback_url` with `status=success` and
//! `connected_account_id`; an expired, used or unknown link gets a page
//! saying so and changes nothing. The page needs no API key: the token in
//! the URL is the capability.
//!
//! For an OAUTH2 account the page is a redirect to the provider's consent
//! screen instead; the provider comes back to [`super::oauth_callback`].

use crate::oauth::flow;
use crate::routes::sessions::base_url;
use crate::state::AppState;
use crate::store::{AccountRecord, LinkKey, LinkRecord, now};
use crate::wire::auth_config::{InputField, input_fields};
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The page's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/link/{token}", get(show).post(submit))
}

/// A whole page: `status` with the `body` markup, never cached or framed.
pub(super) fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · toolshed" }
                style { (STYLE) }
            }
            body { main { (body) } }
        }
    };
    let mut response = (status, axum::response::Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            // No form-action: browsers apply it to the redirect after the
            // form, and the callback can be any app's URL.
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#111}\
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;margin-top:.25rem;box-sizing:border-box}\
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}.error{color:#a00}img{height:3rem}";

/// The page for a link that could not be spent: another request spent it
/// first (`Ok(false)`), or the store failed; `None` when it was spent here.
pub(super) fn unclaimed(claimed: Result<bool, crate::store::StoreError>) -> Option<Response> {
    match claimed {
        Ok(true) => None,
        Ok(false) => Some(notice(
            StatusCode::GONE,
            "Link already used",
            "This connection link was already used.",
        )),
        Err(_) => Some(notice(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "toolshed could not save the connection. Ask for a new link.",
        )),
    }
}

/// A page that only says something.
pub(super) fn notice(status: StatusCode, title: &str, message: &str) -> Response {
    page(status, title, html! { h1 { (title) } p { (message) } })
}

/// Why a link cannot be used.
pub(super) fn unusable(link: Option<&LinkRecord>, at: i64) -> Option<Response> {
    let Some(link) = link else {
        return Some(notice(
            StatusCode::NOT_FOUND,
            "Link not found",
            "This connection link is not valid. Ask for a new one.",
        ));
    };
    if link.used_at.is_some() {
        return Some(notice(
            StatusCode::GONE,
            "Link already used",
            "This connection link was already used. Ask for a new one if you need to connect again.",
        ));
    }
    if link.expires_at <= at {
        return Some(notice(
            StatusCode::GONE,
            "Link expired",
            "This connection link has expired. Ask for a new one.",
        ));
    }
    None
}

/// The link, its account and the toolkit's display name and logo; or the
/// page to answer with instead.
struct Loaded {
    link: LinkRecord,
    account: AccountRecord,
    name: String,
    logo: String,
}

async fn load(state: &AppState, token: &str) -> Result<Loaded, Response> {
    let at = now();
    let lookup = {
        let token = token.to_owned();
        state
            .store
            .run(move |store| store.link_and_account(LinkKey::Token(&token), at))
            .await
    };
    let (link, account) = lookup.map_err(|_| {
        notice(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "toolshed could not read this link. Try again in a moment.",
        )
    })?;
    if let Some(page) = unusable(link.as_ref(), at) {
        return Err(page);
    }
    let (Some(link), Some(account)) = (link, account) else {
        return Err(notice(
            StatusCode::GONE,
            "Connection removed",
            "The account this link completes was deleted. Ask for a new link.",
        ));
    };
    if account.status != "INITIATED" {
        return Err(notice(
            StatusCode::GONE,
            "Link already used",
            "This connection is no longer waiting for credentials.",
        ));
    }
    let catalog = state.catalog();
    let toolkit = catalog.toolkit(&account.toolkit);
    Ok(Loaded {
        name: toolkit.map_or_else(|| account.toolkit.clone(), |t| t.name.clone()),
        logo: toolkit.map(|t| t.logo.clone()).unwrap_or_default(),
        link,
        account,
    })
}

/// The form, with `error` above it when a submission was refused.
fn form(loaded: &Loaded, error: Option<&str>) -> Markup {
    let fields: Vec<InputField> = input_fields(&loaded.account.auth_scheme);
    html! {
        @if !loaded.logo.is_empty() {
            img src=(loaded.logo) alt=(format!("{} logo", loaded.name));
        }
        h1 { "Connect " (loaded.name) }
        p { "Enter your " (loaded.name) " credentials. They are stored encrypted and used only to call " (loaded.name) " for you." }
        @if let Some(error) = error {
            p.error role="alert" id="error" { (error) }
        }
        form method="post" {
            @for field in &fields {
                label for=(field.name) { (field.display_name) @if !field.required { " (optional)" } }
                input id=(field.name) name=(field.name)
                    type=(if field.is_secret { "password" } else { "text" })
                    autocomplete="off" required[field.required]
                    aria-describedby=[error.map(|_| "error")];
            }
            button type="submit" { "Connect " (loaded.name) }
        }
    }
}

async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    match load(&state, &token).await {
        Ok(loaded) if loaded.account.auth_scheme == "OAUTH2" => {
            to_provider(&state, &loaded, &token, &headers).await
        }
        Ok(loaded) => page(
            StatusCode::OK,
            &format!("Connect {}", loaded.name),
            form(&loaded, None),
        ),
        Err(page) => page,
    }
}

/// Sends the browser to the provider's consent screen, with the `state`
/// and PKCE challenge of this link's flow.
async fn to_provider(
    state: &AppState,
    loaded: &Loaded,
    token: &str,
    headers: &HeaderMap,
) -> Response {
    let config = {
        let (project, id) = (
            loaded.account.project_id.clone(),
            loaded.account.auth_config_id.clone(),
        );
        state
            .store
            .run(move |store| store.auth_config(&project, &id))
            .await
    };
    let catalog = state.catalog();
    let toolkit = catalog.toolkit(&loaded.account.toolkit);
    let (Ok(Some(config)), Some(toolkit)) = (config, toolkit) else {
        return notice(
            StatusCode::GONE,
            "Connection unavailable",
            "The settings this connection was made with no longer exist. Ask for a new link.",
        );
    };
    let app = match state.oauth.app(&config, toolkit) {
        Ok(app) => app,
        Err(err) => {
            tracing::warn!(auth_config = %config.id, error = %err, "an OAuth2 link cannot start");
            return notice(
                StatusCode::SERVICE_UNAVAILABLE,
                "Connection unavailable",
                &format!(
                    "{} sign-in is not set up on this server. Tell whoever sent you this link.",
                    loaded.name
                ),
            );
        }
    };
    let flow_state = flow::state_for(&state.store, token);
    let verifier = flow::verifier_for(&state.store, &flow_state);
    let redirect_uri = format!("{}/oauth/callback", base_url(state, headers));
    match flow::authorize_url(&app, &redirect_uri, &flow_state, &verifier) {
        Ok(url) => see_other(url),
        Err(err) => {
            tracing::warn!(auth_config = %config.id, error = %err, "an OAuth2 authorize URL cannot be made");
            notice(
                StatusCode::SERVICE_UNAVAILABLE,
                "Connection unavailable",
                &format!(
                    "{} sign-in is not set up correctly on this server. Tell whoever sent you this link.",
                    loaded.name
                ),
            )
        }
    }
}

/// A 303 to `url`, never cached.
pub(super) fn see_other(url: String) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, url),
            (header::CACHE_CONTROL, "no-store".into()),
            (header::REFERRER_POLICY, "no-referrer".into()),
        ],
    )
        .into_response()
}

async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let loaded = match load(&state, &token).await {
        Ok(loaded) => loaded,
        Err(page) => return page,
    };
    if loaded.account.auth_scheme == "OAUTH2" {
        return notice(
            StatusCode::BAD_REQUEST,
            &format!("Connect {}", loaded.name),
            &format!(
                "This connection signs in with {} itself: open the link again to continue.",
                loaded.name
            ),
        );
    }
    let fields = input_fields(&loaded.account.auth_scheme);
    let mut credentials = Map::new();
    for field in &fields {
        let value = values.get(field.name).map(|v| v.trim()).unwrap_or_default();
        if value.is_empty() {
            if field.required {
                let message = format!("{} is required.", field.display_name);
                return page(
                    StatusCode::BAD_REQUEST,
                    &format!("Connect {}", loaded.name),
                    form(&loaded, Some(&message)),
                );
            }
            continue;
        }
        if value.len() > 8192 {
            let message = format!("{} is too long.", field.display_name);
            return page(
                StatusCode::BAD_REQUEST,
                &format!("Connect {}", loaded.name),
                form(&loaded, Some(&message)),
            );
        }
        credentials.insert(field.name.into(), Value::String(value.to_owned()));
    }
    let mut account = loaded.account;
    account.credentials = Value::Object(credentials);
    account.status = "ACTIVE".into();
    account.status_reason = None;
    account.updated_at = now();
    let stored = {
        let account = account.clone();
        state
            .store
            .run(move |store| {
                // The link is spent first: of two racing submissions, one
                // completes the account and the other is told the link was used.
                if !store.use_link(&token, account.updated_at)? {
                    return Ok(false);
                }
                store.update_account(&account)
            })
            .await
    };
    if let Some(page) = unclaimed(stored) {
        return page;
    }
    tracing::info!(account = %account.id, toolkit = %account.toolkit, "connected account completed through its link");
    finish(
        loaded.link.callback_url.as_deref(),
        &account.id,
        Ok(()),
        &loaded.name,
    )
}

/// Where a finished link leads: the link's `callback_url` with `status`
/// (`success` or `failed`, and on failure the `error` code) and
/// `connected_account_id` appended, or a page saying how it went.
pub(super) fn finish(
    callback_url: Option<&str>,
    account_id: &str,
    outcome: Result<(), (&str, &str)>,
    name: &str,
) -> Response {
    let target = callback_url.and_then(|url| reqwest::Url::parse(url).ok());
    if let Some(mut url) = target {
        {
            let mut query = url.query_pairs_mut();
            match outcome {
                Ok(()) => query.append_pair("status", "success"),
                Err((code, _)) => query
                    .append_pair("status", "failed")
                    .append_pair("error", code),
            };
            query.append_pair("connected_account_id", account_id);
        }
        return see_other(url.into());
    }
    match outcome {
        Ok(()) => notice(
            StatusCode::OK,
            &format!("{name} connected"),
            "You can close this window.",
        ),
        Err((_, message)) => notice(
            StatusCode::BAD_REQUEST,
            &format!("{name} not connected"),
            message,
        ),
    }
}
