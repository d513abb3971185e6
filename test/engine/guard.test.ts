import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../engine/index.js";
import { listFiles, rejectsWith, scalar, suiteEngine, tempDir } from "../helpers.js";

// One family for the whole file: every refused statement must leave it exactly as it was, which each
// test asserts, so sharing it only makes the checks stricter.
let shared: Awaited<ReturnType<typeof suiteEngine>>;
beforeAll(async () => {
  shared = await suiteEngine();
  await setUp(shared);
});
afterAll(() => shared.dispose());

async function family(): Promise<Engine> {
  return shared;
}

async function setUp(engine: Engine) {
  engine.createGroup("default");
  await engine.createDatabase("parent", { type: "schema" });
  await engine.migrate(
    "parent",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE audit (msg TEXT); CREATE INDEX users_name ON users(name)",
  );
  await engine.createDatabase("child", { schemaParent: "parent" });
  await engine.createDatabase("other", { schemaParent: "parent" });
  await engine.createDatabase("plain");
}

async function schemaOf(engine: Engine, db: string) {
  const [r] = await engine.execute(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY name");
  const version = await scalar(engine, db, "PRAGMA schema_version");
  return { rows: r?.rows, version };
}

// Each is refused on a child with BLOCKED, the child's schema unchanged.
const BLOCKED_ON_CHILD = [
  "CREATE TABLE new_table (name)",
  "create table t2 (a)",
  "cReAtE tAbLe t3 (a)",
  "  \n\t CREATE TABLE t4 (a)",
  "/* hello */ CREATE TABLE t5 (a)",
  "-- a comment\nCREATE TABLE t6 (a)",
  "CREATE/**/TABLE/**/t7(a)",
  "\fCREATE TABLE t8 (a)",
  "CREATE TABLE IF NOT EXISTS users (id)",
  "CREATE TABLE IF NOT EXISTS t9 (a)",
  "CREATE TEMP TABLE tmp1 (a)",
  "CREATE TEMPORARY TABLE tmp2 (a)",
  "CREATE TABLE temp.tmp3 (a)",
  "CREATE TEMP VIEW v1 AS SELECT 1",
  "CREATE VIEW v2 AS SELECT * FROM users",
  "CREATE INDEX i1 ON users(name, id)",
  "CREATE UNIQUE INDEX IF NOT EXISTS i2 ON users(id)",
  "CREATE TRIGGER tr1 AFTER INSERT ON users BEGIN INSERT INTO audit VALUES ('x'); END",
  "CREATE TEMP TRIGGER tr2 AFTER INSERT ON users BEGIN SELECT CASE WHEN 1 THEN 'END;' END; END",
  "CREATE VIRTUAL TABLE docs USING fts5(body)",
  "DROP TABLE users",
  "DROP TABLE IF EXISTS audit",
  "DROP INDEX users_name",
  "DROP VIEW IF EXISTS nothing",
  "ALTER TABLE users ADD COLUMN phone TEXT",
  "ALTER TABLE users RENAME TO people",
  "ALTER TABLE users RENAME COLUMN name TO full_name",
  "ALTER TABLE users DROP COLUMN name",
  "SELECT 1; CREATE TABLE second (a)",
  "INSERT INTO audit VALUES ('before'); DROP TABLE audit",
  "BEGIN; CREATE TABLE in_tx (a); COMMIT",
  "SAVEPOINT s1; CREATE TABLE in_sp (a); RELEASE s1",
  "VACUUM",
  'CREATE TABLE "quoted name" (a)',
  "CREATE TABLE [bracketed] (a)",
  "create table `backticked` (a)",
];

// Refused on every database (standard, parent and child): they reach outside the data directory or the engine's files.
const REFUSED_EVERYWHERE = [
  "ATTACH 'outside.db' AS o",
  "ATTACH DATABASE ':memory:' AS m",
  "ATTACH 'file:x.db?mode=rwc' AS u",
  "ATTACH '/tmp/abs-attack.db' AS a",
  "ATTACH 'other' || '.db' AS e",
  "VACUUM INTO '/tmp/tenantdb-vacuum-into.db'",
  "vacuum main into 'relative-copy.db'",
  "SELECT load_extension('/tmp/evil.so')",
  "PRAGMA writable_schema = ON",
  "PRAGMA writable_schema",
  "PRAGMA schema_version = 99",
  "pragma main.SCHEMA_VERSION(7)",
  "PRAGMA journal_mode = WAL",
  "PRAGMA cache_spill = ON",
  "INSERT INTO _tenantdb_ VALUES ('schema_version', 9)",
  'UPDATE "_tenantdb_" SET value = 0',
  "DELETE FROM '_tenantdb_'",
];

describe("the guard on children", () => {
  it.each(BLOCKED_ON_CHILD)("blocks %j on a child and leaves its schema as it was", async (sql) => {
    const engine = await family();
    const before = await schemaOf(engine, "child");
    const auditRows = await scalar(engine, "child", "SELECT count(*) FROM audit");
    const message = await rejectsWith(engine.execute("child", sql), "BLOCKED");
    expect(message).toMatch(/^Operation was blocked/);
    expect(message).toMatch(/change the schema database instead/);
    expect(await schemaOf(engine, "child")).toEqual(before);
    // Nothing of a refused batch ran.
    expect(await scalar(engine, "child", "SELECT count(*) FROM audit")).toBe(auditRows);
  });

  it("still runs ordinary reads and writes on children, in and out of transactions", async () => {
    const engine = await family();
    await engine.execute(
      "child",
      "INSERT INTO users (name) VALUES ('a'), ('b'); UPDATE users SET name = 'c' WHERE id = 2",
    );
    const session = engine.openSession("child");
    await session.execute(
      "BEGIN; INSERT INTO audit VALUES ('in tx'); SAVEPOINT s; DELETE FROM users WHERE id = 1; RELEASE s; COMMIT",
    );
    session.close();
    expect(await scalar(engine, "child", "SELECT group_concat(name) FROM users")).toBe("c");
    expect(await scalar(engine, "child", "SELECT value FROM _tenantdb_ WHERE key = 'schema_version'")).toBe(
      1n,
    );
    expect(await scalar(engine, "other", "SELECT count(*) FROM users")).toBe(0n);
  });

  it("rolls back, after the fact, a statement that moved a child's schema_version", async () => {
    const engine = await family();
    const before = await schemaOf(engine, "other");
    // ANALYZE is not DDL to the classifier, but its first run creates sqlite_stat1.
    await engine.execute("other", "INSERT INTO users (name) VALUES ('a')");
    expect(await rejectsWith(engine.execute("other", "ANALYZE"), "BLOCKED")).toMatch(
      /^Operation was blocked/,
    );
    expect(await schemaOf(engine, "other")).toEqual(before);
    // Inside the caller's own transaction the check undoes just that statement.
    const session = engine.openSession("other");
    await session.execute("BEGIN");
    await session.execute("INSERT INTO audit VALUES ('kept')");
    await rejectsWith(session.execute("ANALYZE"), "BLOCKED");
    await session.execute("COMMIT");
    session.close();
    expect(await scalar(engine, "other", "SELECT msg FROM audit")).toBe("kept");
    expect(await schemaOf(engine, "other")).toEqual(before);
  });
});

describe("the guard on every database", () => {
  it.each(REFUSED_EVERYWHERE)(
    "refuses %j without touching any file outside the data directory",
    async (sql) => {
      const engine = await family();
      const outsideDir = tempDir();
      const tmpBefore = fs
        .readdirSync(os.tmpdir())
        .filter((f) => f.startsWith("tenantdb-vacuum") || f === "abs-attack.db");
      const cwdBefore = fs.readdirSync(process.cwd());
      for (const db of ["plain", "child", "parent"]) {
        const before = await schemaOf(engine, db);
        await expect(engine.execute(db, sql)).rejects.toMatchObject({
          code: expect.stringMatching(/PERMISSION_DENIED|BLOCKED/),
        });
        expect(await schemaOf(engine, db)).toEqual(before);
      }
      expect(
        fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("tenantdb-vacuum") || f === "abs-attack.db"),
      ).toEqual(tmpBefore);
      expect(fs.readdirSync(process.cwd())).toEqual(cwdBefore);
      expect(listFiles(outsideDir)).toEqual([]);
      expect(await scalar(engine, "child", "SELECT value FROM _tenantdb_ WHERE key = 'schema_version'")).toBe(
        1n,
      );
    },
  );

  it("lets standard databases change their own schema freely", async () => {
    const engine = await family();
    await engine.execute(
      "plain",
      "CREATE TABLE t (a); ALTER TABLE t ADD COLUMN b; CREATE INDEX ti ON t(a); DROP INDEX ti",
    );
    expect(await scalar(engine, "plain", "SELECT count(*) FROM pragma_table_info('t')")).toBe(2n);
    expect(path.isAbsolute(engine.getDatabase("plain").path)).toBe(true);
  });
});
