//! The operator's OAuth apps: `[oauth_apps.<toolkit>]` in the `--config`
//! file. Composio brings managed OAuth apps for every toolkit; a self-hosted
//! toolshed has none, so the operator registers their own. With a client id
//! and secret the app backs that toolkit's managed OAUTH2 auth configs; the
//! endpoint fields (all optional) override the toolkit file's, e.g. for a
//! provider's regional or test endpoints.

use crate::catalog::Catalog;
use crate::catalog::toolkit::is_http_url;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One `[oauth_apps.<toolkit>]` table.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorApp {
    /// The app's client id.
    pub client_id: Option<String>,
    /// The app's client secret.
    pub client_secret: Option<String>,
    /// Overrides the toolkit's authorize endpoint.
    pub authorize_url: Option<String>,
    /// Overrides the toolkit's token endpoint.
    pub token_url: Option<String>,
    /// Overrides the toolkit's revocation endpoint.
    pub revoke_url: Option<String>,
    /// Overrides the toolkit's default scopes.
    pub scopes: Option<Vec<String>>,
}

impl std::fmt::Debug for OperatorApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorApp")
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

impl OperatorApp {
    /// The client id and secret, when both are set.
    pub fn client(&self) -> Option<(&str, &str)> {
        match (self.client_id.as_deref(), self.client_secret.as_deref()) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
            _ => None,
        }
    }

    /// Whether it has a client id and secret.
    pub fn has_client(&self) -> bool {
        self.client().is_some()
    }
}

/// Checks the apps against the loaded toolkits: each names a toolkit that
/// takes OAUTH2, gives both or neither of client id and secret, and only
/// http(s) URLs. The error is one line naming the table and field.
pub fn check(apps: &BTreeMap<String, OperatorApp>, catalog: &Catalog) -> Result<(), String> {
    for (slug, app) in apps {
        let at = |field: &str| format!("oauth_apps.{slug}.{field}");
        let Some(toolkit) = catalog.toolkit(slug) else {
            return Err(format!("oauth_apps.{slug}: no toolkit {slug} is loaded"));
        };
        if toolkit.slug != *slug {
            return Err(format!(
                "oauth_apps.{slug}: write the toolkit slug as {}",
                toolkit.slug
            ));
        }
        if !toolkit.auth.schemes.iter().any(|s| s == "OAUTH2") {
            return Err(format!(
                "oauth_apps.{slug}: toolkit {slug} does not take OAUTH2 (it takes {})",
                toolkit.auth.schemes.join(", ")
            ));
        }
        let id = app.client_id.as_deref().is_some_and(|v| !v.is_empty());
        let secret = app.client_secret.as_deref().is_some_and(|v| !v.is_empty());
        if id != secret {
            return Err(format!(
                "oauth_apps.{slug}: give both client_id and client_secret, or neither"
            ));
        }
        for (field, url) in [
            ("authorize_url", &app.authorize_url),
            ("token_url", &app.token_url),
            ("revoke_url", &app.revoke_url),
        ] {
            if url.as_deref().is_some_and(|u| !is_http_url(u)) {
                return Err(format!("{}: must be an absolute http(s) URL", at(field)));
            }
        }
        let file = toolkit.auth.oauth2.as_ref();
        if app.authorize_url.is_none() && file.is_none() {
            return Err(format!(
                "{}: toolkit {slug} declares no OAuth2 endpoints, so give authorize_url and token_url",
                at("authorize_url")
            ));
        }
        if app.token_url.is_none() && file.is_none() {
            return Err(format!(
                "{}: toolkit {slug} declares no OAuth2 endpoints, so give authorize_url and token_url",
                at("token_url")
            ));
        }
    }
    Ok(())
}
