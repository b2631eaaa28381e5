//! Connect Link: `POST /api/v3.1/connected_accounts/link` and
//! `POST /api/v3.1/tool_router/session/{id}/link` (`session.authorize`)
//! make an INITIATED account and a single-use, expiring URL where the user
//! completes it (see [`super::connect_page`]);
//! `POST /api/v3.1/connected_accounts/{id}/refresh` makes a new one for an
//! existing account, to reconnect it.

use crate::connections::{self, NewLink};
use crate::error::{ApiError, clip};
use crate::extract::{Json, Project, Query};
use crate::routes::sessions::base_url;
use crate::session::SessionContext;
use crate::session::request::UserId;
use crate::state::AppState;
use crate::store::AuthConfigRecord;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use serde::{Deserialize, Serialize};

/// The link routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3.1/connected_accounts/link", post(account_link))
        .route(
            "/api/v3.1/tool_router/session/{id}/link",
            post(session_link),
        )
        .route("/api/v3.1/connected_accounts/{id}/refresh", post(refresh))
}

/// `POST /connected_accounts/link`.
#[derive(Deserialize, utoipa::ToSchema)]
struct AccountLinkBody {
    /// The auth config the account is made under.
    #[schema(min_length = 1)]
    auth_config_id: String,
    /// The end user.
    user_id: UserId,
    /// Where the browser goes afterwards (`status` and
    /// `connected_account_id` are appended).
    callback_url: Option<String>,
    /// A label to choose the account by.
    #[schema(max_length = 256)]
    alias: Option<String>,
}

/// `POST /tool_router/session/{id}/link`.
#[derive(Deserialize, utoipa::ToSchema)]
struct SessionLinkBody {
    /// The toolkit to connect.
    #[schema(min_length = 1, max_length = 64)]
    toolkit: String,
    /// Where the browser goes afterwards.
    callback_url: Option<String>,
    /// A label to choose the account by.
    #[schema(max_length = 256)]
    alias: Option<String>,
}

/// A link, as both endpoints return it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LinkResponse {
    /// The INITIATED account (`ca_...`); poll it until ACTIVE.
    pub connected_account_id: String,
    /// The secret in `redirect_url`.
    pub link_token: String,
    /// Where the user completes the connection.
    pub redirect_url: String,
    /// RFC 3339; after it the account turns EXPIRED.
    pub expires_at: String,
}

impl LinkResponse {
    /// The response for `link`, served under `base`.
    pub fn of(link: &NewLink, base: &str) -> LinkResponse {
        LinkResponse {
            connected_account_id: link.account.id.clone(),
            redirect_url: format!("{base}/link/{}", link.token),
            link_token: link.token.clone(),
            expires_at: crate::timestamp::rfc3339(link.expires_at.max(0) as u64),
        }
    }
}

/// Checks that the toolkit of `config` is loaded and linkable.
fn linkable_toolkit(state: &AppState, config: &AuthConfigRecord) -> Result<(), ApiError> {
    let catalog = state.catalog();
    let toolkit = catalog.toolkit(&config.toolkit).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "auth_config: toolkit {} is not loaded on this server",
            config.toolkit
        ))
    })?;
    connections::check_linkable(config, toolkit, &state.oauth)
}

/// Makes the account and link under `config`.
pub async fn start(
    state: &AppState,
    config: AuthConfigRecord,
    user_id: String,
    alias: Option<String>,
    callback_url: Option<String>,
) -> Result<NewLink, ApiError> {
    linkable_toolkit(state, &config)?;
    let ttl = state.config.link_ttl;
    state
        .store
        .run(move |store| {
            connections::start_link(store, &config, user_id, alias, callback_url, ttl)
        })
        .await
        .map_err(ApiError::internal)
}

