//! How connections authenticate: the rules for auth configs (which schemes
//! a toolkit takes, what each needs) and choosing the config an account is
//! made under.

use crate::catalog::toolkit::Toolkit;
use crate::error::ApiError;
use crate::keys;
use crate::oauth::{OAuth, flow};
use crate::store::{AccountRecord, AuthConfigRecord, LinkRecord, Store, StoreError, now};
use crate::wire::auth_config::{AuthConfigSpec, AuthConfigType};
use serde_json::{Map, Value};

/// The schemes connections can use today.
pub const SCHEMES: [&str; 4] = ["API_KEY", "BEARER_TOKEN", "BASIC", "OAUTH2"];

/// Longest auth-config name, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Largest `credentials` (settings) object, as JSON.
pub const MAX_SETTINGS_BYTES: usize = 16 << 10;

/// Checks `scheme` (upper-cased) against what `toolkit` accepts.
pub fn scheme_for(toolkit: &Toolkit, scheme: &str) -> Result<String, ApiError> {
    let scheme = crate::error::clip(scheme, 32).to_ascii_uppercase();
    if !SCHEMES.contains(&scheme.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "auth_scheme: {scheme} is not supported; use {}",
            SCHEMES.join(", ")
        )));
    }
    if !toolkit.auth.schemes.contains(&scheme) {
        return Err(ApiError::BadRequest(format!(
            "auth_scheme: {} accepts {}, not {scheme}",
            toolkit.slug,
            toolkit.auth.schemes.join(", ")
        )));
    }
    Ok(scheme)
}

/// The scheme a managed config of `toolkit` uses when none is named: the
/// first one the server can serve without the project's own app (OAUTH2
/// only when the operator registered an app for the toolkit).
fn managed_scheme(toolkit: &Toolkit, oauth: &OAuth) -> Result<String, ApiError> {
    if toolkit.auth.schemes.iter().all(|s| s == "NO_AUTH") {
        return Err(ApiError::BadRequest(format!(
            "toolkit: {} needs no authentication, so it has no auth configs",
            toolkit.slug
        )));
    }
    toolkit
        .auth
        .schemes
        .iter()
        .find(|s| match s.as_str() {
            "API_KEY" | "BEARER_TOKEN" | "BASIC" => true,
            "OAUTH2" => oauth.has_operator_app(&toolkit.slug),
            _ => false,
        })
        .cloned()
        .ok_or_else(|| no_oauth_app(toolkit))
}

fn no_oauth_app(toolkit: &Toolkit) -> ApiError {
    ApiError::BadRequest(format!(
        "auth_config: {}",
        crate::oauth::no_operator_app(&toolkit.slug)
    ))
}

/// Checks an OAUTH2 config's app settings.
fn check_oauth_app(settings: &Map<String, Value>) -> Result<(), ApiError> {
    for key in ["client_id", "client_secret"] {
        if settings
            .get(key)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(ApiError::BadRequest(format!(
                "auth_config.credentials.{key}: an OAUTH2 config needs the app's {key}"
            )));
        }
    }
    Ok(())
}

