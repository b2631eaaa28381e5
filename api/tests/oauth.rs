//! OAuth2 connections end to end: the real `toolshed serve` binary, the
//! upstream fixture's OAuth2 provider (consent page, token endpoint with
//! PKCE, refresh, revocation) and its gmail API, which accepts only tokens
//! the provider issued and still honours.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;

/// Registers a client of the fixture's provider (each test its own, so the
/// provider's per-client counters are the test's alone).
async fn register_client(up: &Upstream, id: &str, secret: &str) {
    let resp = reqwest::Client::new()
        .post(format!("http://{}/_control/oauth/clients", up.addr))
        .json(&json!({"client_id": id, "client_secret": secret}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

/// The provider's counters for `client`.
async fn provider_stats(up: &Upstream, client: &str) -> Value {
    reqwest::get(format!(
        "http://{}/_control/oauth/clients/{client}",
        up.addr
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

async fn provider_control(up: &Upstream, method: &str, path: &str, body: Value) {
    let resp = reqwest::Client::new()
        .request(
            method.parse().unwrap(),
            format!("http://{}/_control/oauth/{path}", up.addr),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

/// A `--config` file registering `[oauth_apps]` at the fixture's provider:
/// gmail with an operator app (`client`), googlecalendar with endpoints only.
fn config_file(dir: &Path, up: &Upstream, client: &str, secret: &str) -> String {
    let provider = format!("http://{}/_oauth", up.addr);
    let path = dir.join("toolshed.toml");
    std::fs::write(
        &path,
        format!(
            "[oauth_apps.gmail]\nclient_id = \"{client}\"\nclient_secret = \"{secret}\"\n\
             authorize_url = \"{provider}/authorize\"\ntoken_url = \"{provider}/token\"\nrevoke_url = \"{provider}/revoke\"\n\n\
             [oauth_apps.googlecalendar]\nauthorize_url = \"{provider}/authorize\"\ntoken_url = \"{provider}/token\"\n"
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// Follows a connect link through the provider: toolshed's redirect to the
/// consent page, the page itself, the user's `decision`, and the provider's
/// redirect back to toolshed's callback. Returns the callback's status and
/// where it sends the browser.
async fn through_consent(link: &str, decision: &str) -> (u16, String, Option<String>) {
    let client = no_redirects();
    let to_provider = client.get(link).send().await.unwrap();
    assert_eq!(
        to_provider.status(),
        303,
        "the link redirects to the provider"
    );
    let authorize = to_provider.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let url = reqwest::Url::parse(&authorize).unwrap();
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let consent = client.get(&authorize).send().await.unwrap();
    assert_eq!(consent.status(), 200);
    let html = consent.text().await.unwrap();
    assert!(html.contains("value=\"allow\""), "{html}");
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params {
        form.append_pair(k, v);
    }
    form.append_pair("decision", decision);
    let mut consent_form = url.clone();
    consent_form.set_query(None);
    let back = client
        .post(consent_form)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.finish())
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 302);
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    let done = client.get(&callback).send().await.unwrap();
    let status = done.status().as_u16();
    let location = done
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (status, callback, location)
}

async fn account(server: &Server, id: &str) -> Value {
    server
        .ok("GET", &format!("/api/v3.1/connected_accounts/{id}"), None)
        .await
}

fn list_messages() -> Value {
    json!({"user_id": "me", "maxResults": 2})
}

#[tokio::test]
async fn oauth2_connects_refreshes_once_under_load_and_expires_when_revoked() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let client = format!("tsc-{}", uuid::Uuid::new_v4().simple());
    register_client(&up, &client, "operator-secret").await;
    let config = config_file(dir.path(), &up, &client, "operator-secret");
    let server = start_server_with_args(dir.path(), &up, &[], &["--config", &config]);
    let session = server
        .session(json!({"user_id": "olga", "toolkits": ["gmail"]}))
        .await;

    // The operator's app backs gmail's managed config: authorize makes a
    // link that leads to the provider with state, PKCE and the scopes.
    // Tokens are issued expired (ttl 0), so the first call must refresh.
    provider_control(
        &up,
        "PATCH",
        &format!("clients/{client}"),
        json!({"token_ttl": 0}),
    )
    .await;
    let link = server
        .ok(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/link"),
            Some(json!({"toolkit": "gmail", "callback_url": "https://app.example/done"})),
        )
        .await;
    let id = link["connected_account_id"].as_str().unwrap().to_owned();
    let redirect = link["redirect_url"].as_str().unwrap().to_owned();
    let to_provider = no_redirects().get(&redirect).send().await.unwrap();
    let authorize = to_provider.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    for part in [
        format!("client_id={client}"),
        "code_challenge_method=S256".into(),
        "access_type=offline".into(),
        "gmail.modify".into(),
        format!(
            "redirect_uri={}",
            url::form_urlencoded::byte_serialize(
                format!("{}/oauth/callback", server.base).as_bytes()
            )
            .collect::<String>()
        ),
    ] {
        assert!(authorize.contains(&part), "{part} in {authorize}");
    }
    assert!(!authorize.contains("operator-secret"));

    let (status, callback, location) = through_consent(&redirect, "allow").await;
    assert_eq!(status, 303);
    assert_eq!(
        location.unwrap(),
        format!("https://app.example/done?status=success&connected_account_id={id}")
    );
    let got = account(&server, &id).await;
    assert_eq!(got["status"], "ACTIVE", "{got}");
    assert_eq!(got["auth_config"]["auth_scheme"], "OAUTH2");

    // The callback works once; a replay or a forged state changes nothing.
    let replay = no_redirects().get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), 410);
    let forged = no_redirects()
        .get(format!(
            "{}/oauth/callback?state=forged&code=x",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains("not recognised"));
    let missing = no_redirects()
        .get(format!("{}/oauth/callback", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(account(&server, &id).await["status"], "ACTIVE");

    // 50 concurrent calls with the expired token: one refresh reaches the
    // provider, every call succeeds.
    provider_control(
        &up,
        "PATCH",
        &format!("clients/{client}"),
        json!({"token_ttl": 3600}),
    )
    .await;
    let calls = (0..50).map(|_| server.execute(&session, "GMAIL_LIST_MESSAGES", list_messages()));
    for result in futures::future::join_all(calls).await {
        assert!(result["error"].is_null(), "{result}");
    }
    let stats = provider_stats(&up, &client).await;
    assert_eq!(stats["token_requests"]["authorization_code"], 1, "{stats}");
    assert_eq!(stats["token_requests"]["refresh_token"], 1, "{stats}");

    // The provider stops honouring the access token (401): again one
    // refresh for 50 calls, and the calls are made again and succeed.
    provider_control(
        &up,
        "POST",
        &format!("clients/{client}/invalidate"),
        json!({"tokens": "access"}),
    )
    .await;
    let calls = (0..50).map(|_| server.execute(&session, "GMAIL_LIST_MESSAGES", list_messages()));
    for result in futures::future::join_all(calls).await {
        assert!(result["error"].is_null(), "{result}");
    }
    assert_eq!(
        provider_stats(&up, &client).await["token_requests"]["refresh_token"],
        2
    );
    // Proxy execute refreshes the same way.
    provider_control(
        &up,
        "POST",
        &format!("clients/{client}/invalidate"),
        json!({"tokens": "access"}),
    )
    .await;
    let proxied = server
        .ok(
            "POST",
            &format!("/api/v3.1/tool_router/session/{session}/proxy_execute"),
            Some(json!({"toolkit_slug": "gmail", "endpoint": "/gmail/v1/users/me/labels", "method": "GET"})),
        )
        .await;
    assert_eq!(proxied["status"], 200, "{proxied}");

    // The tokens never show: not in the account, the list, or the database.
    let log: Value = reqwest::get(format!("http://{}/_control/requests?limit=5", up.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = log
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find_map(|r| r["headers"]["authorization"].as_str())
        .unwrap()
        .trim_start_matches("Bearer ")
        .to_owned();
    assert!(bearer.starts_with("ya29."), "{bearer}");
    let listed = server
        .ok("GET", "/api/v3.1/connected_accounts?user_ids=olga", None)
        .await;
    for text in [account(&server, &id).await.to_string(), listed.to_string()] {
        assert!(!text.contains(&bearer) && !text.contains("1//"), "{text}");
    }
    let mut db = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            db.extend(std::fs::read(path).unwrap());
        }
    }
    assert!(
        !db.windows(bearer.len()).any(|w| w == bearer.as_bytes()),
        "the access token is stored in the clear"
    );

    // The user removes the app's access: the refresh is refused, the
    // account turns EXPIRED with the reason and the agent is told to
    // reconnect; later calls do not ask the provider again.
    provider_control(
        &up,
        "POST",
        &format!("clients/{client}/invalidate"),
        json!({"tokens": "all"}),
    )
    .await;
    let failed = server
        .execute(&session, "GMAIL_LIST_MESSAGES", list_messages())
        .await;
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains("EXPIRED") && error.contains("reconnect"),
        "{error}"
    );
    let got = account(&server, &id).await;
    assert_eq!(got["status"], "EXPIRED");
    assert!(
        got["status_reason"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{got}"
    );
    let again = server
        .execute(&session, "GMAIL_LIST_MESSAGES", list_messages())
        .await;
    assert!(
        again["error"].as_str().unwrap().contains("EXPIRED"),
        "{again}"
    );
    assert_eq!(
        provider_stats(&up, &client).await["token_requests"]["refresh_token"],
        4
    );

    // refresh (the SDK's reconnect) gives the same account a new link; the
    // user allows again and it is ACTIVE and working.
    let refreshed = server
        .ok(
            "POST",
            &format!(
                "/api/v3.1/connected_accounts/{id}/refresh?redirect_url=https://app.example/again"
            ),
            Some(json!({})),
        )
        .await;
    assert_eq!(refreshed["id"], id.as_str());
    assert_eq!(refreshed["status"], "INITIATED");
    let (status, _, location) =
        through_consent(refreshed["redirect_url"].as_str().unwrap(), "allow").await;
    assert_eq!(status, 303);
    assert!(
        location
            .unwrap()
            .starts_with("https://app.example/again?status=success")
    );
    let ok = server
        .execute(&session, "GMAIL_LIST_MESSAGES", list_messages())
        .await;
    assert!(ok["error"].is_null(), "{ok}");

    // Revoking ends the tokens at the provider; deleting a connected
    // account revokes too.
    let revoked = server
        .ok(
            "POST",
            &format!("/api/v3.1/connected_accounts/{id}/revoke"),
            None,
        )
        .await;
    assert_eq!(revoked["connected_account"]["status"], "REVOKED");
    assert_eq!(
        revoked["revoked_tokens"],
        json!(["refresh_token", "access_token"])
    );
    let twice = server
        .ok(
            "POST",
            &format!("/api/v3.1/connected_accounts/{id}/revoke"),
            None,
        )
        .await;
    assert_eq!(twice["revoked_tokens"], json!([]));
    let after = server
        .execute(&session, "GMAIL_LIST_MESSAGES", list_messages())
        .await;
    assert!(
        after["error"].as_str().unwrap().contains("REVOKED"),
        "{after}"
    );
    assert!(
        provider_stats(&up, &client).await["revocations"]
            .as_u64()
            .unwrap()
            >= 2
    );
}

#[tokio::test]
async fn denied_consent_bad_secrets_and_missing_apps_fail_clearly() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let client = format!("tsc-{}", uuid::Uuid::new_v4().simple());
    register_client(&up, &client, "right-secret").await;
    let config = config_file(dir.path(), &up, &client, "right-secret");
    let server = start_server_with_args(dir.path(), &up, &[], &["--config", &config]);

    // The user says no: FAILED with the reason, and the app hears it.
    let gmail = server
        .ok(
            "POST",
            "/api/v3.1/auth_configs",
            Some(json!({"toolkit": {"slug": "gmail"}})),
        )
        .await;
    assert_eq!(gmail["auth_config"]["auth_scheme"], "OAUTH2");
    let gmail = gmail["auth_config"]["id"].as_str().unwrap().to_owned();
    let link = server
        .ok(
            "POST",
            "/api/v3.1/connected_accounts/link",
            Some(json!({"auth_config_id": gmail, "user_id": "dee", "callback_url": "https://app.example/cb"})),
        )
        .await;
    let id = link["connected_account_id"].as_str().unwrap().to_owned();
    let (status, _, location) =
        through_consent(link["redirect_url"].as_str().unwrap(), "deny").await;
    assert_eq!(status, 303);
    assert_eq!(
        location.unwrap(),
        format!(
            "https://app.example/cb?status=failed&error=access_denied&connected_account_id={id}"
        )
    );
    let got = account(&server, &id).await;
    assert_eq!(got["status"], "FAILED");
    assert!(
        got["status_reason"]
            .as_str()
            .unwrap()
            .contains("did not allow"),
        "{got}"
    );
    // A FAILED account holds no tokens to revoke: 409.
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v3.1/connected_accounts/{id}/revoke"),
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    // Reconnecting takes only absolute http(s) callback URLs, in the body or
    // the query; a body that is not an object is refused too.
    for (path, body) in [
        (
            format!("/api/v3.1/connected_accounts/{id}/refresh"),
            Some(json!({"redirect_url": "javascript:alert(1)"})),
        ),
        (
            format!("/api/v3.1/connected_accounts/{id}/refresh?redirect_url=%2F%2Fevil.example"),
            None,
        ),
        (
            format!("/api/v3.1/connected_accounts/{id}/refresh"),
            Some(json!(["x"])),
        ),
    ] {
        let (status, err) = server.call("POST", &path, body, Some(KEY)).await;
        assert_eq!(status, 400, "{path}: {err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("redirect_url"),
            "{err}"
        );
    }
    assert_eq!(
        account(&server, &id).await["status"],
        "FAILED",
        "a refused refresh changes nothing"
    );

    // Googlecalendar has endpoints but no operator app: a managed config is
    // refused with what to do, a project's own app works, and a wrong
    // client secret fails the exchange with the provider's reason.
    let (status, body) = server
        .call(
            "POST",
            "/api/v3.1/auth_configs",
            Some(json!({"toolkit": {"slug": "googlecalendar"}, "auth_config": {"type": "use_composio_managed_auth", "authScheme": "OAUTH2"}})),
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("[oauth_apps.googlecalendar]") && message.contains("use_custom_auth"),
        "{message}"
    );
    let own = server
        .ok(
            "POST",
            "/api/v3.1/auth_configs",
            Some(json!({"toolkit": {"slug": "googlecalendar"}, "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2", "credentials": {"client_id": client, "client_secret": "wrong-secret", "scopes": "calendar.readonly"}}})),
        )
        .await["auth_config"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = server
        .ok(
            "POST",
            "/api/v3.1/connected_accounts/link",
            Some(json!({"auth_config_id": own, "user_id": "dee"})),
        )
        .await;
    let id = link["connected_account_id"].as_str().unwrap().to_owned();
    let (status, _, _) = through_consent(link["redirect_url"].as_str().unwrap(), "allow").await;
    assert_eq!(status, 400, "no callback_url: a page says it failed");
    let got = account(&server, &id).await;
    assert_eq!(got["status"], "FAILED");
    let reason = got["status_reason"].as_str().unwrap();
    assert!(
        reason.contains("invalid_client") && !reason.contains("wrong-secret"),
        "{reason}"
    );

    // With the right secret the same config connects.
    server
        .ok(
            "PATCH",
            &format!("/api/v3.1/auth_configs/{own}"),
            Some(json!({"credentials": {"client_secret": "right-secret"}})),
        )
        .await;
    let link = server
        .ok(
            "POST",
            "/api/v3.1/connected_accounts/link",
            Some(json!({"auth_config_id": own, "user_id": "dee"})),
        )
        .await;
    let (status, _, _) = through_consent(link["redirect_url"].as_str().unwrap(), "allow").await;
    assert_eq!(status, 200);
    let id = link["connected_account_id"].as_str().unwrap();
    assert_eq!(account(&server, id).await["status"], "ACTIVE");
    let session = server
        .session(json!({"user_id": "dee", "toolkits": ["googlecalendar"]}))
        .await;
    let listed = server
        .execute(&session, "GOOGLECALENDAR_LIST_CALENDARS", json!({}))
        .await;
    assert!(listed["error"].is_null(), "{listed}");

    // An API-key account cannot be revoked at a provider.
    let linear = server
        .connect("dee", "linear", "API_KEY", json!({"api_key": "k"}))
        .await;
    let (status, body) = server
        .call(
            "POST",
            &format!("/api/v3.1/connected_accounts/{linear}/revoke"),
            None,
            Some(KEY),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn a_bad_oauth_apps_table_stops_the_server_with_the_field() {
    let dir = tempfile::tempdir().unwrap();
    for (text, expected) in [
        (
            "[oauth_apps.nosuch]\nclient_id = \"a\"\nclient_secret = \"b\"\n",
            "no toolkit nosuch",
        ),
        (
            "[oauth_apps.github]\nclient_id = \"a\"\nclient_secret = \"b\"\n",
            "does not take OAUTH2",
        ),
        (
            "[oauth_apps.gmail]\nclient_id = \"a\"\n",
            "both client_id and client_secret",
        ),
        (
            "[oauth_apps.gmail]\ntoken_url = \"ftp://x\"\n",
            "oauth_apps.gmail.token_url",
        ),
        (
            "[oauth_apps.gmail]\nclient_sekret = \"b\"\n",
            "unknown field",
        ),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_toolshed"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--toolkits")
            .arg(workspace().join("fixtures/toolkits"))
            .arg("--config")
            .arg(&path)
            .env("TOOLSHED_API_KEY", KEY)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{text}: {stderr}");
    }
}
