import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejectsWith, suiteEngine } from "../helpers.js";
import { differencesFrom, fileOf, fleetIn, onFile, rowsOf } from "./schema-fleet.js";

const CURRENT = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)";
const seed = (c: string, i: number) =>
  i === 1 ? `INSERT INTO t (a, b) VALUES ('${c}', NULL)` : `INSERT INTO t (a, b) VALUES ('${c}', 'b')`;

// One engine for the suite; each test has its own schema database `sN` with children `sN-a`, `sN-b`, `sN-c`.
let engine: Awaited<ReturnType<typeof suiteEngine>>;
let fleets = 0;
beforeAll(async () => {
  engine = await suiteEngine();
  engine.createGroup("default");
});
afterAll(() => engine?.dispose());

async function fleetWith(current: string, seed: (child: string, i: number) => string | undefined) {
  const app = `s${++fleets}`;
  const [a, b, c] = (await fleetIn(engine, app, current, seed)) as [string, string, string];
  return { app, a, b, c, children: [a, b, c] };
}

describe("declarative schemas: what is refused, and what is reported", () => {
  it("a plan failing on one tenant's rows fails at plan time naming the tenant, and apply changes nothing", async () => {
    const f = await fleetWith(CURRENT, seed);
    const files = [f.app, ...f.children].map((n) => fileOf(engine, n));
    const bytes = files.map((f) => fs.readFileSync(f));
    const desired = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT NOT NULL)";
    const plan = await engine.planSchema(f.app, desired);
    // Planning (its row counts and its dry run on every database included) wrote nothing.
    expect(files.map((f) => fs.readFileSync(f))).toEqual(bytes);
    expect(engine.listJobs(f.app)).toHaveLength(1);
    expect(plan.lint.map((f) => f.code)).toEqual(expect.arrayContaining(["MF104", "RB101"]));
    expect(plan.dryRun?.failed).toBe(1);
    expect(plan.dryRun?.failures).toEqual([
      { database: f.b, error: expect.stringMatching(/NOT NULL constraint failed: .*b/) },
    ]);
    const message = await rejectsWith(engine.applySchema(f.app, desired), "FAILED_PRECONDITION");
    expect(message).toContain(f.b);
    expect(message).toMatch(/nothing was changed/);
    expect(files.map((f) => fs.readFileSync(f))).toEqual(bytes);
    expect(engine.getDatabase(f.app).schemaVersion).toBe(1);
    expect(engine.listMigrations(f.app)).toHaveLength(1);
  });

  it("a declared foreign key that one tenant's rows violate fails its dry run there, and apply changes nothing", async () => {
    const f = await fleetWith(
      "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER)",
      (_c, i) => `INSERT INTO p (id) VALUES (1); INSERT INTO c (pid) VALUES (1), (${i === 2 ? 99 : 1})`,
    );
    const desired =
      "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p (id))";
    const plan = await engine.planSchema(f.app, desired);
    expect(plan.lint.map((x) => x.code)).toEqual(expect.arrayContaining(["MF101", "RB101"]));
    expect(plan.dryRun?.failures).toEqual([{ database: f.c, error: expect.stringMatching(/FOREIGN KEY/) }]);
    const files = [f.app, ...f.children].map((n) => fileOf(engine, n));
    const bytes = files.map((file) => fs.readFileSync(file));
    expect(await rejectsWith(engine.applySchema(f.app, desired), "FAILED_PRECONDITION")).toContain(f.c);
    expect(files.map((file) => fs.readFileSync(file))).toEqual(bytes);
    expect(onFile(fileOf(engine, f.c), (db) => db.prepare("SELECT pid FROM c").pluck().all())).toEqual([
      1, 99,
    ]);
  });

  it("the rebuild's cost is the rows to copy, per database and over the fleet", async () => {
    const f = await fleetWith(CURRENT, (c, i) =>
      Array.from({ length: i + 1 }, () => `INSERT INTO t (a, b) VALUES ('${c}', 'b');`).join(""),
    );
    const plan = await engine.planSchema(
      f.app,
      "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT)",
      {
        dryRun: false,
      },
    );
    const rebuild = plan.lint.find((f) => f.kind === "rebuild");
    expect(rebuild?.rows).toEqual({ total: 1 + 2 + 3, max: 3, databases: 4 });
  });

  it("destructive changes are refused unless allowed", async () => {
    const f = await fleetWith(CURRENT, seed);
    const desired = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)";
    const plan = await engine.planSchema(f.app, desired);
    expect(plan.destructive).toBe(true);
    const message = await rejectsWith(engine.applySchema(f.app, desired), "FAILED_PRECONDITION");
    expect(message).toMatch(/destructive/);
    expect(message).toMatch(/"t"\."b"/);
    expect(engine.getDatabase(f.app).schemaVersion).toBe(1);
    expect(engine.listJobs(f.app)).toHaveLength(1);
    const dropTable = await rejectsWith(
      engine.applySchema(f.app, "CREATE TABLE other (x)"),
      "FAILED_PRECONDITION",
    );
    expect(dropTable).toMatch(/table "t" is dropped/);
  });

  it("apply refuses a plan other than the one previewed", async () => {
    const f = await fleetWith(CURRENT, seed);
    const desired = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT)";
    const plan = await engine.planSchema(f.app, desired);
    await engine.migrate(f.app, "CREATE TABLE meanwhile (x)");
    const message = await rejectsWith(
      engine.applySchema(f.app, `${desired}; CREATE TABLE meanwhile (x)`, { expectChecksum: plan.checksum }),
      "CONFLICT",
    );
    expect(message).toMatch(/preview again/);
    expect(engine.getDatabase(f.app).schemaVersion).toBe(2);
  });

  it("renames only when declared: an undeclared rename is a drop and an add", async () => {
    const f = await fleetWith(CURRENT, seed);
    const plan = await engine.planSchema(f.app, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c TEXT)");
    expect(plan.statements).toEqual(['ALTER TABLE "t" ADD COLUMN c TEXT', 'ALTER TABLE "t" DROP COLUMN "b"']);
    expect(plan.destructive).toBe(true);
    const byOption = await engine.planSchema(
      f.app,
      "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c TEXT)",
      {
        renames: { "t.c": "b" },
      },
    );
    expect(byOption.statements).toEqual(['ALTER TABLE "t" RENAME COLUMN "b" TO "c"']);
    expect(byOption.destructive).toBe(false);
    await engine.applySchema(f.app, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c TEXT)", {
      renames: { "t.c": "b" },
    });
    expect(rowsOf(fileOf(engine, f.a)).t).toEqual([JSON.stringify({ id: 1, a: f.a, c: "b" })]);
  });

  it("rejects a desired schema that is not a schema, with INVALID_ARGUMENT", async () => {
    const f = await fleetWith(CURRENT, seed);
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
      expect(await rejectsWith(engine.planSchema(f.app, sql), "INVALID_ARGUMENT"), sql).toMatch(pattern);
    }
    await rejectsWith(engine.planSchema(f.a, CURRENT), "FAILED_PRECONDITION");
    await rejectsWith(engine.planSchema("nope", CURRENT), "NOT_FOUND");
    expect(engine.listJobs(f.app)).toHaveLength(1);
  });

  it("show prints canonical DDL that plans to nothing when declared back", async () => {
    const current = `CREATE TABLE p (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL COLLATE NOCASE UNIQUE,
        score REAL DEFAULT (0.5), CHECK (score >= 0));
      CREATE TABLE c (a INTEGER, b INTEGER, pid INTEGER REFERENCES p (id) ON DELETE CASCADE,
        total INTEGER GENERATED ALWAYS AS (a + b) STORED, PRIMARY KEY (a, b)) WITHOUT ROWID;
      CREATE INDEX c_pid ON c (pid) WHERE pid IS NOT NULL;
      CREATE VIEW v AS SELECT p.name, c.total FROM p JOIN c ON c.pid = p.id`;
    const f = await fleetWith(current, () => undefined);
    const ddl = engine.showSchema(f.app);
    expect(ddl).toContain('CREATE TABLE "p"');
    expect(ddl).not.toContain("_tenantdb_");
    expect(differencesFrom(fileOf(engine, f.app), ddl)).toEqual([]);
    expect((await engine.planSchema(f.app, ddl)).statements).toEqual([]);
    expect(engine.showSchema(f.a)).toBe(ddl);
  });

  it("drift names a child whose file was changed outside the engine", async () => {
    const f = await fleetWith(CURRENT, seed);
    expect(engine.schemaDrift(f.app)).toEqual({ database: f.app, version: 1, databases: 4, drifted: [] });
    onFile(fileOf(engine, f.b), (db) => db.exec("CREATE INDEX sneaky ON t (a); ALTER TABLE t ADD COLUMN x"));
    onFile(fileOf(engine, f.c), (db) =>
      db.exec("UPDATE _tenantdb_ SET value = 7 WHERE key = 'schema_version'"),
    );
    fs.writeFileSync(fileOf(engine, f.a), Buffer.alloc(8192, 0x41));
    const report = engine.schemaDrift(f.app);
    expect(report.drifted).toEqual([
      {
        database: f.a,
        version: -1,
        expectedVersion: 1,
        differences: [expect.stringMatching(/^cannot be read: .*not a database/)],
      },
      {
        database: f.b,
        version: 1,
        expectedVersion: 1,
        differences: ['alter table "t": add column "x"', 'create index "sneaky"'],
      },
      { database: f.c, version: 7, expectedVersion: 1, differences: ["schema version 7, expected 1"] },
    ]);
  });
});
