// The TypeScript Composio SDK (@composio/core 0.21.0) against a real
// `toolshed serve` and the upstream fixture: auth configs, an account from
// an API-key config, session.authorize + the hosted form (submitted over
// HTTP) + waitForConnection, toolkits() with connection info, execute with
// an account, proxyExecute.
//
// TOOLSHED_BIN names the binary (scripts/test.sh sets it).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Composio, AuthScheme } from "@composio/core";
import { startServer } from "./server.mjs";

const KEY = "ts_sdk_suite_key";
let server;
let composio;

before(async () => {
  server = await startServer(KEY, { withUpstream: true });
  composio = new Composio({ apiKey: KEY, baseURL: server.base, allowTracking: false, disableVersionCheck: true });
});

after(() => server?.stop());

test("auth configs and an account from an API-key config", async () => {
  const made = await composio.authConfigs.create("linear", { type: "use_custom_auth", authScheme: "API_KEY", name: "ts config", credentials: {} });
  assert.match(made.id, /^ac_/);
  assert.equal(made.authScheme, "API_KEY");
  const listed = await composio.authConfigs.list({ toolkit: "linear" });
  assert.deepEqual(listed.items.map((c) => c.id), [made.id]);
  const request = await composio.connectedAccounts.initiate("ts-kim", made.id, {
    config: AuthScheme.APIKey({ api_key: "ts-linear-key" }),
  });
  assert.equal(request.status, "ACTIVE");
  const account = await composio.connectedAccounts.get(request.id);
  assert.equal(account.status, "ACTIVE");
  assert.equal(account.authConfig.id, made.id);
  // The SDK's own guard: a second ACTIVE account needs allowMultiple.
  await assert.rejects(composio.connectedAccounts.initiate("ts-kim", made.id, { config: AuthScheme.APIKey({ api_key: "k2" }) }));

  const session = await composio.create("ts-kim", { toolkits: ["linear"] });
  const result = await session.execute("LINEAR_LIST_TEAMS", {}, { account: request.id });
  assert.ok(result.error === null || result.error === undefined || result.error === "", JSON.stringify(result));
});

test("session.authorize, the hosted form and waitForConnection", async () => {
  const session = await composio.create("ts-pia", { toolkits: ["slack"] });
  const request = await session.authorize("slack", { callbackUrl: "https://app.example/done" });
  assert.match(request.id, /^ca_/);
  assert.match(request.redirectUrl, /\/link\/lt_/);
  // The browser step, over HTTP (the browser test drives a real one).
  const form = await fetch(request.redirectUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: "ts-slack-token" }),
    redirect: "manual",
  });
  assert.equal(form.status, 303);
  assert.match(form.headers.get("location"), /^https:\/\/app\.example\/done\?status=success&connected_account_id=ca_/);
  const account = await request.waitForConnection(10_000);
  assert.equal(account.status, "ACTIVE");
  const toolkits = await session.toolkits();
  const slack = toolkits.items.find((t) => t.slug === "slack");
  assert.equal(slack.connection.isActive, true);
  assert.equal(slack.connection.connectedAccount.id, request.id);
});

test("proxyExecute reaches the toolkit's API with the user's account", async () => {
  const config = await composio.authConfigs.create("github", { type: "use_composio_managed_auth", authScheme: "BEARER_TOKEN" });
  await composio.connectedAccounts.initiate("ts-quin", config.id, { config: AuthScheme.BearerToken({ token: "ts-gh-token" }) });
  const session = await composio.create("ts-quin", { toolkits: ["github"] });
  const out = await session.proxyExecute({ toolkit: "github", endpoint: "/user", method: "GET" });
  assert.equal(out.status, 200);
  await assert.rejects(session.proxyExecute({ toolkit: "github", endpoint: "/../gmail/x", method: "GET" }), /outside/);
});
