//! Proxy execute: an authenticated request to a toolkit's own API, for
//! endpoints no tool covers. The connected account's credential is
//! injected as for tools; the URL must stay under the toolkit's base URL.

use super::http::{Executor, Prepared, credential_value, finish};
use super::toolkit::Toolkit;
use serde_json::Value;
use std::collections::BTreeMap;

/// Headers a caller may not set (the transport's, and the credential's).
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
];

/// A request to proxy.
#[derive(Clone, Debug)]
pub struct ProxyRequest {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: reqwest::Method,
    /// A path under the toolkit's base URL, or an absolute URL under it.
    pub endpoint: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// A JSON body.
    pub body: Option<Value>,
}

/// What the upstream answered.
#[derive(Debug)]
pub struct ProxyResponse {
    /// Its HTTP status.
    pub status: u16,
    /// Its headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Its body: JSON, or `{"text": ...}`.
    pub data: Value,
}

/// Why a proxy request did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The request is not allowed (the message names the field).
    #[error("{0}")]
    Refused(String),
    /// The upstream could not be reached or answered unreadably.
    #[error("{0}")]
    Upstream(String),
}

/// The URL `endpoint` names, if it is under `base` (same origin, and the
/// base's path as a whole-segment prefix, after dot segments resolve).
pub fn url_under(base: &str, endpoint: &str) -> Result<reqwest::Url, ProxyError> {
    let base_url = reqwest::Url::parse(base)
        .map_err(|_| ProxyError::Refused(format!("the toolkit's base URL {base} is invalid")))?;
    let url = if endpoint.contains("://") {
        reqwest::Url::parse(endpoint)
    } else if endpoint.starts_with('/') {
        reqwest::Url::parse(&format!("{}{endpoint}", base.trim_end_matches('/')))
    } else {
        return Err(ProxyError::Refused(
            "endpoint: must be a path starting with / or an absolute URL".into(),
        ));
    }
    .map_err(|_| ProxyError::Refused("endpoint: not a valid URL".into()))?;
    let prefix = base_url.path().trim_end_matches('/');
    let path = url.path();
    let under = url.origin() == base_url.origin()
        && (path == prefix || path.starts_with(&format!("{prefix}/")) || prefix.is_empty());
    if !under || !url.username().is_empty() || url.password().is_some() {
        return Err(ProxyError::Refused(format!(
            "endpoint: {} is outside the toolkit's API ({base})",
            crate::error::clip(endpoint, 200)
        )));
    }
    Ok(url)
}

impl Executor {
    /// Sends `request` to `toolkit`'s API with `credentials` injected (no
    /// retries: the request may not be idempotent).
    pub async fn proxy(
        &self,
        toolkit: &Toolkit,
        request: ProxyRequest,
        credentials: Option<&Value>,
    ) -> Result<ProxyResponse, ProxyError> {
        if toolkit.mcp.is_some() {
            return Err(ProxyError::Refused(format!(
                "toolkit {} is served by an MCP server: call its tools instead (the proxy sends HTTP requests to a toolkit's REST API)",
                toolkit.slug
            )));
        }
        let mut url = url_under(&toolkit.base_url, &request.endpoint)?;
        let mut query = request.query;
        // Query parameters written into the endpoint are kept.
        query.splice(
            0..0,
            url.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect::<Vec<_>>(),
        );
        url.set_query(None);
        let inject = toolkit.auth.inject.as_ref();
        for (name, value) in &request.headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
                || reqwest::header::HeaderValue::from_str(value).is_err()
            {
                return Err(ProxyError::Refused(format!(
                    "parameters: {} is not a valid header (name: letters, digits and !#$%&'*+-.^_`|~; value: no control characters)",
                    crate::error::clip(name, 64)
                )));
            }
            let lower = name.to_ascii_lowercase();
            if RESERVED_HEADERS.contains(&lower.as_str())
                || inject
                    .is_some_and(|i| i.location != "query" && i.name.eq_ignore_ascii_case(name))
            {
                return Err(ProxyError::Refused(format!(
                    "parameters: the {name} header is set by toolshed"
                )));
            }
        }
        let mut headers = request.headers;
        if let Some(inject) = inject {
            let credentials = credentials.ok_or_else(|| {
                ProxyError::Refused(format!("no connected account for {}", toolkit.slug))
            })?;
            let value =
                credential_value(&inject.format, credentials).map_err(ProxyError::Refused)?;
            match inject.location.as_str() {
                "query" => {
                    query.retain(|(k, _)| k != &inject.name);
                    query.push((inject.name.clone(), value));
                }
                _ => headers.push((inject.name.clone(), value)),
            }
        }
        let prepared = Prepared {
            method: request.method,
            url: url.into(),
            query,
            headers,
            body: request.body,
            form: None,
            parts: Vec::new(),
        };
        let response = self.send(&prepared, None).await;
        let response_headers = match &response {
            Ok((_, headers, _)) => headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Err(message) => return Err(ProxyError::Upstream(message.clone())),
        };
        let execution = finish(response, None);
        let status = execution
            .status
            .ok_or_else(|| ProxyError::Upstream(execution.error.clone().unwrap_or_default()))?;
        Ok(ProxyResponse {
            status,
            headers: response_headers,
            data: execution.data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_stay_under_the_base() {
        let base = "http://up.example:8080/github";
        for ok in [
            "/user",
            "/user/repos?x=1",
            "http://up.example:8080/github/a",
            "/a/../b",
        ] {
            assert!(url_under(base, ok).is_ok(), "{ok}");
        }
        for bad in [
            "/../gmail/x",
            "/%2e%2e/gmail",
            "http://up.example:8080/githubx",
            "http://up.example:9090/github/a",
            "https://up.example:8080/github/a",
            "http://evil.example/github",
            "http://user:pw@up.example:8080/github/a",
            "user",
            "",
        ] {
            assert!(url_under(base, bad).is_err(), "{bad}");
        }
        assert!(url_under("https://api.example.com", "/anything").is_ok());
        // A path that looks like a host stays a path on the toolkit's host.
        let url = url_under(base, "//evil.example/github").unwrap();
        assert_eq!(url.host_str(), Some("up.example"));
        // Backslashes and encoded dots never climb out of the base path.
        for sneaky in ["/\\..\\gmail/x", "/%2E%2E/gmail", "/a/..%2f..%2fgmail"] {
            if let Ok(url) = url_under(base, sneaky) {
                assert!(url.path().starts_with("/github/"), "{sneaky} -> {url}");
            }
        }
    }
}
