import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type Harness, rejection, startHarness } from "./harness.js";

/**
 * The Platform API through the real `@tursodatabase/api` client, as a lifecycle: groups, a schema database
 * and its children, configuration, tokens and rotation — and the tokens it mints work on the data plane.
 */

let h: Harness;
let api: ReturnType<Harness["platform"]>;

beforeAll(async () => {
  h = await startHarness({ org: "acme" });
  api = h.platform();
});

afterAll(() => h.close());

/** The SDK has no configuration methods, so these go over raw HTTP. */
async function configuration(db: string, patch?: Record<string, unknown>) {
  const res = await h.fetch(`/v1/organizations/acme/databases/${db}/configuration`, {
    method: patch ? "PATCH" : "GET",
    headers: { ...bearer(h.apiToken), "content-type": "application/json" },
    body: patch ? JSON.stringify(patch) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("organizations and locations", () => {
  it("lists the one organization and location", async () => {
    expect((await api.organizations.list()).map((o) => o.slug)).toEqual(["acme"]);
    expect(await api.locations.list()).toEqual([{ code: "local", description: "This machine" }]);
  });
});

describe("groups", () => {
  it("creates, lists, gets and deletes groups", async () => {
    const created = await api.groups.create("prod", "local");
    expect(created).toMatchObject({ name: "prod", primary: "local", locations: ["local"] });
    await api.groups.create("scratch", "local");
    expect((await api.groups.list()).map((g) => g.name)).toEqual(["prod", "scratch"]);
    expect((await api.groups.get("prod")).name).toBe("prod");

    expect((await api.groups.delete("scratch")).name).toBe("scratch");
    const gone = await rejection(api.groups.get("scratch"));
    expect(gone.status).toBe(404);
    expect(gone.message).toMatch(/group "scratch" not found/);
  });

  it("refuses a duplicate group with 409", async () => {
    const dup = await rejection(api.groups.create("prod", "local"));
    expect(dup.status).toBe(409);
  });
});

describe("databases", () => {
  it("creates a schema database and its children", async () => {
    const parent = await api.databases.create("app", { group: "prod", is_schema: true });
    expect(parent).toMatchObject({ name: "app", hostname: `127.0.0.1:${h.server.port}/db/app/` });
    expect(parent.id).toMatch(/^[0-9a-f-]{36}$/);
    await api.databases.create("tenant-a", { group: "prod", schema: "app" });
    await api.databases.create("tenant-b", { schema: "app" });
    await api.databases.create("plain", { group: "prod" });

    const app = await api.databases.get("app");
    expect(app).toMatchObject({ name: "app", group: "prod", is_schema: true, type: "schema", schema: null });
    const child = await api.databases.get("tenant-b");
    expect(child).toMatchObject({ group: "prod", is_schema: false, schema: "app", allow_attach: false });
  });

  it("lists databases with the group, schema and type filters", async () => {
    const names = async (opts?: Parameters<typeof api.databases.list>[0]) =>
      (await api.databases.list(opts)).map((d) => d.name);
    expect(await names()).toEqual(["app", "plain", "tenant-a", "tenant-b"]);
    expect(await names({ group: "prod" })).toEqual(["app", "plain", "tenant-a", "tenant-b"]);
    expect(await names({ schema: "app" })).toEqual(["tenant-a", "tenant-b"]);
    expect(await names({ type: "schema" })).toEqual(["app"]);
    expect((await rejection(names({ group: "nope" }))).status).toBe(404);
  });

  it("refuses bad and duplicate databases", async () => {
    expect((await rejection(api.databases.create("plain", { group: "prod" }))).status).toBe(409);
    expect((await rejection(api.databases.create("Bad Name", { group: "prod" }))).status).toBe(400);
    expect((await rejection(api.databases.create("orphan", { group: "missing" }))).status).toBe(404);
    expect((await rejection(api.databases.create("orphan", { schema: "plain" }))).status).toBe(400);
    expect((await rejection(api.databases.create("no-group"))).status).toBe(400);
    expect((await rejection(api.databases.get("nope"))).status).toBe(404);
  });

  it("reads and patches the configuration", async () => {
    expect(await configuration("plain")).toEqual({
      status: 200,
      body: {
        allow_attach: false,
        block_reads: false,
        block_writes: false,
        delete_protection: false,
        size_limit: "",
      },
    });
    const patched = await configuration("plain", { allow_attach: true, block_writes: true });
    expect(patched.body).toMatchObject({ allow_attach: true, block_reads: false, block_writes: true });
    expect(await api.databases.get("plain")).toMatchObject({ allow_attach: true, block_writes: true });
    expect((await configuration("plain", { block_reads: "yes" })).status).toBe(400);
    expect((await configuration("nope", { block_reads: true })).status).toBe(404);
  });

  it("refuses to delete a schema database with children, then deletes in order", async () => {
    await api.databases.create("doomed", { group: "prod", is_schema: true });
    await api.databases.create("doomed-child", { schema: "doomed" });
    const refused = await rejection(api.databases.delete("doomed"));
    expect(refused.status).toBe(400);
    expect(refused.message).toMatch(/still has 1 child database/);
    expect(await api.databases.delete("doomed-child")).toEqual({ database: "doomed-child" });
    expect(await api.databases.delete("doomed")).toEqual({ database: "doomed" });
    expect((await rejection(api.databases.delete("doomed"))).status).toBe(404);
  });
});

describe("tokens", () => {
  const client = (db: string, authToken: string) => createClient({ url: h.dbUrl(db), authToken });

  it("mints database tokens that work on the data plane, with their rights", async () => {
    const { jwt } = await api.databases.createToken("app", {
      expiration: "2w",
      authorization: "full-access",
    });
    const parent = client("app", jwt);
    await parent.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    parent.close();

    const childToken = (await api.databases.createToken("tenant-a")).jwt;
    const child = client("tenant-a", childToken);
    await child.execute("INSERT INTO notes (body) VALUES ('hi')");
    expect((await child.execute("SELECT body FROM notes")).rows.map((r) => r.body)).toEqual(["hi"]);
    child.close();

    const readOnly = client(
      "tenant-a",
      (await api.databases.createToken("tenant-a", { authorization: "read-only" })).jwt,
    );
    expect((await rejection(readOnly.execute("DELETE FROM notes"))).code).toBe("PERMISSION_DENIED");
    readOnly.close();
  });

  it("mints group tokens and tokens that may attach", async () => {
    const group = (await api.groups.createToken("prod", { authorization: "read-only" })).jwt;
    const b = client("tenant-b", group);
    expect((await b.execute("SELECT count(*) AS n FROM notes")).rows[0]?.n).toBe(0);
    b.close();

    const attach = await api.databases.createToken("tenant-a", {
      permissions: { read_attach: { databases: ["plain"] } },
    });
    const a = client("tenant-a", attach.jwt);
    const rs = await a.execute('ATTACH "plain" AS plain; SELECT count(*) AS n FROM plain.sqlite_schema');
    expect(rs.rows[0]?.n).toBe(0);
    a.close();
  });

  it("refuses bad token requests", async () => {
    const status = async (p: Promise<unknown>) => (await rejection(p)).status;
    expect(await status(api.databases.createToken("tenant-a", { expiration: "soon" }))).toBe(400);
    expect(await status(api.databases.createToken("nope"))).toBe(404);
    expect(await status(api.groups.createToken("nope"))).toBe(404);
    // A database outside the token's group cannot be granted for attach.
    await api.groups.create("other", "local");
    await api.databases.create("elsewhere", { group: "other" });
    expect(
      await status(
        api.databases.createToken("tenant-a", { permissions: { read_attach: { databases: ["elsewhere"] } } }),
      ),
    ).toBe(400);
  });

  it("rotation invalidates every token of the group", async () => {
    const before = (await api.databases.createToken("tenant-b")).jwt;
    const db = client("tenant-b", before);
    await db.execute("SELECT 1");
    await api.databases.rotateTokens("tenant-b");
    expect((await rejection(db.execute("SELECT 1"))).code).toBe("AUTH_JWT_INVALID");
    db.close();

    const after = (await api.databases.createToken("tenant-b")).jwt;
    const fresh = client("tenant-b", after);
    await fresh.execute("SELECT 1");
    await api.groups.rotateTokens("prod");
    expect((await rejection(fresh.execute("SELECT 1"))).code).toBe("AUTH_JWT_INVALID");
    fresh.close();
  });
});

describe("API tokens", () => {
  it("mints, lists, validates and revokes API tokens", async () => {
    const minted = await api.apiTokens.create("ci");
    expect(minted).toMatchObject({ name: "ci", id: "ci" });
    expect(minted.token).toMatch(/^tdb_/);
    expect((await api.apiTokens.list()).map((t) => t.name)).toEqual(["ci", "tests"]);

    const validation = await h.fetch("/v1/auth/validate", { headers: bearer(minted.token) });
    expect(await validation.json()).toEqual({ exp: -1 });

    const ci = h.platform(minted.token);
    expect((await ci.groups.list()).length).toBeGreaterThan(0);
    expect(await api.apiTokens.revoke("ci")).toEqual({ token: "ci" });
    expect((await rejection(ci.groups.list())).status).toBe(401);
    expect((await rejection(api.apiTokens.revoke("ci"))).status).toBe(404);
  });

  it("answers only for its own organization", async () => {
    const res = await h.fetch("/v1/organizations/other-org/groups", { headers: bearer(h.apiToken) });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/organization "other-org" not found/);
  });
});
