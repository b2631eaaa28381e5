// toolshed's raw session API responses (plain fetch with x-api-key) against
// what the TypeScript SDK accepts: the zod schemas @composio/core 0.21.0
// ships and parses responses with, and, where it ships none, the response
// types of @composio/client 2.0.0-rc.6 (see composio-wire.mjs for which is
// which). Each failure names the wire field, what the SDK wants and what
// toolshed sent.
//
// TOOLSHED_BIN names the binary (scripts/test.sh sets it).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./server.mjs";
import { shipped, clientTypes, sdkView, check } from "./composio-wire.mjs";

const KEY = "ts_schemas_suite_key";
let server;
let session; // the create response of a session on hackernews + github
let P; // its path

async function call(method, path, body) {
  const response = await fetch(server.base + path, {
    method,
    headers: { "x-api-key": KEY, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const what = `${method} ${path}${body === undefined ? "" : ` ${JSON.stringify(body)}`}`;
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/, `${what}: Content-Type ${response.headers.get("content-type")}; the SDK only parses application/json`);
  let json;
  try { json = JSON.parse(text); } catch { assert.fail(`${what}: not JSON: ${text.slice(0, 200)}`); }
  return { status: response.status, json, what };
}

/** Fails with every issue `schema` finds in `value` (under `raw`'s wire names). */
function conforms(schema, value, raw, what, source) {
  const report = check(schema, value, raw);
  if (report) assert.fail(`${what}\ndoes not satisfy ${source}:\n${report}`);
}

async function ok(method, path, body) {
  const r = await call(method, path, body);
  assert.equal(r.status, 200, `${r.what}: HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
  return r;
}

before(async () => {
  server = await startServer(KEY, { withUpstream: true });
  session = (await ok("POST", "/api/v3.1/tool_router/session", {
    user_id: "schema-sam",
    toolkits: { enable: ["hackernews", "github"] },
    manage_connections: { enable: true },
    workbench: { enable: true, auto_offload_threshold: 20000 },
  })).json;
  P = `/api/v3.1/tool_router/session/${session.session_id}`;
});

after(() => server?.stop());

test("create, retrieve and patch: @composio/client's session response type; mcp: ToolRouterMCPServerConfigSchema", async () => {
  const retrieved = await ok("GET", P);
  const patched = await ok("PATCH", P, { workbench: { auto_offload_threshold: 15000 }, expected_config_version: session.config_version });
  const failures = [];
  for (const [what, json] of [[`POST /api/v3.1/tool_router/session`, session], [retrieved.what, retrieved.json], [patched.what, patched.json]]) {
    const a = check(clientTypes.session, json);
    if (a) failures.push(`${what}\ndoes not satisfy @composio/client GetApiV31ToolRouterSessionBySessionIdResponses[200]:\n${a}`);
    const b = check(shipped.ToolRouterMCPServerConfigSchema, json.mcp, json.mcp);
    if (b) failures.push(`${what} .mcp does not satisfy ToolRouterMCPServerConfigSchema:\n${b}`);
  }
  assert.equal(patched.json.config_version, session.config_version + 1);
  if (failures.length) assert.fail(failures.join("\n\n"));
});

test("GET .../tools: every item through the SDK's transformToolCases satisfies ToolSchema; the page satisfies ToolsPaginated", async () => {
  const { json, what } = await ok("GET", `${P}/tools?limit=500`);
  const failures = [];
  json.items.forEach((item, i) => {
    const report = check(shipped.ToolSchema, sdkView.tool(item), item);
    if (report) failures.push(`items[${i}] (${item.slug}) does not satisfy ToolSchema:\n${report}`);
  });
  const page = check(clientTypes.tools, json);
  if (page) failures.push(`the page does not satisfy @composio/client ToolsPaginated:\n${page}`);
  if (failures.length) assert.fail(`${what}\n${failures.join("\n")}`);
});

test("POST .../search {queries:[{use_case}]}: ToolRouterSessionSearchResponseSchema", async () => {
  const { json, what } = await ok("POST", `${P}/search`, { queries: [{ use_case: "get a hacker news item by id" }] });
  conforms(shipped.ToolRouterSessionSearchResponseSchema, sdkView.search(json), json, what, "ToolRouterSessionSearchResponseSchema (after the SDK's transformSearchResponse)");
});

const executions = [
  ["an app tool (HACKERNEWS_GET_ITEM)", "HACKERNEWS_GET_ITEM", { id: 8863 }],
  ["COMPOSIO_SEARCH_TOOLS", "COMPOSIO_SEARCH_TOOLS", { queries: [{ use_case: "get a hacker news item" }] }],
  ["COMPOSIO_GET_TOOL_SCHEMAS", "COMPOSIO_GET_TOOL_SCHEMAS", { tool_slugs: ["HACKERNEWS_GET_ITEM", "NOPE_NOTHING"] }],
  ["COMPOSIO_MULTI_EXECUTE_TOOL", "COMPOSIO_MULTI_EXECUTE_TOOL", { tools: [{ tool_slug: "HACKERNEWS_GET_ITEM", arguments: { id: 1 } }], sync_response_to_workbench: false }],
  ["COMPOSIO_REMOTE_WORKBENCH", "COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "21 * 2" }],
  ["COMPOSIO_REMOTE_WORKBENCH, a cell that raises", "COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "1/0" }],
  ["COMPOSIO_REMOTE_BASH_TOOL", "COMPOSIO_REMOTE_BASH_TOOL", { command: "echo hi" }],
  ["COMPOSIO_MANAGE_CONNECTIONS", "COMPOSIO_MANAGE_CONNECTIONS", { toolkits: ["github"] }],
];
for (const [name, slug, args] of executions) {
  test(`POST .../execute ${name}: ToolRouterSessionExecuteResponseSchema`, async () => {
    const { json, what } = await ok("POST", `${P}/execute`, { tool_slug: slug, arguments: args });
    conforms(shipped.ToolRouterSessionExecuteResponseSchema, sdkView.execute(json), json, what, "ToolRouterSessionExecuteResponseSchema (after the SDK's transformExecuteResponse)");
  });
}

test("GET .../toolkits: each item through toolkits()'s mapping satisfies ToolkitConnectionStateSchema; the page satisfies ToolRouterToolkitsListResponse", async () => {
  const { json, what } = await ok("GET", `${P}/toolkits`);
  const failures = [];
  json.items.forEach((item, i) => {
    const report = check(shipped.ToolkitConnectionStateSchema, sdkView.toolkit(item), item);
    if (report) failures.push(`items[${i}] (${item.slug}) does not satisfy ToolkitConnectionStateSchema:\n${report}`);
  });
  const page = check(clientTypes.toolkits, json);
  if (page) failures.push(`the page does not satisfy @composio/client ToolRouterToolkitsListResponse:\n${page}`);
  if (failures.length) assert.fail(`${what}\n${failures.join("\n")}`);
});

test("GET .../config_history: ToolRouterSessionV31ConfigHistoryListResponse", async () => {
  const { json, what } = await ok("GET", `${P}/config_history`);
  conforms(clientTypes.configHistory, json, json, what, "@composio/client ToolRouterSessionV31ConfigHistoryListResponse");
});

test("POST .../link: what session.authorize() reads", async () => {
  const { json, what } = await ok("POST", `${P}/link`, { toolkit: "github" });
  conforms(clientTypes.link, json, json, what, "the link response session.authorize() dereferences");
});

test("files mount: upload_url, items (FileListResponseSchema), download_url (RemoteFileDataSchema), delete (FileDeleteResponseSchema)", async () => {
  const failures = [];
  const up = await ok("POST", `${P}/mounts/files/upload_url`, { mount_relative_path: "schemas/a.txt", mimetype: "text/plain" });
  const a = check(clientTypes.uploadUrl, up.json);
  if (a) failures.push(`${up.what}\ndoes not satisfy what files.upload() dereferences:\n${a}`);
  const put = await fetch(up.json.upload_url, { method: "PUT", body: "hello", headers: { "content-type": "text/plain" } });
  assert.ok(put.ok, `PUT upload_url: HTTP ${put.status}`);
  const list = await ok("GET", `${P}/mounts/files/items`);
  const b = check(shipped.FileListResponseSchema, list.json);
  if (b) failures.push(`${list.what}\ndoes not satisfy FileListResponseSchema (files.list() throws ValidationError "Failed to parse file list response"):\n${b}`);
  const down = await ok("POST", `${P}/mounts/files/download_url`, { mount_relative_path: "schemas/a.txt" });
  const c = check(shipped.RemoteFileDataSchema, down.json);
  if (c) failures.push(`${down.what}\ndoes not satisfy RemoteFileDataSchema:\n${c}`);
  const del = await ok("POST", `${P}/mounts/files/delete`, { mount_relative_path: "schemas/a.txt" });
  const d = check(shipped.FileDeleteResponseSchema, del.json);
  if (d) failures.push(`${del.what}\ndoes not satisfy FileDeleteResponseSchema:\n${d}`);
  if (failures.length) assert.fail(failures.join("\n\n"));
});

test("staged files: files.createPresignedURL and files.list response types", async () => {
  const staged = await ok("POST", "/api/v3.1/files/upload/request", {
    md5: "5d41402abc4b2a76b9719d911017c592", filename: "hello.txt", mimetype: "text/plain",
    tool_slug: "SLACK_UPLOAD_FILE", toolkit_slug: "slack",
  });
  conforms(clientTypes.stageFile, staged.json, staged.json, staged.what, "@composio/client FileCreatePresignedURLResponse");
  const put = await fetch(staged.json.new_presigned_url, { method: "PUT", body: "hello", headers: { "content-type": "text/plain" } });
  assert.equal(put.status, 200);
  const list = await ok("GET", "/api/v3.1/files/list");
  assert.equal(list.json.total_items, 1);
  conforms(clientTypes.stagedFiles, list.json, list.json, list.what, "@composio/client FileListResponse");
});

test("DELETE the session: ToolRouterSessionDeleteResponseSchema; a second DELETE is 404 with the error envelope", async () => {
  const made = (await ok("POST", "/api/v3.1/tool_router/session", { user_id: "schema-del" })).json;
  const path = `/api/v3.1/tool_router/session/${made.session_id}`;
  const { json, what } = await ok("DELETE", path);
  conforms(shipped.ToolRouterSessionDeleteResponseSchema, sdkView.delete(json), json, what, "ToolRouterSessionDeleteResponseSchema");
  const again = await call("DELETE", path);
  assert.equal(again.status, 404);
  assert.equal(typeof again.json.error?.message, "string", `${again.what}: no {error:{message}} envelope: ${JSON.stringify(again.json)}`);
});
