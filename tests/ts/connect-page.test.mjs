// The hosted connect page in a real browser: Debian's headless Chromium
// driven by playwright-core. A link from `session.authorize` (POST
// .../link) is opened, the API-key form is filled by its label and
// submitted with its button, the browser lands on the callback URL with
// status=success, and the account is ACTIVE. No JavaScript runs on the page.
// The OAuth2 flow goes through the upstream fixture's consent page: its
// Allow button, the provider's redirect to toolshed's callback, and on to
// the app.
//
// TOOLSHED_BIN names the binary; CHROMIUM the browser (default
// /usr/bin/chromium; scripts/test.sh installs Debian's package).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { startServer } from "./server.mjs";

const KEY = "ts_browser_suite_key";
let server;
let base;
let browser;

before(async () => {
  server = await startServer(KEY, { oauth: true });
  base = server.base;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // This machine's network is closed: no background connections.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function api(method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  assert.equal(response.status, 200, JSON.stringify(json));
  return json;
}

test("the API-key form completes the account and returns to the callback", async () => {
  const session = await api("POST", "/api/v3.1/tool_router/session", { user_id: "browser-user", toolkits: ["linear"] });
  const callback = "https://app.example/connected?from=test";
  const link = await api("POST", `/api/v3.1/tool_router/session/${session.session_id}/link`, {
    toolkit: "linear", callback_url: callback,
  });

  const page = await browser.newPage({ javaScriptEnabled: false });
  // The callback host is not reachable from here; answer it locally and
  // record where the browser went.
  let landed;
  await page.route("https://app.example/**", (route) => {
    landed = route.request().url();
    return route.fulfill({ status: 200, contentType: "text/html", body: "<p>back in the app</p>" });
  });
  await page.goto(link.redirect_url);
  assert.equal(await page.title(), "Connect Linear · toolshed");
  await page.getByLabel("API key").fill("browser-linear-key");
  await page.getByRole("button", { name: "Connect Linear" }).click();
  await page.waitForURL("https://app.example/**");

  const url = new URL(landed);
  assert.equal(url.searchParams.get("from"), "test");
  assert.equal(url.searchParams.get("status"), "success");
  assert.equal(url.searchParams.get("connected_account_id"), link.connected_account_id);
  const account = await api("GET", `/api/v3.1/connected_accounts/${link.connected_account_id}`);
  assert.equal(account.status, "ACTIVE");

  // The link works once: opening it again says so.
  const again = await page.goto(link.redirect_url);
  assert.equal(again.status(), 410);
  assert.match(await page.textContent("h1"), /already used/);
  await page.close();
});

test("a blank form is refused with an alert the screen reader announces", async () => {
  const session = await api("POST", "/api/v3.1/tool_router/session", { user_id: "browser-user-2", toolkits: ["slack"] });
  const link = await api("POST", `/api/v3.1/tool_router/session/${session.session_id}/link`, { toolkit: "slack" });
  const page = await browser.newPage({ javaScriptEnabled: false });
  await page.goto(link.redirect_url);
  // A blank value passes the browser's `required` check; the server's refuses it.
  await page.getByLabel("Token").fill("   ");
  await page.getByRole("button", { name: "Connect Slack" }).click();
  await page.waitForSelector("[role=alert]");
  assert.match(await page.textContent("[role=alert]"), /Token is required/);
  const account = await api("GET", `/api/v3.1/connected_accounts/${link.connected_account_id}`);
  assert.equal(account.status, "INITIATED");
  await page.getByLabel("Token").fill("xoxb-browser");
  await page.getByRole("button", { name: "Connect Slack" }).click();
  await page.waitForSelector("h1");
  assert.match(await page.textContent("h1"), /Slack connected/);
  await page.close();
});

test("the OAuth2 consent screen's Allow button connects the account", async () => {
  const session = await api("POST", "/api/v3.1/tool_router/session", { user_id: "browser-user-3", toolkits: ["gmail"] });
  const link = await api("POST", `/api/v3.1/tool_router/session/${session.session_id}/link`, {
    toolkit: "gmail", callback_url: "https://app.example/oauth-done",
  });
  const page = await browser.newPage({ javaScriptEnabled: false });
  let landed;
  await page.route("https://app.example/**", (route) => {
    landed = route.request().url();
    return route.fulfill({ status: 200, contentType: "text/html", body: "<p>back in the app</p>" });
  });
  // The link leads to the provider's consent page.
  await page.goto(link.redirect_url);
  assert.ok(page.url().startsWith(`http://${server.upstream}/_oauth/authorize?`), page.url());
  assert.ok(new URL(page.url()).searchParams.get("code_challenge"));
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL("https://app.example/**");

  const url = new URL(landed);
  assert.equal(url.searchParams.get("status"), "success");
  assert.equal(url.searchParams.get("connected_account_id"), link.connected_account_id);
  const account = await api("GET", `/api/v3.1/connected_accounts/${link.connected_account_id}`);
  assert.equal(account.status, "ACTIVE");
  assert.equal(account.auth_config.auth_scheme, "OAUTH2");
  // The tokens work against the provider's API.
  const result = await api("POST", `/api/v3.1/tool_router/session/${session.session_id}/execute`, {
    tool_slug: "GMAIL_LIST_MESSAGES", arguments: { user_id: "me", maxResults: 1 },
  });
  assert.equal(result.error, null, JSON.stringify(result));
  await page.close();
});
