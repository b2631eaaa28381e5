// The TypeScript Composio SDK's session flow (@composio/core 0.21.0) against
// a real `toolshed serve` and the upstream fixture, written the way its docs
// show it: composio.create(userId, {...}), session.tools(), search(),
// execute() of every meta tool and of an app tool, update() with
// expectedConfigVersion, toolkits(), the files mount, use(), delete(), the
// direct-tools preset, and the OpenAI (built in) and Vercel AI SDK
// providers driving session tools with no model on the network.
//
// A failing SDK call is reported with the zod issues (under the wire field
// names) and the HTTP exchange that caused it.
//
// TOOLSHED_BIN names the binary (scripts/test.sh sets it).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Composio, OpenAIProvider, SessionPreset } from "@composio/core";
import { VercelProvider } from "@composio/vercel";
import { generateText, stepCountIs } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { startServer } from "./server.mjs";
import { recordHttp, describeExchange, describeIssues } from "./composio-wire.mjs";

const KEY = "ts_session_suite_key";
const META_TOOLS = [
  "COMPOSIO_SEARCH_TOOLS",
  "COMPOSIO_GET_TOOL_SCHEMAS",
  "COMPOSIO_MULTI_EXECUTE_TOOL",
  "COMPOSIO_MANAGE_CONNECTIONS",
  "COMPOSIO_REMOTE_WORKBENCH",
  "COMPOSIO_REMOTE_BASH_TOOL",
];
let server;
let http;
let composio;

before(async () => {
  server = await startServer(KEY, { withUpstream: true });
  http = recordHttp(() => server.base);
  composio = new Composio({ apiKey: KEY, baseURL: server.base, allowTracking: false, disableVersionCheck: true });
});

after(() => {
  http?.restore();
  server?.stop();
});

/**
 * Runs an SDK call; if it throws, fails with what it threw (zod issues
 * spelled out under wire names) and the HTTP exchanges it made.
 */
async function sdk(label, fn) {
  const mark = http.mark();
  try {
    return await fn();
  } catch (error) {
    const made = http.since(mark);
    const last = made.at(-1);
    let raw;
    try { raw = last && JSON.parse(last.response); } catch { raw = undefined; }
    const issues = error?.issues ?? error?.cause?.issues;
    const why = issues ? `${error.name}: the response does not satisfy the SDK's zod schema:\n${describeIssues(issues, raw)}` : `${error?.name}: ${error?.message}`;
    assert.fail(`${label} threw ${why}\nHTTP:\n${made.map(describeExchange).join("\n") || describeExchange(undefined)}`);
  }
}

/** The request body the SDK sent in its last call to a path ending in `suffix`. */
function sentBody(suffix) {
  const x = http.exchanges.findLast((e) => e.path.split("?")[0].endsWith(suffix) && e.body);
  return x && JSON.parse(x.body);
}

async function newSession(userId, config = {}) {
  return sdk(`composio.create(${JSON.stringify(userId)}, ${JSON.stringify(config)})`, () => composio.create(userId, config));
}

const standard = {
  toolkits: ["hackernews", "github"],
  manageConnections: true,
  sandbox: { enable: true, autoOffloadThreshold: 20000, sandboxSize: "standard", enableProxyExecution: true },
  mcp: true,
  experimental: { assistivePrompt: { userTimezone: "Europe/Paris" } },
};

