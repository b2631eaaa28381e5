//! A document's `securitySchemes` as a toolkit's `[auth]`.
//!
//! A toolkit injects one credential in one place, so one scheme is chosen:
//! the first of the document's global `security` requirements that toolshed
//! can serve, else the first usable scheme in `components`. OAuth2's
//! authorization-code flow becomes the toolkit's OAUTH2 endpoints, with the
//! access token sent as a bearer token.

use crate::catalog::toolkit::{Auth, Inject, OAuth2};
use openapiv3::{APIKeyLocation, OpenAPI, ReferenceOr, SecurityScheme};

/// The toolkit's auth, and notes on schemes that were not used.
pub fn from_document(doc: &OpenAPI, base_url: &str) -> (Auth, Vec<String>) {
    let mut notes = Vec::new();
    let schemes: Vec<(&String, &SecurityScheme)> = doc
        .components
        .iter()
        .flat_map(|c| c.security_schemes.iter())
        .filter_map(|(name, scheme)| match scheme {
            ReferenceOr::Item(scheme) => Some((name, scheme)),
            ReferenceOr::Reference { .. } => {
                notes.push(format!(
                    "security scheme {name}: references are not followed"
                ));
                None
            }
        })
        .collect();
    let preferred: Vec<&String> = doc
        .security
        .iter()
        .flatten()
        .flat_map(|requirement| requirement.keys())
        .collect();
    let mut ordered: Vec<(&String, &SecurityScheme)> = preferred
        .iter()
        .filter_map(|name| schemes.iter().find(|(n, _)| n == name).copied())
        .collect();
    for scheme in &schemes {
        if !ordered.iter().any(|(n, _)| *n == scheme.0) {
            ordered.push(*scheme);
        }
    }
    let mut chosen: Option<Auth> = None;
    for (name, scheme) in ordered {
        match (convert(scheme, base_url), &mut chosen) {
            (Ok(auth), None) => chosen = Some(auth),
            // OAuth2 next to a bearer scheme: both send `Bearer {token}`.
            (Ok(extra), Some(auth))
                if extra.oauth2.is_some()
                    && auth.oauth2.is_none()
                    && auth.schemes == ["BEARER_TOKEN"] =>
            {
                auth.schemes.push("OAUTH2".into());
                auth.oauth2 = extra.oauth2;
            }
            (Ok(_), Some(_)) => notes.push(format!(
                "security scheme {name}: not used (a toolkit injects one credential; set [auth] to choose)"
            )),
            (Err(why), _) => notes.push(format!("security scheme {name}: {why}")),
        }
    }
    let auth = chosen.unwrap_or_else(|| Auth {
        schemes: vec!["NO_AUTH".into()],
        inject: None,
        oauth2: None,
    });
    (auth, notes)
}

/// `url` as an absolute http(s) URL: as it is, or (as OpenAPI allows)
/// relative to the API's base URL.
fn absolute(url: &str, base_url: &str) -> Result<String, String> {
    let joined = reqwest::Url::parse(url).or_else(|_| {
        reqwest::Url::parse(&format!("{}/", base_url.trim_end_matches('/')))
            .and_then(|base| base.join(url.trim_start_matches('/')))
    });
    match joined {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(u.to_string()),
        _ => Err(format!(
            "{url} is not an http(s) URL, even against {base_url}"
        )),
    }
}

fn convert(scheme: &SecurityScheme, base_url: &str) -> Result<Auth, String> {
    let bearer = || Inject {
        location: "header".into(),
        name: "Authorization".into(),
        format: "Bearer {token}".into(),
    };
    match scheme {
        SecurityScheme::APIKey { location, name, .. } => {
            let inject = match location {
                APIKeyLocation::Header => Inject {
                    location: "header".into(),
                    name: name.clone(),
                    format: "{api_key}".into(),
                },
                APIKeyLocation::Query => Inject {
                    location: "query".into(),
                    name: name.clone(),
                    format: "{api_key}".into(),
                },
                APIKeyLocation::Cookie => Inject {
                    location: "header".into(),
                    name: "Cookie".into(),
                    format: format!("{name}={{api_key}}"),
                },
            };
            Ok(Auth {
                schemes: vec!["API_KEY".into()],
                inject: Some(inject),
                oauth2: None,
            })
        }
        SecurityScheme::HTTP { scheme, .. } => match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Ok(Auth {
                schemes: vec!["BEARER_TOKEN".into()],
                inject: Some(bearer()),
                oauth2: None,
            }),
            "basic" => Ok(Auth {
                schemes: vec!["BASIC".into()],
                inject: Some(Inject {
                    location: "header".into(),
                    name: "Authorization".into(),
                    format: "Basic {basic}".into(),
                }),
                oauth2: None,
            }),
            other => Err(format!("HTTP scheme {other} is not supported")),
        },
        SecurityScheme::OAuth2 { flows, .. } => {
            let Some(flow) = &flows.authorization_code else {
                return Err("only the OAuth2 authorization-code flow is supported".into());
            };
            Ok(Auth {
                schemes: vec!["OAUTH2".into()],
                inject: Some(bearer()),
                oauth2: Some(OAuth2 {
                    authorize_url: absolute(&flow.authorization_url, base_url)?,
                    token_url: absolute(&flow.token_url, base_url)?,
                    revoke_url: None,
                    scopes: Vec::new(),
                    pkce: true,
                    client_auth: Default::default(),
                    authorize_params: Default::default(),
                }),
            })
        }
        SecurityScheme::OpenIDConnect { .. } => {
            Err("OpenID Connect discovery is not supported; set [auth] in the overlay".into())
        }
    }
}
