// File arguments through the TypeScript SDK (@composio/core 0.21.0) with
// `dangerouslyAllowAutoUploadDownloadFiles`: a local path becomes a staged
// file (files.createPresignedURL + the presigned PUT) and SLACK_UPLOAD_FILE
// sends its bytes upstream, against a real `toolshed serve`.
//
// The SDK refuses presigned URLs on private addresses (SSRF guard). A
// deployment's --public-url is public; this test's server is on loopback,
// so the SDK reaches it as `files.localhost`: name resolution answers a
// public address for the guard's check, and the global dispatcher (a
// configured route, which the guard respects) connects that name to
// 127.0.0.1. The SDK's own code runs unchanged.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import dns from "node:dns";
import { syncBuiltinESMExports } from "node:module";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, setGlobalDispatcher, getGlobalDispatcher } from "undici";
import { Composio } from "@composio/core";
import { startServer } from "./server.mjs";

const KEY = "ts_files_suite_key";
const HOST = "files.localhost";
let server;
let previous;
const realLookup = dns.promises.lookup;

/** A route (not the stock Agent, so the guard does not pin) to loopback. */
class LoopbackRoute extends Agent {}

before(async () => {
  server = await startServer(KEY, { withUpstream: true });
  dns.promises.lookup = async (host, options) =>
    host === HOST ? [{ address: "93.184.215.14", family: 4 }] : realLookup(host, options);
  syncBuiltinESMExports();
  previous = getGlobalDispatcher();
  setGlobalDispatcher(new LoopbackRoute({
    connect: {
      lookup: (host, options, callback) =>
        host === HOST
          ? options?.all
            ? callback(null, [{ address: "127.0.0.1", family: 4 }])
            : callback(null, "127.0.0.1", 4)
          : dns.lookup(host, options, callback),
    },
  }));
});

after(() => {
  dns.promises.lookup = realLookup;
  syncBuiltinESMExports();
  if (previous) setGlobalDispatcher(previous);
  server?.stop();
});

test("a local file argument is staged and sent to the tool", async () => {
  const port = new URL(server.base).port;
  const base = `http://${HOST}:${port}`;
  const connected = await fetch(`${base}/api/v3.1/connected_accounts`, {
    method: "POST",
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify({ user_id: "tess", toolkit: "slack", auth_scheme: "BEARER_TOKEN", credentials: { token: "xoxb-tess" } }),
  });
  assert.equal(connected.status, 200);
  const dir = mkdtempSync(join(tmpdir(), "toolshed-ts-files-"));
  const path = join(dir, "minutes.txt");
  const text = "Decisions:\n- ship staged files\n";
  writeFileSync(path, text);
  const composio = new Composio({
    apiKey: KEY, baseURL: base, allowTracking: false, disableVersionCheck: true,
    dangerouslyAllowAutoUploadDownloadFiles: true, fileUploadDirs: [dir],
  });
  const out = await composio.tools.execute("SLACK_UPLOAD_FILE", {
    userId: "tess",
    arguments: { file: path, channels: "C0004" },
    dangerouslySkipVersionCheck: true,
  });
  assert.equal(out.successful, true, JSON.stringify(out));
  // The SDK names the staged copy itself (file_ts<time>.txt).
  assert.match(out.data.file.name, /\.txt$/);
  assert.equal(out.data.file.preview, text, JSON.stringify(out.data.file));
  assert.deepEqual(out.data.file.channels, ["C0004"]);

  const listed = await composio.getClient().files.list({ toolkit_slug: "slack" });
  assert.deepEqual(listed.items.map((i) => i.filename), [out.data.file.name]);
});