#[utoipa::path(
    operation_id = "account_link", post, path = "/api/v3.1/connected_accounts/link", tag = "connected accounts", request_body = AccountLinkBody,
    responses((status = 200, body = LinkResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such auth config in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn account_link(
    State(state): State<AppState>,
    Project(project): Project,
    headers: HeaderMap,
    Json(body): Json<AccountLinkBody>,
) -> Result<axum::Json<LinkResponse>, ApiError> {
    connections::check_alias(body.alias.as_deref())?;
    connections::check_callback(body.callback_url.as_deref(), "callback_url")?;
    let config = {
        let (project, id) = (project.clone(), body.auth_config_id.clone());
        state
            .store
            .run(move |store| store.auth_config(&project, &id))
            .await
            .map_err(ApiError::internal)?
    }
    .ok_or_else(|| {
        ApiError::NotFound(format!(
            "auth config {} not found",
            clip(&body.auth_config_id, 64)
        ))
    })?;
    let link = start(
        &state,
        config,
        body.user_id.0,
        body.alias,
        body.callback_url,
    )
    .await?;
    Ok(axum::Json(LinkResponse::of(
        &link,
        &base_url(&state, &headers),
    )))
}

#[utoipa::path(
    operation_id = "session_link", post, path = "/api/v3.1/tool_router/session/{id}/link", tag = "sessions", params(("id" = String, Path, description = "The session id (trs_...)")),
    request_body = SessionLinkBody,
    responses((status = 200, body = LinkResponse), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such session in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn session_link(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<SessionLinkBody>,
) -> Result<axum::Json<LinkResponse>, ApiError> {
    connections::check_alias(body.alias.as_deref())?;
    connections::check_callback(body.callback_url.as_deref(), "callback_url")?;
    let ctx = SessionContext::load(&state, &project, &id).await?;
    let slug = body.toolkit.to_ascii_lowercase();
    let toolkit = state
        .catalog()
        .toolkit(&slug)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "toolkit: {} is not a known toolkit",
                clip(&slug, 64)
            ))
        })?
        .clone();
    if ctx
        .config
        .toolkits
        .as_ref()
        .is_some_and(|filter| !filter.allows(&slug))
    {
        return Err(ApiError::BadRequest(format!(
            "toolkit: {slug} is not enabled in this session"
        )));
    }
    let pinned = ctx.config.auth_configs.get(&slug).cloned();
    let oauth = state.oauth.clone();
    let (user, max) = (
        ctx.record.user_id.clone(),
        ctx.config.max_accounts_per_toolkit(),
    );
    let config = state
        .store
        .run(move |store| {
            if let Err(err) = connections::check_room(store, &project, &user, &slug, max)? {
                return Ok(Err(err));
            }
            connections::config_for_session(store, &project, &toolkit, &oauth, pinned.as_deref())
        })
        .await
        .map_err(ApiError::internal)??;
    let link = start(
        &state,
        config,
        ctx.record.user_id.clone(),
        body.alias,
        body.callback_url,
    )
    .await?;
    Ok(axum::Json(LinkResponse::of(
        &link,
        &base_url(&state, &headers),
    )))
}

/// `POST /connected_accounts/{id}/refresh`: `redirect_url` in the body or
/// the query (the SDKs send one or the other).
#[derive(Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RefreshBody {
    /// Where the browser goes once the user reconnected (`status` and
    /// `connected_account_id` are appended).
    redirect_url: Option<String>,
}

/// The account, INITIATED, and where the user reconnects it.
#[derive(Serialize, utoipa::ToSchema)]
struct Refreshed {
    /// `ca_...`.
    id: String,
    /// INITIATED.
    status: String,
    /// The new link.
    redirect_url: String,
}

#[utoipa::path(
    operation_id = "account_refresh", post, path = "/api/v3.1/connected_accounts/{id}/refresh", tag = "connected accounts",
    params(("id" = String, Path, description = "The account id (ca_...)"), RefreshBody),
    request_body(content = Option<RefreshBody>, description = "Optional; `redirect_url` may come in the query instead"),
    responses((status = 200, body = Refreshed), (status = 400, description = "Bad input, or the account's auth config cannot make links (disabled; OAuth2 without an app)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such account in the key's project", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn refresh(
    State(state): State<AppState>,
    Project(project): Project,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<RefreshBody>,
    body: axum::body::Bytes,
) -> Result<axum::Json<Refreshed>, ApiError> {
    // The body is optional, so it is read by hand rather than by `Json`.
    let body: RefreshBody = if body.iter().all(u8::is_ascii_whitespace) {
        RefreshBody::default()
    } else {
        serde_json::from_slice::<Option<RefreshBody>>(&body)
            .map(Option::unwrap_or_default)
            .map_err(|err| {
                ApiError::BadRequest(format!(
                    "body: must be a JSON object like {{\"redirect_url\": ...}} ({})",
                    clip(&err.to_string(), 120)
                ))
            })?
    };
    let callback_url = body
        .redirect_url
        .or(query.redirect_url)
        .filter(|u| !u.is_empty());
    connections::check_callback(callback_url.as_deref(), "redirect_url")?;
    let (account, config) = {
        let (project, key) = (project.clone(), id.clone());
        state
            .store
            .run(move |store| {
                let Some(account) = store.account(&project, &key)? else {
                    return Ok(None);
                };
                let config = store.auth_config(&project, &account.auth_config_id)?;
                Ok(Some((account, config)))
            })
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::NotFound(format!("connected account {} not found", clip(&id, 64)))
            })?
    };
    let config = config.ok_or_else(|| {
        ApiError::BadRequest(format!(
            "connected account {}: its auth config no longer exists",
            account.id
        ))
    })?;
    linkable_toolkit(&state, &config)?;
    let ttl = state.config.link_ttl;
    let link = state
        .store
        .run(move |store| connections::relink(store, &config, account, callback_url, ttl))
        .await
        .map_err(ApiError::internal)?;
    let response = LinkResponse::of(&link, &base_url(&state, &headers));
    Ok(axum::Json(Refreshed {
        id: link.account.id,
        status: link.account.status,
        redirect_url: response.redirect_url,
    }))
}