/// Bounds on a config's name and settings.
pub fn check_bounds(name: Option<&str>, settings: &Map<String, Value>) -> Result<(), ApiError> {
    if name.is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(ApiError::BadRequest(format!(
            "name: must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    let size = serde_json::to_vec(settings).map_or(usize::MAX, |v| v.len());
    if size > MAX_SETTINGS_BYTES {
        return Err(ApiError::BadRequest(format!(
            "credentials: must be at most {MAX_SETTINGS_BYTES} bytes as JSON (got {size})"
        )));
    }
    Ok(())
}

/// A new auth config of `project` for `toolkit`, as a create body asks.
pub fn new_config(
    project: &str,
    toolkit: &Toolkit,
    oauth: &OAuth,
    spec: AuthConfigSpec,
) -> Result<AuthConfigRecord, ApiError> {
    let credentials = spec.credentials.unwrap_or_default();
    check_bounds(spec.name.as_deref(), &credentials)?;
    let scheme = match (spec.kind, spec.auth_scheme.as_deref()) {
        (AuthConfigType::Custom, None) => {
            return Err(ApiError::BadRequest(
                "auth_config.authScheme: a custom auth config names its scheme".into(),
            ));
        }
        (_, Some(scheme)) => scheme_for(toolkit, scheme)?,
        (AuthConfigType::Managed, None) => managed_scheme(toolkit, oauth)?,
    };
    if scheme == "OAUTH2" {
        match spec.kind {
            AuthConfigType::Managed if !oauth.has_operator_app(&toolkit.slug) => {
                return Err(no_oauth_app(toolkit));
            }
            AuthConfigType::Managed => {}
            AuthConfigType::Custom => check_oauth_app(&credentials)?,
        }
    }
    let mut settings = Map::new();
    if let Some(access) = spec.tool_access_config {
        settings.insert("tool_access_config".into(), Value::Object(access));
    }
    if let Some(tools) = spec.restrict_to_following_tools {
        settings.insert("restrict_to_following_tools".into(), tools.into());
    }
    if let Some(enabled) = spec.is_enabled_for_tool_router {
        settings.insert("is_enabled_for_tool_router".into(), enabled.into());
    }
    let timestamp = now();
    Ok(AuthConfigRecord {
        id: keys::new_id("ac_"),
        project_id: project.to_owned(),
        toolkit: toolkit.slug.clone(),
        name: spec
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("{} {}", toolkit.name, scheme_label(&scheme))),
        auth_scheme: scheme,
        managed: spec.kind == AuthConfigType::Managed,
        enabled: true,
        credentials,
        settings,
        created_at: timestamp,
        updated_at: timestamp,
    })
}

/// Checks a config after an update changed its settings.
pub fn check_updated(config: &AuthConfigRecord) -> Result<(), ApiError> {
    check_bounds(Some(&config.name), &config.credentials)?;
    if config.auth_scheme == "OAUTH2" && !config.managed {
        check_oauth_app(&config.credentials)?;
    }
    Ok(())
}

fn scheme_label(scheme: &str) -> &'static str {
    match scheme {
        "API_KEY" => "API key",
        "BEARER_TOKEN" => "bearer token",
        "BASIC" => "basic auth",
        _ => "OAuth2",
    }
}

/// The auth config an account of `toolkit` with `scheme` is made under when
/// the request names none: the project's oldest enabled one for that
/// scheme, or a new managed one.
pub fn config_for_account(
    store: &Store,
    project: &str,
    toolkit: &Toolkit,
    scheme: &str,
) -> Result<AuthConfigRecord, StoreError> {
    if let Some(config) = store.default_auth_config(project, &toolkit.slug, Some(scheme))? {
        return Ok(config);
    }
    let timestamp = now();
    let config = AuthConfigRecord {
        id: keys::new_id("ac_"),
        project_id: project.to_owned(),
        toolkit: toolkit.slug.clone(),
        name: format!("{} {}", toolkit.name, scheme_label(scheme)),
        auth_scheme: scheme.to_owned(),
        managed: true,
        enabled: true,
        credentials: Map::new(),
        settings: Map::new(),
        created_at: timestamp,
        updated_at: timestamp,
    };
    store.create_auth_config(&config)?;
    Ok(config)
}

/// Longest account alias, in characters.
pub const MAX_ALIAS_CHARS: usize = 256;

/// Checks an account alias's length.
pub fn check_alias(alias: Option<&str>) -> Result<(), ApiError> {
    if alias.is_some_and(|a| a.chars().count() > MAX_ALIAS_CHARS) {
        return Err(ApiError::BadRequest(format!(
            "alias: must be at most {MAX_ALIAS_CHARS} characters"
        )));
    }
    Ok(())
}

/// Longest `callback_url`, in characters.
pub const MAX_CALLBACK_CHARS: usize = 2048;

/// Checks a `callback_url`: an absolute http(s) URL.
pub fn check_callback(url: Option<&str>, field: &str) -> Result<(), ApiError> {
    let Some(url) = url.filter(|u| !u.is_empty()) else {
        return Ok(());
    };
    let ok = url.chars().count() <= MAX_CALLBACK_CHARS
        && reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "{field}: must be an absolute http(s) URL of at most {MAX_CALLBACK_CHARS} characters"
        )))
    }
}

