//! An OAUTH2 account's tokens: how they are kept in its (sealed)
//! credentials, refreshing them before they expire and after the provider
//! refuses the access token, and revoking them.
//!
//! Refreshes of one account are one at a time: a caller takes the
//! account's lock, re-reads the account, and refreshes only if the token
//! it holds is still the one that needed it; so when 50 calls find the
//! token expired at once, one refresh reaches the provider and the other 49
//! use its result. A refresh the provider refuses (`invalid_grant`: the
//! user revoked access, the token expired) turns the account EXPIRED with
//! the reason, and the caller is told the user must reconnect.

use super::flow::{client, token_error};
use super::{OAuth, OAuthError};
use crate::catalog::Catalog;
use crate::catalog::toolkit::ClientAuth;
use crate::store::{AccountRecord, Store, now};
use oauth2::basic::BasicTokenResponse;
use oauth2::{RefreshToken, TokenResponse};
use serde_json::{Map, Value, json};

/// Refresh when an access token has less than this left (or half its
/// lifetime, for short-lived ones).
const REFRESH_MARGIN_SECS: i64 = 60;

/// What a token response gave, as kept in an account's credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token, if the provider gave one.
    pub refresh_token: Option<String>,
    /// Unix seconds the access token expires at, if the provider said.
    pub expires_at: Option<i64>,
    /// The access token's lifetime in seconds, if the provider said.
    pub expires_in: Option<i64>,
    /// The scopes granted, space-separated, if the provider said.
    pub scope: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// From a token response; `previous_refresh` is kept when the response
    /// carries no new refresh token (a refresh usually does not).
    pub fn from_response(
        response: &BasicTokenResponse,
        previous_refresh: Option<String>,
    ) -> Tokens {
        let expires_in = response
            .expires_in()
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Tokens {
            access_token: response.access_token().secret().clone(),
            refresh_token: response
                .refresh_token()
                .map(|t| t.secret().clone())
                .or(previous_refresh),
            expires_at: expires_in.map(|secs| now().saturating_add(secs)),
            expires_in,
            scope: response.scopes().map(|scopes| {
                scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        }
    }

    /// From an account's credentials, when they hold an access token.
    pub fn from_credentials(credentials: &Value) -> Option<Tokens> {
        let text = |key: &str| {
            credentials
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Some(Tokens {
            access_token: text("access_token").or_else(|| text("token"))?,
            refresh_token: text("refresh_token"),
            expires_at: credentials.get("expires_at").and_then(Value::as_i64),
            expires_in: credentials.get("expires_in").and_then(Value::as_i64),
            scope: text("scope"),
        })
    }

    /// As an account's credentials.
    pub fn to_credentials(&self) -> Value {
        let mut out = Map::new();
        out.insert("access_token".into(), json!(self.access_token));
        out.insert("token_type".into(), json!("Bearer"));
        if let Some(refresh) = &self.refresh_token {
            out.insert("refresh_token".into(), json!(refresh));
        }
        if let Some(at) = self.expires_at {
            out.insert("expires_at".into(), json!(at));
        }
        if let Some(secs) = self.expires_in {
            out.insert("expires_in".into(), json!(secs));
        }
        if let Some(scope) = &self.scope {
            out.insert("scope".into(), json!(scope));
        }
        Value::Object(out)
    }

    /// Whether the access token expires within the refresh margin of `at`.
    pub fn expiring(&self, at: i64) -> bool {
        let Some(expires_at) = self.expires_at else {
            return false;
        };
        let margin = self.expires_in.map_or(REFRESH_MARGIN_SECS, |life| {
            (life / 2).min(REFRESH_MARGIN_SECS)
        });
        expires_at.saturating_sub(at) <= margin
    }
}

/// Why a refresh is wanted.
enum Need<'a> {
    /// The token expires soon.
    Expiring,
    /// The provider refused this access token.
    Refused(&'a str),
}

impl OAuth {
    /// `account`, with a fresh access token when an OAUTH2 one expires
    /// soon and can be refreshed.
    pub async fn fresh(
        &self,
        store: &Store,
        catalog: &Catalog,
        account: AccountRecord,
    ) -> Result<AccountRecord, OAuthError> {
        let expiring = account.auth_scheme == "OAUTH2"
            && Tokens::from_credentials(&account.credentials)
                .is_some_and(|t| t.expiring(now()) && t.refresh_token.is_some());
        if !expiring {
            return Ok(account);
        }
        self.refresh(store, catalog, account, Need::Expiring).await
    }

    /// After the provider refused `account`'s access token (HTTP 401): the
    /// account with a new token (refreshed here, or by a call that got
    /// there first), or `None` when it cannot be refreshed (not OAUTH2, or
    /// no refresh token), so the refusal stands.
    pub async fn after_refusal(
        &self,
        store: &Store,
        catalog: &Catalog,
        account: AccountRecord,
    ) -> Result<Option<AccountRecord>, OAuthError> {
        let Some(tokens) = Tokens::from_credentials(&account.credentials) else {
            return Ok(None);
        };
        if account.auth_scheme != "OAUTH2" || tokens.refresh_token.is_none() {
            return Ok(None);
        }
        let updated = self
            .refresh(store, catalog, account, Need::Refused(&tokens.access_token))
            .await?;
        let changed = Tokens::from_credentials(&updated.credentials)
            .is_some_and(|t| t.access_token != tokens.access_token);
        Ok(changed.then_some(updated))
    }

    async fn refresh(
        &self,
        store: &Store,
        catalog: &Catalog,
        account: AccountRecord,
        need: Need<'_>,
    ) -> Result<AccountRecord, OAuthError> {
        let lock = self.flight(&account.id);
        let _one_at_a_time = lock.lock().await;
        let current = {
            let (project, id) = (account.project_id.clone(), account.id.clone());
            store.run(move |store| store.account(&project, &id)).await?
        };
        let Some(mut current) = current else {
            return Err(OAuthError::Expired(format!(
                "connected account {} was deleted",
                account.id
            )));
        };
        if !current.is_usable() {
            return Err(OAuthError::Expired(unusable(&current)));
        }
        let Some(tokens) = Tokens::from_credentials(&current.credentials) else {
            return Ok(current);
        };
        let still_needed = match need {
            Need::Expiring => tokens.expiring(now()),
            Need::Refused(token) => tokens.access_token == token,
        };
        let Some(refresh_token) = tokens.refresh_token.clone().filter(|_| still_needed) else {
            return Ok(current);
        };
        let config = {
            let (project, id) = (current.project_id.clone(), current.auth_config_id.clone());
            store
                .run(move |store| store.auth_config(&project, &id))
                .await?
        };
        let toolkit = catalog.toolkit(&current.toolkit);
        let (Some(config), Some(toolkit)) = (config, toolkit) else {
            return Err(OAuthError::NotConfigured(format!(
                "connected account {}'s auth config or toolkit no longer exists",
                current.id
            )));
        };
        let app = self.app(&config, toolkit)?;
        let response = client(&app, None)?
            .exchange_refresh_token(&RefreshToken::new(refresh_token.clone()))
            .request_async(&self.http)
            .await
            .map_err(token_error);
        match response {
            Ok(response) => {
                let tokens = Tokens::from_response(&response, Some(refresh_token));
                current.credentials = tokens.to_credentials();
                current.updated_at = now();
                let saved = current.clone();
                store.run(move |store| store.update_account(&saved)).await?;
                tracing::info!(account = %current.id, toolkit = %current.toolkit, "refreshed an OAuth2 access token");
                Ok(current)
            }
            Err(OAuthError::Rejected { code, message })
                if matches!(code.as_str(), "invalid_grant" | "unauthorized_client") =>
            {
                current.status = "EXPIRED".into();
                current.status_reason = Some(format!(
                    "the provider refused to refresh the access token ({message})"
                ));
                current.updated_at = now();
                let saved = current.clone();
                store.run(move |store| store.update_account(&saved)).await?;
                tracing::warn!(account = %current.id, toolkit = %current.toolkit, %code, "an OAuth2 refresh token was refused; the account is EXPIRED");
                Err(OAuthError::Expired(unusable(&current)))
            }
            Err(err) => Err(err),
        }
    }

    /// Revokes `credentials`' tokens at the provider of `app` (RFC 7009),
    /// best effort: returns which were revoked (`refresh_token`,
    /// `access_token`). The request is made here rather than by the oauth2
    /// crate, which refuses revocation endpoints that are not https (local
    /// and test providers are plain http, like the token endpoints it does
    /// accept).
    pub async fn revoke(&self, app: &super::App, credentials: &Value) -> Vec<&'static str> {
        let Some(url) = app.revoke_url.as_deref() else {
            return Vec::new();
        };
        let Some(tokens) = Tokens::from_credentials(credentials) else {
            return Vec::new();
        };
        // The refresh token first: revoking it also ends its access tokens
        // at most providers.
        let mut wanted = Vec::new();
        if let Some(refresh) = tokens.refresh_token {
            wanted.push(("refresh_token", refresh));
        }
        wanted.push(("access_token", tokens.access_token));
        let mut revoked = Vec::new();
        for (kind, token) in wanted {
            let mut form = vec![("token", token.as_str()), ("token_type_hint", kind)];
            let mut request = self.http.post(url);
            match app.client_auth {
                ClientAuth::Basic => {
                    request = request.basic_auth(&app.client_id, Some(&app.client_secret));
                }
                ClientAuth::Post => {
                    form.push(("client_id", &app.client_id));
                    form.push(("client_secret", &app.client_secret));
                }
            }
            match request.form(&form).send().await {
                Ok(response) if response.status().is_success() => revoked.push(kind),
                Ok(response) => {
                    tracing::warn!(status = %response.status(), kind, "the provider refused to revoke an OAuth2 token");
                }
                Err(err) => {
                    tracing::warn!(error = %err.without_url(), kind, "revoking an OAuth2 token failed");
                }
            }
        }
        revoked
    }
}

/// What the agent is told about an account that cannot be used.
fn unusable(account: &AccountRecord) -> String {
    let reason = account
        .status_reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    format!(
        "the {} account {} is {}{reason}. The user must reconnect it: COMPOSIO_MANAGE_CONNECTIONS with toolkits [\"{}\"] and reinitiate_all true gives a new link (or session.authorize(\"{}\"))",
        account.toolkit,
        account.id,
        if account.enabled {
            account.status.as_str()
        } else {
            "disabled"
        },
        account.toolkit,
        account.toolkit
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(expires_at: Option<i64>, expires_in: Option<i64>) -> Tokens {
        Tokens {
            access_token: "a".into(),
            refresh_token: Some("r".into()),
            expires_at,
            expires_in,
            scope: None,
        }
    }

    #[test]
    fn tokens_refresh_within_the_margin() {
        assert!(!tokens(None, None).expiring(1000));
        assert!(!tokens(Some(1000 + 3600), Some(3600)).expiring(1000));
        assert!(tokens(Some(1000 + 60), Some(3600)).expiring(1000));
        assert!(tokens(Some(1000), Some(0)).expiring(1000));
        assert!(tokens(Some(900), None).expiring(1000));
        // A 30-second token is refreshed in its last 15 seconds, not always.
        assert!(!tokens(Some(1000 + 30), Some(30)).expiring(1000));
        assert!(tokens(Some(1000 + 15), Some(30)).expiring(1000));
    }

    #[test]
    fn credentials_round_trip_and_never_debug_print_secrets() {
        let t = tokens(Some(5), Some(10));
        assert_eq!(
            Tokens::from_credentials(&t.to_credentials()),
            Some(t.clone())
        );
        assert!(!format!("{t:?}").contains("\"a\""));
        let imported = json!({"access_token": "x"});
        assert_eq!(
            Tokens::from_credentials(&imported).map(|t| t.refresh_token),
            Some(None)
        );
        assert!(Tokens::from_credentials(&json!({"api_key": "k"})).is_none());
    }
}