test("composio.create with toolkits, manageConnections, sandbox settings and mcp; composio.use sees the same session", async () => {
  const session = await newSession("ts-alice", standard);
  const body = sentBody("/tool_router/session");
  assert.deepEqual(body.toolkits, { enable: ["hackernews", "github"] });
  assert.equal(body.workbench.enable, true);
  assert.equal(body.workbench.auto_offload_threshold, 20000);
  assert.equal(body.manage_connections.enable, true);

  assert.match(session.sessionId, /^trs_/);
  assert.equal(session.configVersion, 1);
  assert.equal(session.config.user_id, "ts-alice");
  assert.deepEqual(session.config.toolkits, { enabled: ["hackernews", "github"] });
  assert.equal(session.sandbox?.enable, true, `session.sandbox: ${JSON.stringify(session.sandbox)}`);
  assert.equal(session.sandbox?.auto_offload_threshold, 20000);
  assert.equal(typeof session.experimental.assistivePrompt, "string");
  // MCP: same origin as baseURL, so the SDK attaches its own key.
  assert.equal(session.mcp.type, "http");
  assert.equal(new URL(session.mcp.url).origin, new URL(server.base).origin);
  assert.equal(session.mcp.url, `${server.base}/tool_router/${session.sessionId}/mcp`);
  assert.equal(session.mcp.headers["x-api-key"], KEY);

  const again = await sdk("composio.use(id)", () => composio.use(session.sessionId));
  assert.equal(again.sessionId, session.sessionId);
  assert.deepEqual(again.config, session.config);
  assert.equal(again.configVersion, 1);
});

test("session.tools() gives the six meta tools as OpenAI function tools", async () => {
  const session = await newSession("ts-bea", standard);
  const tools = await sdk("session.tools()", () => session.tools());
  assert.deepEqual(tools.map((t) => t.function.name).sort(), [...META_TOOLS].sort());
  for (const tool of tools) {
    assert.equal(tool.type, "function");
    assert.equal(tool.function.parameters.type, "object", tool.function.name);
    assert.ok(tool.function.description.length > 20, tool.function.name);
  }
});

test("memory recorded by MULTI_EXECUTE comes back through session.search() (zod-validated)", async () => {
  const session = await composio.create("ts-memory-user", { toolkits: ["github", "hackernews"] });
  const out = await sdk("session.execute(COMPOSIO_MULTI_EXECUTE_TOOL, {memory})", () => session.execute("COMPOSIO_MULTI_EXECUTE_TOOL", {
    sync_response_to_workbench: false,
    tools: [{ tool_slug: "HACKERNEWS_GET_ITEM", arguments: { id: 1 } }],
    memory: { github: ["Releases are cut from the stable branch"] },
  }));
  assert.deepEqual(out.data.memory, { saved: 1, already_known: 0 });
  const found = await sdk('session.search({query: "list the releases of the repository"})', () => session.search({ query: "list the releases of the repository" }));
  assert.deepEqual(found.results[0].memory, { github: ["Releases are cut from the stable branch"] });
});

test("session.search({query}) finds the Hacker News tools", async () => {
  const session = await newSession("ts-cleo", standard);
  const found = await sdk('session.search({query: "get a hacker news item by id"})', () => session.search({ query: "get a hacker news item by id" }));
  assert.equal(found.success, true);
  assert.equal(found.error, null);
  assert.ok(found.results[0].primaryToolSlugs.includes("HACKERNEWS_GET_ITEM"), JSON.stringify(found.results));
  assert.equal(found.toolSchemas.HACKERNEWS_GET_ITEM.toolkit, "hackernews");
  assert.equal(typeof found.session.id, "string");
  assert.equal(typeof found.timeInfo.currentTimeUtc, "string");
  // Restricting to toolkits is passed through as `toolkits`.
  await sdk('session.search({query, toolkits: ["github"]})', () => session.search({ query: "list issues", toolkits: ["github"] }));
  assert.deepEqual(sentBody("/search").toolkits, ["github"]);
});

