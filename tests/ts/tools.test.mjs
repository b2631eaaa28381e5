// Project-level tools and toolkits through the TypeScript SDK
// (@composio/core 0.21.0): composio.tools.get / getRawComposioTools /
// execute / proxyExecute and composio.toolkits.get / listCategories, outside
// any session, against a real `toolshed serve` and the upstream fixture.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Composio } from "@composio/core";
import { startServer } from "./server.mjs";

const KEY = "ts_tools_suite_key";
let server;
let composio;

before(async () => {
  server = await startServer(KEY, { withUpstream: true });
  composio = new Composio({ apiKey: KEY, baseURL: server.base, allowTracking: false, disableVersionCheck: true });
});

after(() => server?.stop());

async function connect(user) {
  const res = await fetch(`${server.base}/api/v3.1/connected_accounts`, {
    method: "POST",
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify({ user_id: user, toolkit: "github", auth_scheme: "BEARER_TOKEN", credentials: { token: "ts-token" } }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).id;
}

test("tools are fetched by slug and by toolkit", async () => {
  const raw = await composio.tools.getRawComposioTools({ tools: ["HACKERNEWS_GET_ITEM", "GITHUB_GET_REPOSITORY"] });
  assert.deepEqual(raw.map((t) => t.slug).sort(), ["GITHUB_GET_REPOSITORY", "HACKERNEWS_GET_ITEM"]);
  const byToolkit = await composio.tools.getRawComposioTools({ toolkits: ["hackernews"] });
  assert.ok(byToolkit.length > 0 && byToolkit.every((t) => t.toolkit.slug === "hackernews"));
  const wrapped = await composio.tools.get("tina", { tools: ["HACKERNEWS_GET_ITEM"] });
  assert.equal(wrapped.length, 1);
  // GitHub is imported whole (1,187 tools); listing a toolkit, the SDK asks
  // for its important tools and gets the main ones.
  const github = await composio.tools.getRawComposioTools({ toolkits: ["github"] });
  const slugs = github.map((t) => t.slug);
  assert.ok(slugs.includes("GITHUB_GET_REPOSITORY") && slugs.includes("GITHUB_REPOS_LIST_TAGS"), slugs.join());
  assert.ok(github.length < 100 && !slugs.includes("GITHUB_CODESPACES_LIST_FOR_AUTHENTICATED_USER"), github.length);
});

test("tools.execute runs for a user and with an account; a failure is in the result", async () => {
  const out = await composio.tools.execute("HACKERNEWS_GET_ITEM", {
    userId: "tina", arguments: { id: 1 }, dangerouslySkipVersionCheck: true,
  });
  assert.equal(out.successful, true, JSON.stringify(out));
  assert.equal(out.error, null);
  assert.ok(out.logId.startsWith("log_"));
  const account = await connect("tina");
  const withAccount = await composio.tools.execute("GITHUB_GET_REPOSITORY", {
    connectedAccountId: account, arguments: { owner: "acme", repo: "widgets" }, dangerouslySkipVersionCheck: true,
  });
  assert.equal(withAccount.successful, true, JSON.stringify(withAccount));
  const failed = await composio.tools.execute("GITHUB_GET_REPOSITORY", {
    userId: "nobody", arguments: { owner: "acme", repo: "widgets" }, dangerouslySkipVersionCheck: true,
  });
  assert.equal(failed.successful, false);
  assert.ok(failed.error);
  const proxied = await composio.tools.proxyExecute({
    endpoint: "/user", method: "GET", connectedAccountId: account,
    parameters: [{ in: "query", name: "per_page", value: 5 }],
  });
  assert.equal(proxied.status, 200);
});

test("toolkits, their auth fields and categories", async () => {
  const github = await composio.toolkits.get("github");
  assert.equal(github.slug, "github");
  const fields = await composio.toolkits.getConnectedAccountInitiationFields("github", "BEARER_TOKEN");
  assert.deepEqual(fields.map((f) => f.name), ["token"]);
  const all = await composio.toolkits.get();
  assert.ok(all.some((t) => t.slug === "slack"));
  const categories = await composio.toolkits.listCategories();
  assert.ok(categories.items.some((c) => c.slug === "developer-tools" || c.id === "developer-tools"));
});
