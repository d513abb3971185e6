import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, TokenRequest } from "../../provider/backends/backend.js";
import { platformBackend } from "../../provider/backends/platform.js";
import { rejectsWith } from "../helpers.js";
import { startHarness } from "../server/harness.js";
import { BACKENDS, ensureBuilt, type Fleet, grpcError, Plugin, secret, urnOf } from "./harness.js";

/**
 * What is particular to the Platform API backend: a server that cannot be reached, a refused API token or
 * a wrong organization say so plainly (and the token never shows); and against an API shaped like
 * Turso's, which lacks tenantdb's extension routes, the backend still does what Turso can and says what
 * needs `tenantdb serve` instead of failing as a confusing NOT_FOUND.
 */

const platform = BACKENDS.find((b) => b.name === "platform");
if (!platform) throw new Error("no platform backend in the harness");

describe("the Platform API backend through the plugin", () => {
  let plugin: Plugin;
  let fleet: Fleet;

  beforeAll(async () => {
    ensureBuilt();
    plugin = await Plugin.start();
    fleet = await platform.open(plugin);
  });

  afterAll(async () => {
    await plugin?.stop();
    await fleet?.close();
  });

  const createGroup = (name: string) => plugin.create(urnOf("Group", name), { name, location: "local" });

  it("checks the configuration: an http(s) URL without credentials, and all three settings", async () => {
    const failures = async (config: Record<string, unknown>) =>
      (await plugin.checkConfig(config)).failures.map((f) => `${f.property}: ${f.reason}`);
    expect(await failures({ url: "https://user:pw@api.example", apiToken: "t", organization: "o" })).toEqual([
      "url: must not carry credentials; the API token goes in `apiToken`",
    ]);
    expect(await failures({ url: "not a url", apiToken: "t", organization: "o" })).toEqual([
      'url: must be an http:// or https:// URL, not "not a url"',
    ]);
    expect(await failures({ url: "http://127.0.0.1:1" })).toEqual([
      "apiToken: is required with `url`",
      "organization: is required with `url`",
    ]);
  });

  it("reports a server it cannot reach, naming the URL, in the preview already", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const { port } = closed.address() as AddressInfo;
    await new Promise((r) => closed.close(r));

    await plugin.configure({
      url: `http://127.0.0.1:${port}/`,
      apiToken: secret("tdb_x"),
      organization: "o",
    });
    // The preview of a create asks whether the name is taken (so it fails as `up` would), and says why not.
    const previewed = plugin.create(urnOf("Group", "g"), { name: "g", location: "local" }, true);
    expect(await grpcError(previewed, "FAILED_PRECONDITION")).toMatch(/^cannot reach the Platform API at /);
    const message = await grpcError(createGroup("g"), "FAILED_PRECONDITION");
    expect(message).toMatch(new RegExp(`^cannot reach the Platform API at http://127\\.0\\.0\\.1:${port}: `));
  });

  it("says when the API token is refused, without ever showing it", async () => {
    const wrong = `${fleet.credential}-but-wrong`;
    await plugin.configure({ ...fleet.config, apiToken: secret(wrong) });
    const message = await grpcError(createGroup("g"), "UNAUTHENTICATED");
    expect(message).toMatch(/refused the API token \(`apiToken`\): invalid API token/);
    expect(message).not.toContain(wrong);
    expect(plugin.stderr).not.toContain(wrong);
  });

  it("says when the organization is wrong rather than reporting every resource as gone", async () => {
    await plugin.configure({ ...fleet.config, organization: "elsewhere" });
    const read = plugin.read(urnOf("Group", "g"), "g", { name: "g", location: "local" });
    expect(await grpcError(read, "FAILED_PRECONDITION")).toMatch(
      /organization "elsewhere" was not found at the Platform API at http:\/\/127\.0\.0\.1:\d+/,
    );
  });

  it("passes the server's errors through with the engine's codes and messages", async () => {
    await plugin.configure(fleet.config);
    await createGroup("taken");
    expect(await grpcError(createGroup("taken"), "ALREADY_EXISTS")).toBe('group "taken" already exists');
    const missing = plugin.create(urnOf("Database", "d"), {
      name: "d",
      group: "nope",
      blockReads: false,
      blockWrites: false,
    });
    expect(await grpcError(missing, "NOT_FOUND")).toMatch(/group "nope" not found/);
    expect(plugin.stderr).not.toContain(fleet.credential);
  });
});

