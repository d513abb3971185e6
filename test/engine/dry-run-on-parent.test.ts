import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { pick, rejectsWith, rngFor, schemaFleet, tempDir } from "../helpers.js";
import { changedFiles, fileHashes } from "../isolation/fixture.js";

// A job whose success depends on the schema alone dry-runs the parent in full and lets a child whose file
// holds the same schema bytes share its verdict unopened (engine/jobs/classify.ts, dryRunsOnParent). These
// tests drift parents and children behind the engine's back, with the tools a user might reach for, and
// check the job against SQLite itself run on a copy of each file: all or none, judged on the files.

const SCHEMA = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)";

/** Done to a file with better-sqlite3, not through the engine, as `sqlite3 tenant.db` would. */
const DRIFTS = [
  "ALTER TABLE users ADD COLUMN phone TEXT",
  "CREATE VIEW v AS SELECT 1 AS one",
  "CREATE TABLE extra (x)",
  "CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END",
  "ALTER TABLE users RENAME COLUMN email TO mail",
  "VACUUM",
  // A schema too large for page 1: its own file decides, never the parent's.
  `CREATE TABLE wide (${Array.from({ length: 400 }, (_, i) => `column_${i} TEXT`).join(", ")})`,
];

/** Each additive and touching only the schema: the dry run the parent decides. */
const MIGRATIONS = [
  "ALTER TABLE users ADD COLUMN phone TEXT",
  "CREATE VIEW v AS SELECT id FROM users",
  "CREATE TABLE extra (x)",
  "CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END",
  "ALTER TABLE users RENAME COLUMN email TO mail",
  "DROP VIEW IF EXISTS v",
  "CREATE TABLE extra (x); ALTER TABLE users ADD COLUMN phone TEXT",
];