/// A link just made: the INITIATED account, the token (shown once) and
/// when it expires.
#[derive(Debug)]
pub struct NewLink {
    /// The account the link completes.
    pub account: AccountRecord,
    /// The secret part of the URL.
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Makes an INITIATED account of `user_id` under `config` and the link that
/// completes it in the browser: a form for API_KEY, BEARER_TOKEN and BASIC,
/// the provider's consent screen for OAUTH2.
pub fn start_link(
    store: &Store,
    config: &AuthConfigRecord,
    user_id: String,
    alias: Option<String>,
    callback_url: Option<String>,
    ttl: std::time::Duration,
) -> Result<NewLink, StoreError> {
    let timestamp = now();
    let account = AccountRecord {
        id: keys::new_id("ca_"),
        project_id: config.project_id.clone(),
        user_id,
        toolkit: config.toolkit.clone(),
        auth_scheme: config.auth_scheme.clone(),
        status: "INITIATED".into(),
        credentials: Value::Object(Map::new()),
        alias: alias.filter(|a| !a.is_empty()),
        created_at: timestamp,
        updated_at: timestamp,
        auth_config_id: config.id.clone(),
        status_reason: None,
        enabled: true,
    };
    let (token, link, state) = new_link(store, config, &account.id, callback_url, ttl);
    store.create_linked_account(&account, &token, &link, state.as_deref())?;
    Ok(NewLink {
        expires_at: link.expires_at,
        account,
        token,
    })
}

/// A new link for an existing account (`connected_accounts.refresh`): the
/// account turns INITIATED until the user completes it, and its earlier
/// unused links stop working.
pub fn relink(
    store: &Store,
    config: &AuthConfigRecord,
    mut account: AccountRecord,
    callback_url: Option<String>,
    ttl: std::time::Duration,
) -> Result<NewLink, StoreError> {
    account.status = "INITIATED".into();
    account.status_reason = None;
    account.updated_at = now();
    let (token, link, state) = new_link(store, config, &account.id, callback_url, ttl);
    store.relink_account(&account, &token, &link, state.as_deref())?;
    Ok(NewLink {
        expires_at: link.expires_at,
        account,
        token,
    })
}

/// A link's token, record and (for OAUTH2) flow state.
fn new_link(
    store: &Store,
    config: &AuthConfigRecord,
    account_id: &str,
    callback_url: Option<String>,
    ttl: std::time::Duration,
) -> (String, LinkRecord, Option<String>) {
    let token = format!(
        "lt_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let expires_at = now().saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
    let link = LinkRecord {
        project_id: config.project_id.clone(),
        account_id: account_id.to_owned(),
        callback_url: callback_url.filter(|u| !u.is_empty()),
        expires_at,
        used_at: None,
    };
    let state = (config.auth_scheme == "OAUTH2").then(|| flow::state_for(store, &token));
    (token, link, state)
}

/// Refuses a new connection when `user_id` already has `max` (or more)
/// ACTIVE accounts of `toolkit` (the session's
/// `multi_account.max_accounts_per_toolkit`).
pub fn check_room(
    store: &Store,
    project: &str,
    user_id: &str,
    toolkit: &str,
    max: Option<usize>,
) -> Result<Result<(), ApiError>, StoreError> {
    let Some(max) = max else {
        return Ok(Ok(()));
    };
    let active = store
        .accounts_for_user(project, user_id, Some(toolkit))?
        .iter()
        .filter(|a| a.status == "ACTIVE")
        .count();
    if active < max {
        return Ok(Ok(()));
    }
    Ok(Err(ApiError::BadRequest(format!(
        "toolkit: user {user_id} already has {active} active {toolkit} accounts, the most this session allows (multi_account.max_accounts_per_toolkit = {max}); delete or disable one first"
    ))))
}

/// Refuses configs no link can be made for: disabled ones, and OAUTH2 ones
/// without an app or endpoints.
pub fn check_linkable(
    config: &AuthConfigRecord,
    toolkit: &Toolkit,
    oauth: &OAuth,
) -> Result<(), ApiError> {
    if !config.enabled {
        return Err(ApiError::BadRequest(format!(
            "auth_config: {} is disabled; enable it or use another",
            config.id
        )));
    }
    if config.auth_scheme == "OAUTH2" {
        oauth
            .app(config, toolkit)
            .map_err(|err| ApiError::BadRequest(format!("auth_config: {err}")))?;
    }
    Ok(())
}

/// The auth config a session's user connects `toolkit` with: the one the
/// session pins (`auth_configs`), else the project's oldest enabled one,
/// else a new managed one when the toolkit takes a scheme that needs no app.
pub fn config_for_session(
    store: &Store,
    project: &str,
    toolkit: &Toolkit,
    oauth: &OAuth,
    pinned: Option<&str>,
) -> Result<Result<AuthConfigRecord, ApiError>, StoreError> {
    if let Some(id) = pinned {
        return Ok(store.auth_config(project, id)?.ok_or_else(|| {
            ApiError::BadRequest(format!(
                "auth_configs.{}: the session pins {}, which does not exist",
                toolkit.slug,
                crate::error::clip(id, 64)
            ))
        }));
    }
    if let Some(config) = store.default_auth_config(project, &toolkit.slug, None)? {
        return Ok(Ok(config));
    }
    match managed_scheme(toolkit, oauth) {
        Ok(scheme) => config_for_account(store, project, toolkit, &scheme).map(Ok),
        Err(err) => Ok(Err(err)),
    }
}
