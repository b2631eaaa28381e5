//! OAuth2 connections: which app a connection uses (the project's own,
//! from a custom auth config, or the operator's, from the `--config` file),
//! the authorization-code flow with PKCE ([`flow`]), and access tokens kept
//! fresh: refreshed before they expire and after a 401, once per account at
//! a time ([`tokens`]).
//!
//! The protocol itself (authorize URLs, token requests and their errors,
//! revocation) is the `oauth2` crate's.

pub mod apps;
pub mod flow;
pub mod tokens;

use crate::catalog::toolkit::{ClientAuth, Toolkit};
use crate::store::{AuthConfigRecord, StoreError};
use apps::OperatorApp;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest wait for a provider's token or revocation endpoint.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an OAuth2 step did not work. The messages are for the user or the
/// agent: they name what to do and never carry a secret.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// No app, or no endpoints, to run the flow with.
    #[error("{0}")]
    NotConfigured(String),
    /// The provider answered with an OAuth error.
    #[error("the provider refused: {message}")]
    Rejected {
        /// The OAuth error code (`invalid_grant`, ...).
        code: String,
        /// The code and the provider's description.
        message: String,
    },
    /// The provider could not be reached, or answered something that is not
    /// OAuth.
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    /// The account can no longer be used until the user reconnects it.
    #[error("{0}")]
    Expired(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An OAuth2 app with the endpoints it is used at: everything one flow or
/// refresh needs.
#[derive(Clone)]
pub struct App {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// The provider's authorize endpoint.
    pub authorize_url: String,
    /// The provider's token endpoint.
    pub token_url: String,
    /// The provider's revocation endpoint, if any.
    pub revoke_url: Option<String>,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// Whether PKCE (S256) is used.
    pub pkce: bool,
    /// How the client authenticates at the token endpoint.
    pub client_auth: ClientAuth,
    /// Extra authorize-URL parameters.
    pub authorize_params: BTreeMap<String, String>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

/// The OAuth2 side of the server: the operator's apps, an HTTP client that
/// never follows redirects (a token endpoint that redirects is refused, not
/// followed with the client secret), and the per-account refresh locks.
/// Cheap to clone.
#[derive(Clone)]
pub struct OAuth {
    apps: Arc<BTreeMap<String, OperatorApp>>,
    http: reqwest::Client,
    flights: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("apps", &self.apps.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Default for OAuth {
    fn default() -> Self {
        OAuth::new(BTreeMap::new())
    }
}

impl OAuth {
    /// The service with the operator's `apps` (by toolkit slug), already
    /// checked against the catalog ([`apps::check`]).
    pub fn new(apps: BTreeMap<String, OperatorApp>) -> OAuth {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .user_agent(concat!("toolshed/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        OAuth {
            apps: Arc::new(apps),
            http,
            flights: Arc::default(),
        }
    }

    /// Whether the operator registered an app (client id and secret) for
    /// `toolkit`, so managed OAUTH2 configs of it work.
    pub fn has_operator_app(&self, toolkit: &str) -> bool {
        self.apps.get(toolkit).is_some_and(OperatorApp::has_client)
    }

    /// The app and endpoints an OAUTH2 `config` of `toolkit` uses: the
    /// project's client (custom configs) or the operator's (managed ones),
    /// at the toolkit's endpoints unless the operator overrides them.
    pub fn app(&self, config: &AuthConfigRecord, toolkit: &Toolkit) -> Result<App, OAuthError> {
        let operator = self.apps.get(&toolkit.slug);
        let (client_id, client_secret) = if config.managed {
            match operator.and_then(OperatorApp::client) {
                Some((id, secret)) => (id.to_owned(), secret.to_owned()),
                None => return Err(no_operator_app(&toolkit.slug)),
            }
        } else {
            let get = |key: &str| {
                config
                    .credentials
                    .get(key)
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            match (get("client_id"), get("client_secret")) {
                (Some(id), Some(secret)) => (id, secret),
                _ => {
                    return Err(OAuthError::NotConfigured(format!(
                        "auth config {} has no client_id and client_secret; set them with PATCH /api/v3.1/auth_configs/{}",
                        config.id, config.id
                    )));
                }
            }
        };
        let file = toolkit.auth.oauth2.clone().unwrap_or_default();
        let pick = |over: Option<&String>, base: &str| {
            over.cloned()
                .or_else(|| (!base.is_empty()).then(|| base.to_owned()))
        };
        let authorize_url = pick(
            operator.and_then(|o| o.authorize_url.as_ref()),
            &file.authorize_url,
        );
        let token_url = pick(operator.and_then(|o| o.token_url.as_ref()), &file.token_url);
        let (Some(authorize_url), Some(token_url)) = (authorize_url, token_url) else {
            return Err(OAuthError::NotConfigured(format!(
                "toolkit {slug} has no OAuth2 endpoints: add [auth.oauth2] authorize_url and token_url to its toolkit.toml, or to [oauth_apps.{slug}] in the server's --config file",
                slug = toolkit.slug
            )));
        };
        let scopes = scopes_of(config.credentials.get("scopes"))
            .or_else(|| operator.and_then(|o| o.scopes.clone()))
            .unwrap_or(file.scopes);
        Ok(App {
            client_id,
            client_secret,
            authorize_url,
            token_url,
            revoke_url: operator
                .and_then(|o| o.revoke_url.clone())
                .or(file.revoke_url),
            scopes,
            pkce: file.pkce,
            client_auth: file.client_auth,
            authorize_params: file.authorize_params,
        })
    }

    /// The lock that makes refreshes of `account_id` one at a time.
    fn flight(&self, account_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        // Locks nobody holds or waits for are dropped as new ones are made.
        flights.retain(|_, lock| Arc::strong_count(lock) > 1);
        flights.entry(account_id.to_owned()).or_default().clone()
    }
}

/// The error for a managed OAUTH2 config of a toolkit the operator has
/// registered no app for.
pub fn no_operator_app(toolkit: &str) -> OAuthError {
    OAuthError::NotConfigured(format!(
        "toolshed has no OAuth app for {toolkit}: the server's operator registers one in the --config file ([oauth_apps.{toolkit}] client_id and client_secret), or the project brings its own: POST /api/v3.1/auth_configs with {{\"toolkit\": {{\"slug\": \"{toolkit}\"}}, \"auth_config\": {{\"type\": \"use_custom_auth\", \"authScheme\": \"OAUTH2\", \"credentials\": {{\"client_id\": ..., \"client_secret\": ...}}}}}}"
    ))
}

/// Scopes as a config gives them: a list, or one string separated by
/// commas or spaces.
fn scopes_of(value: Option<&Value>) -> Option<Vec<String>> {
    let scopes: Vec<String> = match value? {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::String(text) => text
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => return None,
    };
    (!scopes.is_empty()).then_some(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_come_as_lists_or_strings() {
        assert_eq!(
            scopes_of(Some(&json!(["a", "b"]))),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            scopes_of(Some(&json!("a, b c"))),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(scopes_of(Some(&json!(""))), None);
        assert_eq!(scopes_of(Some(&json!(3))), None);
        assert_eq!(scopes_of(None), None);
    }
}