const withFile = <T>(file: string, fn: (db: Database.Database) => T): T => {
  const db = new Database(file, { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
};

/** Whether SQLite takes `sql` on a copy of `file`: the oracle. */
function sqliteTakes(file: string, sql: string): boolean {
  const copy = path.join(tempDir("tenantdb-oracle-"), "copy.db");
  fs.copyFileSync(file, copy);
  return withFile(copy, (db) => {
    try {
      db.exec("BEGIN");
      db.exec(sql);
      return true;
    } catch {
      return false;
    } finally {
      if (db.inTransaction) db.exec("ROLLBACK");
    }
  });
}

const schemaOf = (file: string) =>
  withFile(file, (db) =>
    db.prepare("SELECT type, name, sql FROM sqlite_schema WHERE name <> '_tenantdb_' ORDER BY name").all(),
  );

describe("a dry run the parent decides", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])("holds all or none against drifted files (seed %i)", async (seed) => {
    const rng = rngFor(seed);
    const { engine, names } = await schemaFleet(8, {}, SCHEMA);
    const fileOf = (name: string) => engine.getDatabase(name).path;
    const drifted: string[] = [];
    for (const name of [...names, "parent"]) {
      if (rng() >= (name === "parent" ? 0.3 : 0.25)) continue;
      withFile(fileOf(name), (db) => db.exec(pick(rng, DRIFTS)));
      drifted.push(name);
    }
    const sql = pick(rng, MIGRATIONS);
    const failing = [...names, "parent"].filter((n) => !sqliteTakes(fileOf(n), sql));

    // A preview names every database that would fail, or the parent alone when it fails itself.
    const preview = await engine.previewMigrations("parent", [SCHEMA, sql]);
    const expected = failing.includes("parent") ? ["parent"] : failing;
    expect(preview.failures.map((f) => f.database).sort(), `${sql}; drifted ${drifted}`).toEqual(
      expected.sort(),
    );

    const before = fileHashes(engine.dir);
    const expectedSchemas = new Map(
      [...names, "parent"].map((n) => {
        const copy = path.join(tempDir("tenantdb-oracle-"), "copy.db");
        fs.copyFileSync(fileOf(n), copy);
        withFile(copy, (db) => failing.length === 0 && db.exec(sql));
        return [n, schemaOf(copy)];
      }),
    );
    if (failing.length > 0) {
      const message = await rejectsWith(engine.migrate("parent", sql), "FAILED_PRECONDITION");
      expect(message).toMatch(/nothing was changed/);
      expect(message).toContain(failing.includes("parent") ? "parent" : failing[0]);
      expect(changedFiles(before, fileHashes(engine.dir))).toEqual([]);
    } else {
      await engine.migrate("parent", sql);
    }
    for (const name of [...names, "parent"]) {
      expect(schemaOf(fileOf(name)), `${name} after ${sql}`).toEqual(expectedSchemas.get(name));
      const version = withFile(fileOf(name), (db) =>
        db.prepare("SELECT value FROM _tenantdb_ WHERE key = 'schema_version'").pluck().get(),
      );
      expect(version).toBe(failing.length > 0 ? 1 : 2);
    }
  });

  it("judges by the schema itself, not by the schema cookie: equal cookies after different drifts", async () => {
    const { engine, names } = await schemaFleet(6, {}, SCHEMA);
    const fileOf = (name: string) => engine.getDatabase(name).path;
    // One change each behind the engine's back: both cookies move by the same step.
    withFile(fileOf("parent"), (db) => db.exec("CREATE VIEW v AS SELECT 1 AS one"));
    withFile(fileOf("tenant-3"), (db) => db.exec("ALTER TABLE users ADD COLUMN phone TEXT"));
    const cookie = (name: string) =>
      withFile(fileOf(name), (db) => db.pragma("schema_version", { simple: true }));
    expect(cookie("tenant-3")).toBe(cookie("parent"));
    const before = fileHashes(engine.dir);
    const message = await rejectsWith(
      engine.migrate("parent", "ALTER TABLE users ADD COLUMN phone TEXT"),
      "FAILED_PRECONDITION",
    );
    expect(message).toMatch(/tenant-3: statement 1 .*duplicate column name: phone/);
    expect(changedFiles(before, fileHashes(engine.dir))).toEqual([]);
    for (const name of names) expect(engine.getDatabase(name).schemaVersion).toBe(1);
  });

  it("refuses a child restored from a backup older than a data migration: same schema, stale stamp", async () => {
    const { engine, names } = await schemaFleet(6, {}, SCHEMA);
    const fileOf = (name: string) => engine.getDatabase(name).path;
    const backup = path.join(tempDir("tenantdb-backup-"), "tenant-2.db");
    fs.copyFileSync(fileOf("tenant-2"), backup);
    // Version 2 writes rows only: no file's sqlite_schema moves, every stamp does.
    await engine.migrate("parent", "INSERT INTO users (name) VALUES ('seed')");
    fs.copyFileSync(backup, fileOf("tenant-2")); // restored behind the engine's back, as an operator might
    const stamp = (name: string) =>
      withFile(fileOf(name), (db) =>
        db.prepare("SELECT value FROM _tenantdb_ WHERE key = 'schema_version'").pluck().get(),
      );
    expect(stamp("tenant-2")).toBe(1);
    expect(stamp("parent")).toBe(2);
    const sql = "CREATE TABLE extra (x)";
    expect(sqliteTakes(fileOf("tenant-2"), sql)).toBe(true);

    const preview = await engine.previewMigrations("parent", [
      SCHEMA,
      "INSERT INTO users (name) VALUES ('seed')",
      sql,
    ]);
    expect(preview.failures.map((f) => f.database)).toEqual(["tenant-2"]);
    const before = fileHashes(engine.dir);
    const message = await rejectsWith(engine.migrate("parent", sql), "FAILED_PRECONDITION");
    expect(message).toMatch(/tenant-2: .*schema version 1, expected 2/);
    expect(message).toMatch(/nothing was changed/);
    expect(changedFiles(before, fileHashes(engine.dir))).toEqual([]);
    for (const name of [...names, "parent"]) {
      expect(schemaOf(fileOf(name)).some((r) => (r as { name: string }).name === "extra")).toBe(false);
    }
  });

  it("stops at the parent when the parent refuses the migration, and names it", async () => {
    const { engine, names } = await schemaFleet(20, {}, SCHEMA);
    const before = fileHashes(engine.dir);
    const progress: number[] = [];
    const message = await rejectsWith(
      engine.migrate("parent", "ALTER TABLE users ADD COLUMN email TEXT", {
        onProgress: (p) => p.phase === "dry_run" && progress.push(p.done),
      }),
      "FAILED_PRECONDITION",
    );
    expect(message).toMatch(/parent: statement 1 .*duplicate column name: email/);
    expect(message).not.toMatch(/tenant-/);
    // The dry run went no further than the parent: its verdict is every child's.
    expect(Math.max(...progress)).toBe(1);
    expect(changedFiles(before, fileHashes(engine.dir))).toEqual([]);
    for (const name of names) expect(engine.getDatabase(name).schemaVersion).toBe(1);
  });
});