// ── an API shaped like Turso's ──────────────────────────────────────────────────────────────────────

const TOKEN = "turso-api-token-do-not-print";
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
/** Turso's tokens carry no `jti`; this one expires at a known time. */
const TURSO_JWT = `${b64({ alg: "EdDSA", typ: "JWT" })}.${b64({ a: "rw", exp: 2_000_000_000 })}.c2ln`;

type Reply = [number, unknown];

/** The routes Turso has (with its shapes), and Go's plain 404 for everything else. */
function tursoRoute(method: string, url: URL): Reply | undefined {
  const org = "/v1/organizations/acme";
  const route = `${method} ${url.pathname}`;
  if (route === `GET ${org}`) return [200, { organization: { slug: "acme" } }];
  if (route === `POST ${org}/groups`) return [409, { error: "group already exists" }];
  if (route === `GET ${org}/groups/eu`)
    return [200, { group: { name: "eu", primary: "fra", locations: ["fra"] } }];
  if (route === `POST ${org}/databases`)
    return [200, { database: { Name: "orders", DbId: "1", Hostname: "h" } }];
  if (route === `GET ${org}/databases/orders`) {
    return [200, { database: { Name: "orders", group: "eu", block_reads: false, block_writes: true } }];
  }
  if (route === `GET ${org}/databases/orders/configuration`) {
    return [200, { allow_attach: true, block_reads: false, block_writes: true }];
  }
  if (route === `GET ${org}/databases/ghost`) return [404, { error: "database not found" }];
  if (route === `POST ${org}/databases/orders/auth/tokens`) return [200, { jwt: TURSO_JWT }];
  if (route === `GET ${org}/databases`) {
    // Two pages, as Turso pages long lists.
    const second = url.searchParams.get("cursor") === "page-2";
    return [200, { databases: [{ Name: second ? "b" : "a" }], pagination: second ? {} : { next: "page-2" } }];
  }
  if (route === `DELETE ${org}/databases/flaky`) return [503, { error: `upstream down for ${TOKEN}` }];
  return undefined;
}

