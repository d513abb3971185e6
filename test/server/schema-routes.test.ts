import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type Harness, startHarness } from "./harness.js";

/** The declarative-schema extension routes: plan (changes nothing) and apply (one job, all or none). */

let h: Harness;
const org = "/v1/organizations/local";

beforeAll(async () => {
  h = await startHarness();
  h.engine.createGroup("fleet");
  await h.engine.createDatabase("app", { group: "fleet", type: "schema" });
  await h.engine.migrate("app", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, old TEXT)");
  await h.engine.createChildren("app", ["t-1", "t-2"]);
  await h.engine.execute("t-2", "INSERT INTO notes (body) VALUES (NULL)");
});

afterAll(() => h.close());

async function call(path: string, body?: unknown, token: string | null = h.apiToken) {
  const res = await h.fetch(`${org}${path}`, {
    method: "POST",
    headers: { ...(token === null ? {} : bearer(token)), "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("schema routes", () => {
  it("need an API token and a schema", async () => {
    expect((await call("/databases/app/schema/plan", { schema: "" }, null)).status).toBe(401);
    for (const body of [{}, { schema: 1 }, { schema: "CREATE TABLE x (y)", renames: ["a"] }]) {
      expect((await call("/databases/app/schema/plan", body)).status).toBe(400);
    }
    expect((await call("/databases/nope/schema/plan", { schema: "CREATE TABLE x (y)" })).status).toBe(404);
    expect((await call("/databases/app/schema/plan", { schema: "DROP TABLE notes" })).status).toBe(400);
  });

  it("plan names the failing tenant and changes nothing; apply refuses destruction, then applies once", async () => {
    const failing = await call("/databases/app/schema/plan", {
      schema: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, old TEXT)",
    });
    expect(failing.status).toBe(200);
    expect(failing.body.dry_run).toMatchObject({ failed: 1, failures: [{ database: "t-2" }] });
    expect(h.engine.getDatabase("app").schemaVersion).toBe(1);

    const desired = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, tags TEXT)";
    const plan = await call("/databases/app/schema/plan", { schema: desired });
    expect(plan.body.statements).toEqual([
      'ALTER TABLE "notes" ADD COLUMN tags TEXT',
      'ALTER TABLE "notes" DROP COLUMN "old"',
    ]);
    expect(plan.body.destructive).toBe(true);
    const refused = await call("/databases/app/schema", { schema: desired });
    expect(refused.status).toBe(400);
    expect(String(refused.body.error)).toMatch(/destructive/);
    const stale = await call("/databases/app/schema", {
      schema: desired,
      allow_destructive: true,
      expect_checksum: "0".repeat(64),
    });
    expect(stale.status).toBe(409);
    const applied = await call("/databases/app/schema", {
      schema: desired,
      allow_destructive: true,
      expect_checksum: plan.body.checksum,
    });
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({ schema_version: 2, job_id: expect.any(Number) });
    const again = await call("/databases/app/schema", { schema: desired });
    expect(again.body).toMatchObject({ schema_version: 2, job_id: null });
    expect(h.engine.showSchema("t-1")).toBe(h.engine.showSchema("app"));
  });
});
