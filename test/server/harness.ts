import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient as createLibsqlClient } from "@libsql/client";
import { createClient as createPlatformClient } from "@tursodatabase/api";
import { type Engine, openEngine } from "../../engine/index.js";
import { type RunningServer, type ServerOptions, startServer } from "../../server/index.js";

/**
 * A real server on a free port over a real engine in a temporary data directory, with an API token, and
 * the two real clients pointed at it.
 */
export interface Harness {
  engine: Engine;
  server: RunningServer;
  dataDir: string;
  apiToken: string;
  /** The client URL of a database: `http://127.0.0.1:PORT/db/<name>/`. */
  dbUrl(name: string): string;
  libsql(name: string, authToken: string): ReturnType<typeof createLibsqlClient>;
  platform(token?: string): ReturnType<typeof createPlatformClient>;
  /** Raw HTTP against the server, for what the clients never send. */
  fetch(pathname: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(opts: ServerOptions = {}): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-server-"));
  const engine = await openEngine(dataDir, { workers: 2 });
  const server = await startServer(engine, { port: 0, log: () => {}, ...opts });
  const { token: apiToken } = engine.mintApiToken("tests");
  const clients: { close(): void }[] = [];
  return {
    engine,
    server,
    dataDir,
    apiToken,
    dbUrl: (name) => `${server.url}/db/${name}/`,
    libsql(name, authToken) {
      const client = createLibsqlClient({ url: `${server.url}/db/${name}/`, authToken, intMode: "bigint" });
      clients.push(client);
      return client;
    },
    platform: (token = apiToken) =>
      createPlatformClient({ org: server.org, token, baseUrl: `${server.url}/v1/` }),
    fetch: (pathname, init) => fetch(`${server.url}${pathname}`, init),
    async close() {
      for (const c of clients) c.close();
      await server.close();
      engine.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The error a promise rejects with, failing the test if it resolves. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; status?: number }> {
  try {
    await promise;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error("expected a rejection, but the promise resolved");
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
