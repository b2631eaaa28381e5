//! The authorization-code flow (RFC 6749 section 4.1, PKCE per RFC 7636):
//! the connect page sends the browser to the provider with a `state` and a
//! code challenge; the provider sends it back to `/oauth/callback` with a
//! code, which is exchanged for tokens.
//!
//! Neither the `state` nor the PKCE verifier is stored: the state is a keyed
//! digest of the link's token and the verifier a keyed digest of the state
//! (both under the data directory's pepper), so only the state's own digest
//! is kept, to find the link when the provider comes back. A state nobody
//! issued finds no link.

use super::tokens::Tokens;
use super::{App, OAuth, OAuthError};
use crate::catalog::toolkit::ClientAuth;
use crate::store::Store;
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenUrl,
};

/// A client with its authorize and token endpoints.
pub(super) type Client =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// What a token request fails with.
pub(super) type TokenError =
    oauth2::RequestTokenError<oauth2::HttpClientError<reqwest::Error>, BasicErrorResponse>;

/// The `state` parameter of the flow a link starts.
pub fn state_for(store: &Store, link_token: &str) -> String {
    store.keyed_digest("oauth-state", link_token)
}

/// The PKCE verifier of the flow with `state` (64 hex digits: within the
/// 43-128 unreserved characters RFC 7636 asks for).
pub fn verifier_for(store: &Store, state: &str) -> String {
    store.keyed_digest("oauth-pkce", state)
}

/// The oauth2 client for `app`, redirecting to `redirect_uri` when given.
pub(super) fn client(app: &App, redirect_uri: Option<&str>) -> Result<Client, OAuthError> {
    let bad = |what: &str| OAuthError::NotConfigured(format!("the {what} is not a valid URL"));
    let mut client = BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(app.client_secret.clone()))
        .set_auth_uri(
            AuthUrl::new(app.authorize_url.clone()).map_err(|_| bad("authorize endpoint"))?,
        )
        .set_token_uri(TokenUrl::new(app.token_url.clone()).map_err(|_| bad("token endpoint"))?)
        .set_auth_type(match app.client_auth {
            ClientAuth::Basic => AuthType::BasicAuth,
            ClientAuth::Post => AuthType::RequestBody,
        });
    if let Some(uri) = redirect_uri {
        client = client
            .set_redirect_uri(RedirectUrl::new(uri.to_owned()).map_err(|_| bad("callback URL"))?);
    }
    Ok(client)
}

/// Where to send the browser: `app`'s authorize endpoint with the client,
/// scopes, `state`, the PKCE challenge of `verifier` and the extra
/// parameters the toolkit asks for.
pub fn authorize_url(
    app: &App,
    redirect_uri: &str,
    state: &str,
    verifier: &str,
) -> Result<String, OAuthError> {
    let client = client(app, Some(redirect_uri))?;
    let state = state.to_owned();
    let mut request = client
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(app.scopes.iter().cloned().map(Scope::new));
    if app.pkce {
        request = request.set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(
            &PkceCodeVerifier::new(verifier.to_owned()),
        ));
    }
    for (name, value) in &app.authorize_params {
        request = request.add_extra_param(name.clone(), value.clone());
    }
    Ok(request.url().0.into())
}

impl OAuth {
    /// Exchanges the provider's `code` for tokens.
    pub async fn exchange_code(
        &self,
        app: &App,
        redirect_uri: &str,
        code: &str,
        verifier: &str,
    ) -> Result<Tokens, OAuthError> {
        let client = client(app, Some(redirect_uri))?;
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_owned()));
        if app.pkce {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
        }
        let response: BasicTokenResponse = request
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(Tokens::from_response(&response, None))
    }
}

/// A token request's failure in words: the provider's OAuth error (code and
/// description, clipped) or what went wrong reaching it. The client secret
/// is never part of either.
pub(super) fn token_error(err: TokenError) -> OAuthError {
    match err {
        oauth2::RequestTokenError::ServerResponse(response) => {
            let code = response.error().to_string();
            let message = match response.error_description() {
                Some(description) => {
                    format!("{code}: {}", crate::error::clip(description, 200))
                }
                None => code.clone(),
            };
            OAuthError::Rejected { code, message }
        }
        oauth2::RequestTokenError::Request(err) => {
            OAuthError::Unreachable(crate::error::clip(&error_chain(&err), 300))
        }
        oauth2::RequestTokenError::Parse(_, body) => OAuthError::Unreachable(format!(
            "the token endpoint answered something that is not an OAuth2 token response ({} bytes)",
            body.len()
        )),
        oauth2::RequestTokenError::Other(message) => {
            OAuthError::Unreachable(crate::error::clip(&message, 300))
        }
    }
}

/// An error and its sources on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
