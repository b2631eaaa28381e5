// Starting the processes the TypeScript suites test against: a real
// `toolshed serve` (TOOLSHED_BIN, which scripts/test.sh sets) on a fresh
// data directory, and optionally the upstream fixture. Each is ready once
// it prints its address; nothing sleeps.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const root = new URL("../..", import.meta.url).pathname;

/** Resolves with the `http://…` address `child` prints. */
function started(child, name) {
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const at = line.indexOf("http://");
      if (at >= 0) resolve(line.slice(at).trim().split(/\s/)[0]);
    });
  });
}

/**
 * Starts `toolshed serve` with API key `key` (and the upstream fixture
 * behind every toolkit when `withUpstream`; with `oauth` too, the
 * fixture's OAuth2 provider is gmail's operator app, with its default
 * client); returns `{base, upstream, stop}`.
 */
export async function startServer(key, { withUpstream = false, oauth = false } = {}) {
  const env = { ...process.env, TOOLSHED_API_KEY: key, RUST_LOG: "warn" };
  const dataDir = mkdtempSync(join(tmpdir(), "toolshed-ts-"));
  const args = ["serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--toolkits", "fixtures/toolkits"];
  let upstream;
  let addr;
  if (withUpstream || oauth) {
    upstream = spawn("python3", ["fixtures/upstream/server.py", "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    addr = (await started(upstream, "the upstream fixture")).replace("http://", "");
    env.TOOLSHED_BASE_URL_ALL = `http://${addr}/{slug}`;
  }
  if (oauth) {
    const config = join(dataDir, "toolshed.toml");
    const provider = `http://${addr}/_oauth`;
    writeFileSync(config, [
      "[oauth_apps.gmail]",
      'client_id = "toolshed-test-client"',
      'client_secret = "toolshed-test-secret"',
      `authorize_url = "${provider}/authorize"`,
      `token_url = "${provider}/token"`,
      `revoke_url = "${provider}/revoke"`,
      "",
    ].join("\n"));
    args.push("--config", config);
  }
  const binary = process.env.TOOLSHED_BIN ?? "target/debug/toolshed";
  const server = spawn(binary, args, {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const base = await started(server, "toolshed serve");
  return {
    base,
    upstream: addr,
    stop() {
      server.kill("SIGTERM");
      upstream?.kill("SIGTERM");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