describe("the Platform API backend against an API shaped like Turso's", () => {
  let server: http.Server;
  let backend: Backend;
  const seen: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      seen.push(`${req.method} ${url.pathname} ${req.headers.authorization === `Bearer ${TOKEN}`}`);
      req.resume();
      const reply = tursoRoute(req.method ?? "GET", url);
      if (!reply) {
        res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
        return;
      }
      res.writeHead(reply[0], { "content-type": "application/json" }).end(JSON.stringify(reply[1]));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    // A base URL as Turso's client settings write it, with `/v1/`.
    backend = platformBackend({ url: `http://127.0.0.1:${port}/v1/`, apiToken: TOKEN, organization: "acme" });
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it("reads groups and databases in Turso's shapes, taking allow_attach from the configuration", async () => {
    expect(await backend.getGroup("eu")).toEqual({ name: "eu", location: "fra", databases: 2 });
    expect(await backend.createDatabase("orders", { group: "eu", type: "standard" })).toEqual({
      name: "orders",
      group: "eu",
      type: "standard",
      schemaParent: null,
      schemaVersion: 0,
      allowAttach: true,
      blockReads: false,
      blockWrites: true,
    });
    expect(await backend.getDatabase("ghost")).toBeNull();
    expect(await backend.countChildren("app")).toBe(2);
    expect(seen.every((s) => s.endsWith(" true"))).toBe(true);
  });

  it("maps Turso's statuses to the engine's codes, and keeps the API token out of messages", async () => {
    expect(await rejectsWith(backend.createGroup("eu", "fra"), "ALREADY_EXISTS")).toBe(
      "group already exists",
    );
    const failed = await rejectsWith(backend.destroyDatabase("flaky"), "INTERNAL");
    expect(failed).toMatch(/failed \(HTTP 503\): upstream down for <apiToken>/);
    expect(failed).not.toContain(TOKEN);
  });

  it("reads a token's id and expiry from its payload when the API returns the JWT alone", async () => {
    const req: TokenRequest = {
      database: "orders",
      authorization: "full-access",
      expiration: "never",
      attach: [],
    };
    const first = await backend.createToken(req);
    expect(first).toMatchObject({ jwt: TURSO_JWT, expiresAt: 2_000_000_000 });
    expect(first.jti).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await backend.createToken(req)).jti).toBe(first.jti);
  });

  it("says that migrations and single tokens need tenantdb serve, instead of NOT_FOUND", async () => {
    const needs = /needs tenantdb serve: .*has no route for .*; Turso's Platform API has no such route/;
    expect(await rejectsWith(backend.listMigrations("app"), "FAILED_PRECONDITION")).toMatch(needs);
    expect(await rejectsWith(backend.applyMigrations("app", ["SELECT 1"]), "FAILED_PRECONDITION")).toMatch(
      /^managing a SchemaDatabase's migrations needs tenantdb serve/,
    );
    expect(await rejectsWith(backend.revokeToken("abc"), "FAILED_PRECONDITION")).toMatch(
      /^revoking a single token \(deleting a Token\) needs tenantdb serve/,
    );
    expect(await rejectsWith(backend.checkToken(TURSO_JWT, "eu"), "FAILED_PRECONDITION")).toMatch(needs);
    // A new schema database's preview needs no server at all.
    expect(await backend.previewNewMigrations(["CREATE TABLE t (x)", "CREATE INDEX i ON nope (x)"])).toEqual({
      migration: 2,
      error: expect.stringMatching(/no such table/),
    });
  });
});

describe("the Platform API backend against tenantdb serve", () => {
  it("counts a schema database's children and a group's databases with the server's counts, never a list", async () => {
    const seen: string[] = [];
    const h = await startHarness({ requestLog: (line) => seen.push(line) });
    const { engine, server } = h;
    try {
      engine.createGroup("default");
      engine.createGroup("few");
      await engine.createDatabase("parent", { type: "schema" });
      await engine.createChildren(
        "parent",
        Array.from({ length: 120 }, (_, i) => `t-${i}`),
      );
      await engine.createDatabase("lone", { group: "few" });
      engine.destroyDatabases(["t-3", "t-77"]);
      const backend = platformBackend({ url: server.url, apiToken: h.apiToken, organization: server.org });

      // The truth from the catalog file itself, not from what the engine reports.
      const catalog = new Database(path.join(h.dataDir, "catalog.db"), { readonly: true });
      const truth = (sql: string) => catalog.prepare(sql).pluck().get() as number;
      const children = truth(
        "SELECT count(*) FROM databases WHERE parent_id = (SELECT id FROM databases WHERE name = 'parent')",
      );
      const inDefault = truth(
        "SELECT count(*) FROM databases WHERE group_id = (SELECT id FROM groups WHERE name = 'default')",
      );
      catalog.close();
      expect([children, inDefault]).toEqual([118, 119]);

      seen.length = 0;
      expect(await backend.countChildren("parent")).toBe(children);
      expect((await backend.getGroup("default"))?.databases).toBe(inDefault);
      expect((await backend.getGroup("few"))?.databases).toBe(1);
      await server.close(); // the request log is written in batches: closing flushes it
      const listings = seen.filter((line) => /^GET \S*\/databases[?\s]/.test(line));
      expect(listings.length).toBeGreaterThanOrEqual(3);
      for (const line of listings) expect(line).toMatch(/[?&]count=true/);
    } finally {
      await h.close();
    }
  }, 60_000);
});
