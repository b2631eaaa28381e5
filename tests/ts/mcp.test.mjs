// The TypeScript MCP SDK (@modelcontextprotocol/sdk) against a real
// `toolshed serve`: list tools, state across two connections, a failing
// cell as an isError result, a wrong key refused.
//
// TOOLSHED_BIN names the binary (scripts/test.sh sets it).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startServer } from "./server.mjs";

const KEY = "ts_typescript_suite_key";
let server;
let base;

before(async () => {
  server = await startServer(KEY);
  base = server.base;
});

after(() => server?.stop());

async function newSession() {
  const response = await fetch(`${base}/api/v3.1/tool_router/session`, {
    method: "POST",
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify({ user_id: "ts-user" }),
  });
  assert.equal(response.status, 200);
  return response.json();
}

async function connect(mcp, headers = mcp.headers) {
  const client = new Client({ name: "toolshed-ts-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { requestInit: { headers } });
  await client.connect(transport);
  return client;
}

test("tools, state across connections, and failures as results", async () => {
  const session = await newSession();
  const first = await connect(session.mcp);
  const { tools } = await first.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes("COMPOSIO_REMOTE_WORKBENCH"), names.join(","));
  assert.ok(names.includes("COMPOSIO_SEARCH_TOOLS"));
  const defined = await first.callTool({
    name: "COMPOSIO_REMOTE_WORKBENCH",
    arguments: { code_to_execute: "greeting = 'hi'\ndef shout(s):\n    return s.upper()\nshout(greeting)" },
  });
  assert.equal(defined.isError, false);
  assert.equal(defined.structuredContent.results, "'HI'");
  await first.close();

  // A new connection: same interpreter.
  const second = await connect(session.mcp);
  const used = await second.callTool({ name: "COMPOSIO_REMOTE_WORKBENCH", arguments: { code_to_execute: "shout(greeting + '!')" } });
  assert.equal(used.structuredContent.results, "'HI!'");
  const failed = await second.callTool({ name: "COMPOSIO_REMOTE_WORKBENCH", arguments: { code_to_execute: "{}['missing']" } });
  assert.equal(failed.isError, true);
  assert.match(failed.content[0].text, /KeyError/);
  await second.close();
});

test("a wrong key is refused before anything runs", async () => {
  const session = await newSession();
  await assert.rejects(connect(session.mcp, { "x-api-key": "ts_wrong" }));
});
