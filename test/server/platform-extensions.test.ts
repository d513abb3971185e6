import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type Harness, startHarness } from "./harness.js";

/**
 * tenantdb's own Platform API routes, which Turso's API lacks and the provider's Platform API backend
 * needs: a schema database's migrations (list, preview, apply) and single tokens (revoke, validate).
 */

const NOTES = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)";
const UNIQUE_BODY = "CREATE UNIQUE INDEX notes_body ON notes (body)";
const TAGS = "ALTER TABLE notes ADD COLUMN tags TEXT";

let h: Harness;
const org = "/v1/organizations/local";

beforeAll(async () => {
  h = await startHarness();
  h.engine.createGroup("fleet");
  await h.engine.createDatabase("app", { group: "fleet", type: "schema" });
  await h.engine.createDatabase("plain", { group: "fleet" });
});

afterAll(() => h.close());

/** A JSON call with the API token (unless `token` says otherwise); returns status and parsed body. */
async function call(method: string, path: string, body?: unknown, token: string | null = h.apiToken) {
  const res = await h.fetch(`${org}${path}`, {
    method,
    headers: { ...(token === null ? {} : bearer(token)), "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the extension routes", () => {
  it("need an API token like every Platform route", async () => {
    const routes: [string, string][] = [
      ["GET", "/databases/app/migrations"],
      ["POST", "/databases/app/migrations"],
      ["POST", "/databases/app/migrations/preview"],
      ["POST", "/auth/tokens/revoke"],
      ["POST", "/groups/fleet/auth/tokens/validate"],
    ];
    for (const [method, path] of routes) {
      const body = method === "POST" ? { migrations: [NOTES], jti: "abcdefgh1234", jwt: "x" } : undefined;
      expect((await call(method, path, body, null)).status, `${method} ${path}`).toBe(401);
      expect((await call(method, path, body, "tdb_wrong")).status, `${method} ${path}`).toBe(401);
    }
    // Nothing ran: the schema database is still at version 0.
    expect(h.engine.getDatabase("app").schemaVersion).toBe(0);
  });

  it("answer 404 for a database or group that does not exist, and 400 for a database that is not a schema database", async () => {
    const missing = await call("GET", "/databases/nope/migrations");
    expect(missing).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    expect(missing.body.error).toMatch(/database "nope" not found/);
    expect((await call("POST", "/databases/nope/migrations", { migrations: [NOTES] })).status).toBe(404);
    expect((await call("POST", "/groups/nope/auth/tokens/validate", { jwt: "a.b.c" })).status).toBe(404);
    const standard = await call("GET", "/databases/plain/migrations");
    expect(standard).toMatchObject({ status: 400, body: { code: "FAILED_PRECONDITION" } });
    expect(standard.body.error).toMatch(/"plain" is not a schema database/);
  });

  it("refuse a body without a list of migrations", async () => {
    for (const body of [undefined, {}, { migrations: "x" }, { migrations: [1] }]) {
      const res = await call("POST", "/databases/app/migrations", body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/"migrations" is required/);
    }
  });
});

describe("migrations", () => {
  it("applies the pending tail as one job, idempotently, and lists what was applied", async () => {
    expect(await call("GET", "/databases/app/migrations")).toEqual({
      status: 200,
      body: { schema_version: 0, migrations: [] },
    });
    const first = await call("POST", "/databases/app/migrations", { migrations: [NOTES] });
    expect(first).toMatchObject({ status: 200, body: { schema_version: 1, job_id: expect.any(Number) } });
    const again = await call("POST", "/databases/app/migrations", { migrations: [NOTES] });
    expect(again).toEqual({ status: 200, body: { schema_version: 1, job_id: null } });

    const listed = await call("GET", "/databases/app/migrations");
    expect(listed.body).toEqual({
      schema_version: 1,
      migrations: [
        {
          version: 1,
          sql: NOTES,
          checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
          job_id: first.body.job_id,
          applied_at: expect.any(Number),
        },
      ],
    });
  });

  it("refuses to edit an applied migration, keeping the engine's message", async () => {
    const res = await call("POST", "/databases/app/migrations", { migrations: ["CREATE TABLE other (x)"] });
    expect(res).toMatchObject({ status: 400, body: { code: "FAILED_PRECONDITION" } });
    expect(res.body.error).toMatch(/migration 1 has already been applied and cannot be edited/);
  });

  it("previews new migrations on every database, naming the tenant where one would fail, and changes nothing", async () => {
    for (const t of ["acme", "globex"]) {
      await h.engine.createDatabase(t, { group: "fleet", schemaParent: "app" });
    }
    await h.engine.execute("globex", "INSERT INTO notes (body) VALUES ('same'), ('same')");

    const ok = await call("POST", "/databases/app/migrations/preview", { migrations: [NOTES, TAGS] });
    expect(ok).toEqual({ status: 200, body: { databases: 3, failed: 0, failures: [] } });
    const none = await call("POST", "/databases/app/migrations/preview", { migrations: [NOTES] });
    expect(none.body).toEqual({ databases: 0, failed: 0, failures: [] });

    const bad = await call("POST", "/databases/app/migrations/preview", { migrations: [NOTES, UNIQUE_BODY] });
    expect(bad).toEqual({
      status: 200,
      body: {
        databases: 3,
        failed: 1,
        failures: [{ database: "globex", error: expect.stringMatching(/UNIQUE constraint failed/) }],
      },
    });
    expect(h.engine.getDatabase("app").schemaVersion).toBe(1);
  });

  it("applying a migration that fails on one tenant changes nothing and names it", async () => {
    const res = await call("POST", "/databases/app/migrations", { migrations: [NOTES, UNIQUE_BODY] });
    expect(res).toMatchObject({ status: 400, body: { code: "FAILED_PRECONDITION" } });
    expect(res.body.error).toMatch(/globex/);
    for (const db of ["app", "acme", "globex"]) expect(h.engine.getDatabase(db).schemaVersion).toBe(1);
    expect((await call("GET", "/databases/app/migrations")).body.schema_version).toBe(1);
  });
});

describe("single tokens", () => {
  const mint = async (path: string) => {
    const res = await call("POST", `${path}/auth/tokens?expiration=1h&authorization=read-only`, {});
    expect(res.status).toBe(200);
    return res.body as { jwt: string; jti: string; expires_at: number | null };
  };
  const validate = (jwt: string, database?: string) =>
    call("POST", "/groups/fleet/auth/tokens/validate", { jwt, database });

  it("validates a token, revokes it by jti while another keeps working, and revoking again is harmless", async () => {
    const one = await mint("/databases/acme");
    const two = await mint("/groups/fleet");
    expect(one.expires_at).toBeGreaterThan(Date.now() / 1000);
    expect(await validate(one.jwt, "acme")).toEqual({
      status: 200,
      body: { valid: true, expires_at: one.expires_at },
    });

    expect(await call("POST", "/auth/tokens/revoke", { jti: one.jti })).toEqual({
      status: 200,
      body: { jti: one.jti },
    });
    expect((await call("POST", "/auth/tokens/revoke", { jti: one.jti })).status).toBe(200);
    expect(await validate(one.jwt, "acme")).toEqual({
      status: 200,
      body: { valid: false, reason: "revoked" },
    });
    expect((await validate(two.jwt)).body.valid).toBe(true);

    // The token itself also names what to revoke.
    expect((await call("POST", "/auth/tokens/revoke", { jwt: two.jwt })).body).toEqual({ jti: two.jti });
    expect((await validate(two.jwt)).body).toEqual({ valid: false, reason: "revoked" });
  });

  it("says why a token is not good instead of failing, and refuses bad requests with 400", async () => {
    const garbage = await validate("not.a.token");
    expect(garbage.status).toBe(200);
    expect(garbage.body).toMatchObject({ valid: false, reason: expect.stringMatching(/The JWT is invalid/) });

    // A database destroyed and created again under its name is another database.
    const old = await mint("/databases/plain");
    h.engine.destroyDatabase("plain");
    await h.engine.createDatabase("plain", { group: "fleet" });
    expect((await validate(old.jwt, "plain")).body).toEqual({
      valid: false,
      reason: "its database no longer exists",
    });

    expect((await call("POST", "/groups/fleet/auth/tokens/validate", {})).status).toBe(400);
    expect((await call("POST", "/auth/tokens/revoke", {})).status).toBe(400);
    // A malformed token in the body is a bad request, not a failed API token (which 401 would mean).
    expect((await call("POST", "/auth/tokens/revoke", { jwt: "x.y.z" })).status).toBe(400);
  });
});

describe("fleet routes", () => {
  it("count databases without listing them, and create children in one burst, all or none", async () => {
    await h.engine.createDatabase("fleet-parent", { group: "fleet", type: "schema" });
    const made = await call("POST", "/databases/fleet-parent/children", { names: ["f-1", "f-2", "f-3"] });
    expect(made.status).toBe(200);
    expect((made.body.databases as { Name: string }[]).map((d) => d.Name)).toEqual(["f-1", "f-2", "f-3"]);
    expect(h.engine.listDatabases({ schemaParent: "fleet-parent" }).map((d) => d.name)).toEqual([
      "f-1",
      "f-2",
      "f-3",
    ]);

    // One name taken: nothing of the burst is created.
    const clash = await call("POST", "/databases/fleet-parent/children", { names: ["f-4", "f-2"] });
    expect(clash).toMatchObject({ status: 409, body: { code: "ALREADY_EXISTS" } });
    expect(h.engine.countDatabases({ schemaParent: "fleet-parent" })).toBe(3);
    expect((await call("POST", "/databases/fleet-parent/children", { names: "f-5" })).status).toBe(400);
    expect((await call("POST", "/databases/nope/children", { names: ["f-6"] })).status).toBe(404);

    // Destroying in the same route: only the parent's own children, all or none, and gone names skipped.
    const stranger = await call("POST", "/databases/fleet-parent/children", { destroy: ["f-1", "plain"] });
    expect(stranger).toMatchObject({ status: 400, body: { code: "FAILED_PRECONDITION" } });
    expect(h.engine.getDatabase("plain").name).toBe("plain");
    expect(h.engine.countDatabases({ schemaParent: "fleet-parent" })).toBe(3);
    const swap = await call("POST", "/databases/fleet-parent/children", {
      destroy: ["f-3", "never-existed"],
      names: ["f-4"],
    });
    expect(swap.status).toBe(200);
    expect(h.engine.listDatabases({ schemaParent: "fleet-parent" }).map((d) => d.name)).toEqual([
      "f-1",
      "f-2",
      "f-4",
    ]);
    expect(h.engine.listDatabases().some((d) => d.name === "f-3")).toBe(false);

    const children = await call("GET", "/databases?schema=fleet-parent&count=true");
    expect(children).toMatchObject({ status: 200, body: { count: 3 } });
    expect(children.body.databases).toBeUndefined();
    const group = await call("GET", "/databases?group=fleet&count=true");
    expect(group.body.count).toBe(h.engine.listDatabases({ group: "fleet" }).length);
    expect((await call("GET", "/databases?count=true&type=schema")).status).toBe(400);
  });
});
