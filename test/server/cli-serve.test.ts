import { spawn } from "node:child_process";
import path from "node:path";
import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { CLI, runCli, tempDir } from "../helpers.js";
import { bearer } from "./harness.js";

/** The real `tenantdb serve` process (built by `npm test` before vitest), from start to SIGTERM. */

describe("tenantdb serve", () => {
  it("serves the Platform API and the data plane, and exits 0 on SIGTERM", async () => {
    const dataDir = path.join(tempDir(), "data");
    const cli = (...args: string[]) => runCli(["--data-dir", dataDir, ...args]);
    const minted = await cli("api-tokens", "mint", "ci");
    expect(minted.code).toBe(0);
    const apiToken = minted.stdout.trim();
    expect(apiToken).toMatch(/^tdb_\S+$/);
    expect((await cli("api-tokens", "list")).stdout).toMatch(/^NAME\s+CREATED\n(ci|\S+)\s/);

    const server = spawn(CLI, ["--data-dir", dataDir, "serve", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
    let stdout = "";
    let stderr = "";
    server.stderr.on("data", (d) => {
      stderr += d;
    });
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout.on("data", (d) => {
        stdout += d;
        const match = /^tenantdb serve listening on (http:\/\/127\.0\.0\.1:\d+) \(org local\)\n/.exec(stdout);
        if (match) resolve(match[1] as string);
      });
      server.on("exit", () => reject(new Error(`serve exited early: ${stderr}`)));
    });

    try {
      const platform = (p: string, init: RequestInit = {}) =>
        fetch(`${url}/v1/organizations/local${p}`, {
          ...init,
          headers: { ...bearer(apiToken), ...init.headers },
        });
      expect(
        (await platform("/groups", { method: "POST", body: '{"name":"default","location":"local"}' })).status,
      ).toBe(200);
      expect(
        (await platform("/databases", { method: "POST", body: '{"name":"app","group":"default"}' })).status,
      ).toBe(200);
      const { jwt } = (await (await platform("/databases/app/auth/tokens", { method: "POST" })).json()) as {
        jwt: string;
      };
      const db = createClient({ url: `${url}/db/app/`, authToken: jwt });
      await db.execute("CREATE TABLE t (x INTEGER)");
      await db.execute({ sql: "INSERT INTO t VALUES (?)", args: [42] });
      expect((await db.execute("SELECT x FROM t")).rows[0]?.x).toBe(42);
      db.close();

      // Another process revokes the API token; the server sees it at once (they share the data directory).
      expect((await cli("api-tokens", "revoke", "ci")).code).toBe(0);
      expect((await platform("/groups")).status).toBe(401);
    } finally {
      server.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses a bad --port cleanly", async () => {
    const r = await runCli(["--data-dir", path.join(tempDir(), "data"), "serve", "--port", "http"]);
    expect(r.code).toBe(2); // INVALID_ARGUMENT (see cli/errors.ts)
    expect(r.stderr).toMatch(/^Error: --port must be a port number/);
  });
});