test("session.execute of every meta tool", async (t) => {
  const session = await newSession("ts-dan", standard);
  const exec = (slug, args) => sdk(`session.execute(${JSON.stringify(slug)}, ${JSON.stringify(args)})`, () => session.execute(slug, args));

  await t.test("COMPOSIO_SEARCH_TOOLS", async () => {
    const out = await exec("COMPOSIO_SEARCH_TOOLS", { queries: [{ use_case: "get a hacker news item" }] });
    assert.equal(out.error, null);
    assert.match(out.logId, /^log_/);
    assert.ok(out.data.results[0].primary_tool_slugs.includes("HACKERNEWS_GET_ITEM"));
    assert.ok(out.data.tool_schemas.HACKERNEWS_GET_ITEM);
    assert.equal(typeof out.data.session.id, "string");
  });

  await t.test("COMPOSIO_GET_TOOL_SCHEMAS", async () => {
    const out = await exec("COMPOSIO_GET_TOOL_SCHEMAS", { tool_slugs: ["HACKERNEWS_GET_ITEM", "HACKERNEWS_GET_ITEMZ"] });
    assert.equal(out.error, null);
    assert.equal(out.data.tool_schemas.HACKERNEWS_GET_ITEM.input_schema.type, "object");
    assert.deepEqual(out.data.not_found, ["HACKERNEWS_GET_ITEMZ"]);
    const suggested = out.data.suggestions.HACKERNEWS_GET_ITEMZ;
    assert.ok(Array.isArray(suggested) && suggested.length >= 1 && suggested.length <= 3, JSON.stringify(out.data.suggestions));
  });

  await t.test("COMPOSIO_MULTI_EXECUTE_TOOL", async () => {
    const out = await exec("COMPOSIO_MULTI_EXECUTE_TOOL", {
      tools: [
        { tool_slug: "HACKERNEWS_GET_ITEM", arguments: { id: 8863 } },
        { tool_slug: "HACKERNEWS_GET_USER", arguments: { id: "edgecase" } },
      ],
      sync_response_to_workbench: false,
    });
    assert.equal(out.error, null);
    assert.equal(out.data.total_count, 2);
    assert.deepEqual(out.data.results.map((r) => r.tool_slug), ["HACKERNEWS_GET_ITEM", "HACKERNEWS_GET_USER"]);
    assert.equal(out.data.results[0].response.successful, true);
    assert.equal(out.data.results[0].response.data.id, 8863);
  });

  await t.test("COMPOSIO_REMOTE_WORKBENCH keeps state between calls and reports a raising cell", async () => {
    const first = await exec("COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "x = 41\nprint('set')" });
    assert.equal(first.error, null);
    assert.equal(first.data.stdout, "set\n");
    const second = await exec("COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "x + 1" });
    assert.equal(second.data.results, "42");
    const tools = await exec("COMPOSIO_REMOTE_WORKBENCH", {
      code_to_execute: "r = run_composio_tools([('HACKERNEWS_GET_ITEM', {'id': i}) for i in (1, 2, 3)])\nlen(r)",
    });
    assert.equal(tools.error, null, JSON.stringify(tools.data));
    assert.equal(tools.data.results, "3");
    const raised = await exec("COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "1/0" });
    assert.match(raised.error, /ZeroDivisionError/);
    assert.match(raised.data.error, /ZeroDivisionError/);
  });

  await t.test("COMPOSIO_REMOTE_BASH_TOOL sees the workbench's files", async () => {
    await exec("COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "open('/mnt/files/from_py.txt', 'w').write('py wrote this')" });
    const out = await exec("COMPOSIO_REMOTE_BASH_TOOL", { command: "cat /mnt/files/from_py.txt" });
    assert.equal(out.error, null, JSON.stringify(out.data));
    assert.equal(out.data.stdout, "py wrote this");
    assert.equal(typeof out.data.stdoutLines, "number");
  });

  await t.test("COMPOSIO_MANAGE_CONNECTIONS starts a connection for github", async () => {
    const out = await exec("COMPOSIO_MANAGE_CONNECTIONS", { toolkits: ["github"] });
    assert.equal(out.error, null);
    const github = out.data.results.github;
    assert.equal(github.status, "initiated");
    assert.equal(github.has_active_connection, false);
    assert.match(github.redirect_url, /\/link\/lt_/);
    assert.match(github.connected_account_id, /^ca_/);
  });
});

test("session.execute of an app tool through the fixture; an unknown slug rejects", async () => {
  const session = await newSession("ts-eve", { toolkits: ["hackernews"] });
  const out = await sdk("session.execute('HACKERNEWS_GET_ITEM', {id: 8863})", () => session.execute("HACKERNEWS_GET_ITEM", { id: 8863 }));
  assert.equal(out.error, null);
  assert.equal(out.data.id, 8863);
  assert.equal(out.data.by, "edgecase");
  assert.match(out.logId, /^log_/);
  assert.deepEqual(sentBody("/execute"), { tool_slug: "HACKERNEWS_GET_ITEM", arguments: { id: 8863 } });
  await assert.rejects(session.execute("HACKERNEWS_NO_SUCH_TOOL", {}), (e) => e.status === 404 || /not found/i.test(e.message));
});

test("session.update with expectedConfigVersion; a stale version is a conflict; listConfigHistory", async () => {
  const session = await newSession("ts-fay", standard);
  const config = await sdk("session.update({sandbox: {autoOffloadThreshold: 5000}, expectedConfigVersion: 1})", () =>
    session.update({ sandbox: { autoOffloadThreshold: 5000 }, expectedConfigVersion: session.configVersion }));
  const body = sentBody(`/session/${session.sessionId}`);
  assert.equal(body.expected_config_version, 1);
  assert.equal(body.workbench.auto_offload_threshold, 5000);
  assert.equal(session.configVersion, 2);
  assert.equal(config.workbench.auto_offload_threshold, 5000);
  assert.equal(session.sandbox.auto_offload_threshold, 5000);

  await assert.rejects(session.update({ toolkits: ["hackernews"], expectedConfigVersion: 1 }), { name: "ComposioSessionConfigConflictError" });

  const history = await sdk("session.listConfigHistory()", () => session.listConfigHistory());
  assert.deepEqual(history.items.map((i) => i.version), [2, 1]);
  assert.equal(history.items[0].isCurrent, true);
  // The SDK copies these through untyped; @composio/client types them as
  // created_at: string and total_pages / current_page / total_items: number.
  const drift = [
    typeof history.items[0].createdAt !== "string" && `items[].created_at is ${JSON.stringify(history.items[0].createdAt)} (${typeof history.items[0].createdAt}), typed string (so listConfigHistory().items[].createdAt is not a string)`,
    ...["total_pages", "current_page", "total_items"].map((k, i) => {
      const v = [history.totalPages, history.currentPage, history.totalItems][i];
      return typeof v !== "number" && `${k} is ${JSON.stringify(v) ?? "absent"}, typed number`;
    }),
  ].filter(Boolean);
  if (drift.length) assert.fail(`GET .../config_history (listConfigHistory) against ToolRouterSessionV31ConfigHistoryListResponse:\n  - ${drift.join("\n  - ")}`);
});

test("session.toolkits() with connection state and filters", async () => {
  const session = await newSession("ts-gus", standard);
  const all = await sdk("session.toolkits()", () => session.toolkits());
  assert.deepEqual(all.items.map((t) => t.slug).sort(), ["github", "hackernews"]);
  const hn = all.items.find((t) => t.slug === "hackernews");
  assert.equal(hn.isNoAuth, true);
  assert.equal(hn.connection, undefined);
  const gh = all.items.find((t) => t.slug === "github");
  assert.equal(gh.connection.isActive, false);
  assert.equal(gh.name, "GitHub");
  assert.equal(all.totalPages, 1);
  const one = await sdk("session.toolkits({toolkits: ['github']})", () => session.toolkits({ toolkits: ["github"] }));
  assert.deepEqual(one.items.map((t) => t.slug), ["github"]);
  const connected = await sdk("session.toolkits({isConnected: true})", () => session.toolkits({ isConnected: true }));
  assert.ok(!connected.items.some((t) => t.slug === "github"), "github has no account yet");
});

test("files mount: session.experimental.files list / download / delete; upload meets the SDK's SSRF guard", async (t) => {
  const session = await newSession("ts-hal", standard);
  const files = session.experimental.files;
  await sdk("session.execute(COMPOSIO_REMOTE_WORKBENCH) writing /mnt/files/report.txt", () =>
    session.execute("COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "import os\nos.makedirs('/mnt/files/out', exist_ok=True)\nopen('/mnt/files/out/report.txt', 'w').write('rows: 3')" }));

  await t.test("files.list()", async () => {
    const listed = await sdk("session.experimental.files.list()", () => files.list());
    assert.deepEqual(listed.items.map((i) => i.mountRelativePath), ["out/report.txt"]);
    assert.equal(listed.items[0].sandboxMountPrefix, "/mnt/files");
    assert.equal(listed.items[0].size, 7);
    const under = await sdk("files.list({path: 'out'})", () => files.list({ path: "out" }));
    assert.equal(under.items.length, 1);
  });

  await t.test("files.download() gives a RemoteFile whose URL serves the bytes", async () => {
    const remote = await sdk("files.download('out/report.txt')", () => files.download("out/report.txt"));
    assert.equal(remote.mountRelativePath, "out/report.txt");
    assert.equal(remote.sandboxMountPrefix, "/mnt/files");
    // remote.text() goes through the SDK's SSRF guard, which refuses loopback; fetch the URL directly.
    const got = await fetch(remote.downloadUrl);
    assert.equal(await got.text(), "rows: 3");
    await assert.rejects(remote.text(), { name: "ComposioBlockedInternalUrlError" });
  });

  await t.test("files.upload() is refused client-side on a loopback server (SSRF guard, not toolshed)", async () => {
    await assert.rejects(files.upload(new TextEncoder().encode("hi"), { remotePath: "in/hi.txt", mimetype: "text/plain" }), { name: "ComposioBlockedInternalUrlError" });
    const asked = http.exchanges.findLast((e) => e.path.endsWith("/mounts/files/upload_url"));
    assert.deepEqual(JSON.parse(asked.body), { mount_relative_path: "in/hi.txt", mimetype: "text/plain" });
    assert.equal(asked.status, 200);
  });

  await t.test("files.delete()", async () => {
    const deleted = await sdk("files.delete('out/report.txt')", () => files.delete("out/report.txt"));
    assert.deepEqual(deleted, { mountRelativePath: "out/report.txt", sandboxMountPrefix: "/mnt/files" });
    await assert.rejects(files.download("out/report.txt"), (e) => e.status === 404);
  });
});

test("composio.use(id) in a later request keeps the workbench's variables", async () => {
  const session = await newSession("ts-ida", standard);
  await sdk("execute x = 5", () => session.execute("COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "x = 5" }));
  const later = await sdk("composio.use(id)", () => composio.use(session.sessionId));
  const out = await sdk("execute x * 3 on the used session", () => later.execute("COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "x * 3" }));
  assert.equal(out.data.results, "15");
});

test("the direct-tools preset: app tools instead of meta tools", async () => {
  const session = await newSession("ts-jon", { toolkits: ["hackernews"], sessionPreset: SessionPreset.DIRECT_TOOLS });
  const body = sentBody("/tool_router/session");
  assert.deepEqual(
    { m: body.manage_connections, w: body.workbench, p: body.preload, s: body.search, e: body.execute },
    { m: { enable: false }, w: { enable: false }, p: { tools: "all" }, s: { enable: false }, e: { enable_multi_execute: false } },
  );
  assert.equal(session.preload.tools, "all");
  const tools = await sdk("session.tools()", () => session.tools());
  const names = tools.map((t) => t.function.name);
  assert.ok(names.includes("HACKERNEWS_GET_ITEM"), names.join(","));
  assert.ok(names.every((n) => n.startsWith("HACKERNEWS_")), names.join(","));
  const out = await sdk("session.execute('HACKERNEWS_GET_USER')", () => session.execute("HACKERNEWS_GET_USER", { id: "edgecase" }));
  assert.equal(out.data.id, "edgecase");
  // The workbench is off in this session.
  await assert.rejects(
    (async () => {
      const r = await session.execute("COMPOSIO_REMOTE_WORKBENCH", { code_to_execute: "1" });
      if (r.error) throw new Error(r.error);
    })(),
  );
});

test("OpenAI provider (built in): handleToolCalls(session, completion) runs session tools", async () => {
  const openai = new Composio({ apiKey: KEY, baseURL: server.base, allowTracking: false, disableVersionCheck: true, provider: new OpenAIProvider() });
  const session = await sdk("create", () => openai.create("ts-kai", { toolkits: ["hackernews"], preload: { tools: ["HACKERNEWS_GET_ITEM"] } }));
  const tools = await sdk("session.tools()", () => session.tools());
  assert.ok(tools.some((t) => t.function.name === "HACKERNEWS_GET_ITEM"), tools.map((t) => t.function.name).join(","));
  const completion = {
    id: "chatcmpl-1", object: "chat.completion", created: 0, model: "gpt-test",
    choices: [{
      index: 0, finish_reason: "tool_calls", logprobs: null,
      message: {
        role: "assistant", content: null, refusal: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "HACKERNEWS_GET_ITEM", arguments: JSON.stringify({ id: 8863 }) } },
          { id: "call_2", type: "function", function: { name: "COMPOSIO_REMOTE_WORKBENCH", arguments: JSON.stringify({ code_to_execute: "6 * 7" }) } },
        ],
      },
    }],
  };
  const messages = await sdk("provider.handleToolCalls(session, completion)", () => openai.provider.handleToolCalls(session, completion));
  assert.deepEqual(messages.map((m) => [m.role, m.tool_call_id]), [["tool", "call_1"], ["tool", "call_2"]]);
  const [item, cell] = messages.map((m) => JSON.parse(m.content));
  assert.equal(item.successful, true, JSON.stringify(item));
  assert.equal(item.data.id, 8863);
  assert.equal(cell.data.results, "42");
});

test("Vercel AI SDK provider: generateText with a scripted model calls the session's tools", async () => {
  const vercel = new Composio({ apiKey: KEY, baseURL: server.base, allowTracking: false, disableVersionCheck: true, provider: new VercelProvider() });
  const session = await sdk("create", () => vercel.create("ts-lea", { toolkits: ["hackernews"] }));
  const tools = await sdk("session.tools()", () => session.tools());
  assert.deepEqual(Object.keys(tools).sort(), [...META_TOOLS].sort());
  const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
  const model = new MockLanguageModelV4({
    doGenerate: [
      {
        content: [{
          type: "tool-call", toolCallId: "t1", toolName: "COMPOSIO_MULTI_EXECUTE_TOOL",
          input: JSON.stringify({ tools: [{ tool_slug: "HACKERNEWS_GET_ITEM", arguments: { id: 8863 } }], sync_response_to_workbench: false }),
        }],
        finishReason: { unified: "tool-calls", raw: "tool_calls" }, usage, warnings: [],
      },
      { content: [{ type: "text", text: "done" }], finishReason: { unified: "stop", raw: "stop" }, usage, warnings: [] },
    ],
  });
  const result = await sdk("generateText({model, tools: await session.tools()})", () =>
    generateText({ model, tools, prompt: "who wrote HN item 8863?", stopWhen: stepCountIs(3) }));
  assert.equal(result.text, "done");
  const output = result.steps[0].toolResults[0].output;
  assert.equal(output.successful, true, JSON.stringify(output));
  assert.equal(output.data.results[0].response.data.by, "edgecase");
  // Agentic wrappers ask for auto offload.
  assert.equal(sentBody("/execute").enable_auto_workbench_offload, true);
});

test("session.delete(): {sessionId, deleted: true}; the session is gone after", async () => {
  const session = await newSession("ts-max", { toolkits: ["hackernews"] });
  const deleted = await sdk("session.delete()", () => session.delete());
  assert.deepEqual(deleted, { sessionId: session.sessionId, deleted: true });
  await assert.rejects(session.delete(), (e) => e.status === 404);
  await assert.rejects(composio.use(session.sessionId), (e) => e.status === 404);
  await assert.rejects(session.execute("HACKERNEWS_GET_ITEM", { id: 1 }), (e) => e.status === 404);
});
