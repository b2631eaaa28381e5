// Custom tools through the TypeScript SDK (@composio/core 0.21.0,
// experimental_createTool / experimental_createToolkit): toolshed names and
// echoes them (the SDK routes by the echo), session.search() finds them,
// session.execute() runs them in this process, and one extending github
// reaches the upstream fixture through the session's account.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { Composio, experimental_createTool, experimental_createToolkit } from "@composio/core";
import { startServer } from "./server.mjs";

const KEY = "ts_custom_tools_suite_key";
let server;
let composio;

before(async () => {
  server = await startServer(KEY, { withUpstream: true });
  composio = new Composio({ apiKey: KEY, baseURL: server.base, allowTracking: false, disableVersionCheck: true });
  const res = await fetch(`${server.base}/api/v3.1/connected_accounts`, {
    method: "POST",
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify({ user_id: "tia", toolkit: "github", auth_scheme: "BEARER_TOKEN", credentials: { token: "ts-token" } }),
  });
  assert.equal(res.status, 200);
});

after(() => server?.stop());

test("custom tools and toolkits are found by search and run in process", async () => {
  const grep = experimental_createTool("GREP", {
    name: "Grep the codebase",
    description: "Search the app's local codebase for a regular expression and return matching lines.",
    inputParams: z.object({ pattern: z.string() }),
    execute: async (input) => ({ matches: [`src/lib.rs: ${input.pattern}`] }),
  });
  const devTools = experimental_createToolkit("DEV_TOOLS", { name: "Dev tools", description: "Local developer utilities.", tools: [grep] });
  const summary = experimental_createTool("REPO_SUMMARY", {
    name: "Repository summary",
    description: "Summarize a GitHub repository: its full name and default branch.",
    extendsToolkit: "github",
    inputParams: z.object({ owner: z.string(), repo: z.string() }),
    execute: async (input, ctx) => {
      const out = await ctx.execute("GITHUB_GET_REPOSITORY", { owner: input.owner, repo: input.repo });
      return { full_name: out.data.full_name, default_branch: out.data.default_branch };
    },
  });
  const session = await composio.create("tia", { toolkits: ["github"], experimental: { customTools: [summary], customToolkits: [devTools] } });
  const found = await session.search({ query: "grep the codebase for a regular expression" });
  assert.equal(found.results[0].primaryToolSlugs[0], "LOCAL_DEV_TOOLS_GREP", JSON.stringify(found.results[0]));
  const ran = await session.execute("LOCAL_DEV_TOOLS_GREP", { pattern: "fn main" });
  assert.deepEqual(ran.data, { matches: ["src/lib.rs: fn main"] });
  const repo = await session.execute("LOCAL_GITHUB_REPO_SUMMARY", { owner: "acme", repo: "widgets" });
  assert.equal(repo.error, null, JSON.stringify(repo));
  assert.equal(repo.data.full_name, "acme/widgets");
});
