// The TypeScript Composio SDK (@composio/core 0.21.0) against a real
// `toolshed serve` and the upstream fixture: auth configs, an account from
// an API-key config, session.authorize + the hosted form (submitted over
// HTTP) + waitForConnection, toolkits() with connection info, execute with
// an account, proxyExecute.
//
// TOOLSHED_BIN names the binary (scripts/test.sh sets it).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Composio, AuthScheme } from "@composio/core";

const KEY = "ts_sdk_suite_key";
const root = new URL("../..", import.meta.url).pathname;
let upstream;
let server;
let base;
let dataDir;
let composio;

function started(child, name) {
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const at = line.indexOf("http://");
      if (at >= 0) resolve(line.slice(at).trim().split(/\s/)[0]);
    });
  });
}

before(async () => {
  upstream = spawn("python3", ["fixtures/upstream/server.py", "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const upstreamAddr = (await started(upstream, "the upstream fixture")).replace("http://", "");
  dataDir = mkdtempSync(join(tmpdir(), "toolshed-sdk-"));
  const binary = process.env.TOOLSHED_BIN ?? "target/debug/toolshed";
  server = spawn(binary, ["serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--toolkits", "fixtures/toolkits"], {
    cwd: root,
    env: { ...process.env, TOOLSHED_API_KEY: KEY, RUST_LOG: "warn", TOOLSHED_BASE_URL_ALL: `http://${upstreamAddr}/{slug}` },
    stdio: ["ignore", "pipe", "inherit"],
  });
  base = await started(server, "toolshed serve");
  composio = new Composio({ apiKey: KEY, baseURL: base, allowTracking: false, disableVersionCheck: true });
});

after(() => {
  server?.kill("SIGTERM");
  upstream?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

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
