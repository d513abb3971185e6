import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { rejectsWith } from "../helpers.js";
import { CHILDREN, differencesFrom, fileOf, fleetWith, onFile, rowsOf } from "./schema-fleet.js";

const CURRENT = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)";
const seed = (c: string, i: number) =>
  i === 1 ? `INSERT INTO t (a, b) VALUES ('${c}', NULL)` : `INSERT INTO t (a, b) VALUES ('${c}', 'b')`;

describe("declarative schemas: what is refused, and what is reported", () => {
  it("a plan failing on one tenant's rows fails at plan time naming the tenant, and apply changes nothing", async () => {
    const engine = await fleetWith(CURRENT, seed);
    const desired = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT NOT NULL)";
    const plan = await engine.planSchema("app", desired);
    expect(plan.lint.map((f) => f.code)).toEqual(expect.arrayContaining(["MF104", "RB101"]));
    expect(plan.dryRun?.failed).toBe(1);
    expect(plan.dryRun?.failures).toEqual([
      { database: "tenant-b", error: expect.stringMatching(/NOT NULL constraint failed: .*b/) },
    ]);
    const files = ["app", ...CHILDREN].map((n) => fileOf(engine, n));
    const bytes = files.map((f) => fs.readFileSync(f));
    const message = await rejectsWith(engine.applySchema("app", desired), "FAILED_PRECONDITION");
    expect(message).toMatch(/tenant-b/);
    expect(message).toMatch(/nothing was changed/);
    expect(files.map((f) => fs.readFileSync(f))).toEqual(bytes);
    expect(engine.getDatabase("app").schemaVersion).toBe(1);
    expect(engine.listMigrations("app")).toHaveLength(1);
  });

  it("the rebuild's cost is the rows to copy, per database and over the fleet", async () => {
    const engine = await fleetWith(CURRENT, (c, i) =>
      Array.from({ length: i + 1 }, () => `INSERT INTO t (a, b) VALUES ('${c}', 'b');`).join(""),
    );
    const plan = await engine.planSchema(
      "app",
      "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT)",
      {
        dryRun: false,
      },
    );
    const rebuild = plan.lint.find((f) => f.kind === "rebuild");
    expect(rebuild?.rows).toEqual({ total: 1 + 2 + 3, max: 3, databases: 4 });
  });

  it("destructive changes are refused unless allowed", async () => {
    const engine = await fleetWith(CURRENT, seed);
    const desired = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)";
    const plan = await engine.planSchema("app", desired);
    expect(plan.destructive).toBe(true);
    const message = await rejectsWith(engine.applySchema("app", desired), "FAILED_PRECONDITION");
    expect(message).toMatch(/destructive/);
    expect(message).toMatch(/"t"\."b"/);
    expect(engine.getDatabase("app").schemaVersion).toBe(1);
    expect(engine.listJobs("app")).toHaveLength(1);
    const dropTable = await rejectsWith(
      engine.applySchema("app", "CREATE TABLE other (x)"),
      "FAILED_PRECONDITION",
    );
    expect(dropTable).toMatch(/table "t" is dropped/);
  });

  it("apply refuses a plan other than the one previewed", async () => {
    const engine = await fleetWith(CURRENT, seed);
    const desired = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT)";
    const plan = await engine.planSchema("app", desired);
    await engine.migrate("app", "CREATE TABLE meanwhile (x)");
    const message = await rejectsWith(
      engine.applySchema("app", `${desired}; CREATE TABLE meanwhile (x)`, { expectChecksum: plan.checksum }),
      "CONFLICT",
    );
    expect(message).toMatch(/preview again/);
    expect(engine.getDatabase("app").schemaVersion).toBe(2);
  });

  it("renames only when declared: an undeclared rename is a drop and an add", async () => {
    const engine = await fleetWith(CURRENT, seed);
    const plan = await engine.planSchema("app", "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c TEXT)");
    expect(plan.statements).toEqual(['ALTER TABLE "t" ADD COLUMN c TEXT', 'ALTER TABLE "t" DROP COLUMN "b"']);
    expect(plan.destructive).toBe(true);
    const byOption = await engine.planSchema(
      "app",
      "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c TEXT)",
      {
        renames: { "t.c": "b" },
      },
    );
    expect(byOption.statements).toEqual(['ALTER TABLE "t" RENAME COLUMN "b" TO "c"']);
    expect(byOption.destructive).toBe(false);
    await engine.applySchema("app", "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c TEXT)", {
      renames: { "t.c": "b" },
    });
    expect(rowsOf(fileOf(engine, "tenant-a")).t).toEqual([JSON.stringify({ id: 1, a: "tenant-a", c: "b" })]);
  });

  it("rejects a desired schema that is not a schema, with INVALID_ARGUMENT", async () => {
    const engine = await fleetWith(CURRENT, seed);
    for (const [sql, pattern] of [
      ["CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1)", /CREATE TABLE, CREATE INDEX/],
      ["CREATE TABLE t (id INTEGER PRIMARY KEY); DROP TABLE t", /CREATE TABLE, CREATE INDEX/],
      ["CREATE TABLE t (id INTEGER PRIMARY KEY,)", /statement 1/],
      ["CREATE TABLE t (id); CREATE INDEX i ON missing (x)", /statement 2: no such table/],
      ["CREATE TEMP TABLE t (id)", /temp/],
      ["CREATE TABLE _tenantdb_ (key, value)", /reserved/],
      ["CREATE TABLE c (pid REFERENCES p (id))", /foreign keys/],
      ["CREATE VIRTUAL TABLE f USING fts5 (x)", /CREATE TABLE, CREATE INDEX/],
    ] as const) {
      expect(await rejectsWith(engine.planSchema("app", sql), "INVALID_ARGUMENT"), sql).toMatch(pattern);
    }
    await rejectsWith(engine.planSchema("tenant-a", CURRENT), "FAILED_PRECONDITION");
    await rejectsWith(engine.planSchema("nope", CURRENT), "NOT_FOUND");
    expect(engine.listJobs("app")).toHaveLength(1);
  });

  it("show prints canonical DDL that plans to nothing when declared back", async () => {
    const current = `CREATE TABLE p (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL COLLATE NOCASE UNIQUE,
        score REAL DEFAULT (0.5), CHECK (score >= 0));
      CREATE TABLE c (a INTEGER, b INTEGER, pid INTEGER REFERENCES p (id) ON DELETE CASCADE,
        total INTEGER GENERATED ALWAYS AS (a + b) STORED, PRIMARY KEY (a, b)) WITHOUT ROWID;
      CREATE INDEX c_pid ON c (pid) WHERE pid IS NOT NULL;
      CREATE VIEW v AS SELECT p.name, c.total FROM p JOIN c ON c.pid = p.id`;
    const engine = await fleetWith(current, () => undefined);
    const ddl = engine.showSchema("app");
    expect(ddl).toContain('CREATE TABLE "p"');
    expect(ddl).not.toContain("_tenantdb_");
    expect(differencesFrom(fileOf(engine, "app"), ddl)).toEqual([]);
    expect((await engine.planSchema("app", ddl)).statements).toEqual([]);
    expect(engine.showSchema("tenant-a")).toBe(ddl);
  });

  it("drift names a child whose file was changed outside the engine", async () => {
    const engine = await fleetWith(CURRENT, seed);
    expect(engine.schemaDrift("app")).toEqual({ database: "app", version: 1, databases: 4, drifted: [] });
    onFile(fileOf(engine, "tenant-b"), (db) =>
      db.exec("CREATE INDEX sneaky ON t (a); ALTER TABLE t ADD COLUMN x"),
    );
    onFile(fileOf(engine, "tenant-c"), (db) =>
      db.exec("UPDATE _tenantdb_ SET value = 7 WHERE key = 'schema_version'"),
    );
    const report = engine.schemaDrift("app");
    expect(report.drifted).toEqual([
      {
        database: "tenant-b",
        version: 1,
        expectedVersion: 1,
        differences: ['alter table "t": add column "x"', 'create index "sneaky"'],
      },
      { database: "tenant-c", version: 7, expectedVersion: 1, differences: ["schema version 7, expected 1"] },
    ]);
  });
});
