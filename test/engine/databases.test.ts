import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { columnsOf, listFiles, rejectsWith, scalar, tempEngine } from "../helpers.js";

const INVALID_NAMES = [
  "Upper",
  "../x",
  "..",
  "",
  "a".repeat(65),
  "a/b",
  "a.b",
  "with space",
  "-leading-dash",
  "nul\0byte",
  "ünicode",
  "a\\b",
  "/abs",
];

describe("names", () => {
  it.each(INVALID_NAMES)("refuses %j for groups and databases, creating nothing on disk", async (name) => {
    const engine = await tempEngine();
    engine.createGroup("default");
    const before = listFiles(engine.dir).filter((f) => !f.startsWith("catalog.db"));
    await rejectsWith(() => engine.createGroup(name), "INVALID_ARGUMENT");
    await rejectsWith(engine.createDatabase(name), "INVALID_ARGUMENT");
    await rejectsWith(engine.createDatabase(name, { type: "schema" }), "INVALID_ARGUMENT");
    expect(listFiles(engine.dir).filter((f) => !f.startsWith("catalog.db"))).toEqual(before);
    expect(engine.listDatabases()).toEqual([]);
    expect(engine.listGroups().map((g) => g.name)).toEqual(["default"]);
  });

  it("accepts 64 characters of letters, digits and dashes", async () => {
    const engine = await tempEngine();
    const name = `a${"-9".repeat(31)}b`;
    expect(name).toHaveLength(64);
    engine.createGroup("default");
    const db = await engine.createDatabase(name);
    expect(db.name).toBe(name);
    expect(db.path.startsWith(engine.dir)).toBe(true);
  });
});

describe("groups and databases", () => {
  it("creates the three kinds of database and reports them", async () => {
    const engine = await tempEngine();
    engine.createGroup("default", { location: "lhr" });
    const standard = await engine.createDatabase("plain");
    const parent = await engine.createDatabase("parent", { type: "schema" });
    const child = await engine.createDatabase("child", { schemaParent: "parent" });
    expect([standard.type, parent.type, child.type]).toEqual(["standard", "schema", "child"]);
    expect(child.schemaParent).toBe("parent");
    expect(child.group).toBe("default");
    for (const db of [standard, parent, child]) expect(fs.existsSync(db.path)).toBe(true);
    expect(engine.listDatabases({ schemaParent: "parent" }).map((d) => d.name)).toEqual(["child"]);
    expect(engine.getGroup("default")).toMatchObject({ location: "lhr", databases: 3 });
  });

  it("creates a child as a copy of its parent: schema, rows a migration put there, and version", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("parent", { type: "schema" });
    await engine.migrate(
      "parent",
      "CREATE TABLE plans (name TEXT); INSERT INTO plans VALUES ('free'), ('pro')",
    );
    const child = await engine.createDatabase("child", { schemaParent: "parent" });
    expect(child.schemaVersion).toBe(1);
    expect(await scalar(engine, "child", "SELECT group_concat(name) FROM plans")).toBe("free,pro");
    expect(await scalar(engine, "child", "SELECT value FROM _tenantdb_ WHERE key = 'schema_version'")).toBe(
      1n,
    );
  });

  it("creates many children in one call, all or none", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("parent", { type: "schema" });
    await engine.migrate("parent", "CREATE TABLE users (id INTEGER PRIMARY KEY)");
    const names = Array.from({ length: 300 }, (_, i) => `tenant-${i}`);
    const created = await engine.createChildren("parent", names);
    expect(created).toHaveLength(300);
    expect(engine.listDatabases({ schemaParent: "parent" })).toHaveLength(300);
    expect(await columnsOf(engine, "tenant-299", "users")).toEqual(["id"]);

    // One duplicate in a batch: nothing of the batch is created.
    await rejectsWith(engine.createChildren("parent", ["fresh-1", "tenant-3", "fresh-2"]), "ALREADY_EXISTS");
    await rejectsWith(engine.createChildren("parent", ["fresh-1", "fresh-1"]), "INVALID_ARGUMENT");
    expect(engine.listDatabases({ schemaParent: "parent" })).toHaveLength(300);
    expect(fs.readdirSync(path.join(engine.dir, "tmp"))).toEqual([]);
  });

  it("keeps database directories bounded by bucketing files", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("parent", { type: "schema" });
    await engine.createChildren(
      "parent",
      Array.from({ length: 50 }, (_, i) => `t${i}`),
    );
    const dirs = fs.readdirSync(path.join(engine.dir, "dbs"));
    expect(dirs).toEqual(["0000"]);
    expect(fs.readdirSync(path.join(engine.dir, "dbs", "0000"))).toHaveLength(51);
  });

  it("refuses a database in a missing group, a child of a non-schema database, a child in another group, duplicates", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    engine.createGroup("other");
    await engine.createDatabase("plain");
    await engine.createDatabase("parent", { type: "schema" });
    expect(await rejectsWith(engine.createDatabase("x", { group: "missing" }), "NOT_FOUND")).toMatch(
      /group "missing" not found/,
    );
    expect(
      await rejectsWith(engine.createDatabase("x", { schemaParent: "plain" }), "FAILED_PRECONDITION"),
    ).toMatch(/not a schema database/);
    expect(await rejectsWith(engine.createDatabase("x", { schemaParent: "nope" }), "NOT_FOUND")).toMatch(
      /nope/,
    );
    expect(
      await rejectsWith(
        engine.createDatabase("x", { schemaParent: "parent", group: "other" }),
        "INVALID_ARGUMENT",
      ),
    ).toMatch(/must be in its schema database's group/);
    expect(await rejectsWith(engine.createDatabase("plain"), "ALREADY_EXISTS")).toMatch(/already exists/);
    await rejectsWith(
      engine.createDatabase("x", { type: "schema", schemaParent: "parent" }),
      "INVALID_ARGUMENT",
    );
    expect(() => engine.createGroup("other")).toThrow(/already exists/);
    expect(engine.listDatabases().map((d) => d.name)).toEqual(["parent", "plain"]);
  });

  it("refuses to destroy a parent with children or a group with databases, leaving everything in place", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("parent", { type: "schema" });
    await engine.migrate("parent", "CREATE TABLE t (x)");
    const child = await engine.createDatabase("child", { schemaParent: "parent" });
    await engine.execute("child", "INSERT INTO t VALUES (42)");
    expect(() => engine.destroyDatabase("parent")).toThrow(/still has 1 child database/);
    expect(() => engine.destroyGroup("default")).toThrow(/still has 2 databases/);
    expect(await scalar(engine, "child", "SELECT x FROM t")).toBe(42n);
    expect(engine.listDatabases()).toHaveLength(2);

    engine.destroyDatabase("child");
    expect(fs.existsSync(child.path)).toBe(false);
    engine.destroyDatabase("parent");
    engine.destroyGroup("default");
    expect(engine.listGroups()).toEqual([]);
    await rejectsWith(() => engine.destroyDatabase("parent"), "NOT_FOUND");
  });

  it("updates per-database configuration", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("db");
    expect(engine.updateDatabaseConfig("db", { allowAttach: true, blockWrites: true })).toMatchObject({
      allowAttach: true,
      blockWrites: true,
      blockReads: false,
    });
    expect(await rejectsWith(engine.execute("db", "CREATE TABLE t (x)"), "BLOCKED")).toMatch(
      /^Operation was blocked/,
    );
    expect(await scalar(engine, "db", "SELECT 1")).toBe(1n);
    engine.updateDatabaseConfig("db", { blockWrites: false, blockReads: true });
    await rejectsWith(engine.execute("db", "SELECT 1"), "BLOCKED");
    await rejectsWith(
      () => engine.updateDatabaseConfig("db", { allowAttach: "yes" as never }),
      "INVALID_ARGUMENT",
    );
  });
});

describe("the query path", () => {
  it("runs several statements and returns columns, rows and rows affected", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("db");
    const results = await engine.execute(
      "db",
      "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB); INSERT INTO t (name, score, data) VALUES ('a', 1.5, x'0102'), ('b', 2, NULL); SELECT * FROM t ORDER BY id",
    );
    expect(results).toHaveLength(3);
    expect(results[1]?.rowsAffected).toBe(2);
    expect(results[2]?.columns).toEqual(["id", "name", "score", "data"]);
    expect(results[2]?.rows).toEqual([
      [1n, "a", 1.5, Buffer.from([1, 2])],
      [2n, "b", 2, null],
    ]);
    const [bound] = await engine.execute("db", "SELECT name FROM t WHERE id = ?", { args: [2n] });
    expect(bound?.rows).toEqual([["b"]]);
    const [named] = await engine.execute("db", "SELECT name FROM t WHERE id = :id", { args: { ":id": 1 } });
    expect(named?.rows).toEqual([["a"]]);
  });

  it("reports SQL errors with SQLite's message and runs nothing after the failing statement", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("db");
    await engine.execute("db", "CREATE TABLE t (x UNIQUE)");
    expect(await rejectsWith(engine.execute("db", "SELEC 1"), "INVALID_ARGUMENT")).toMatch(/syntax error/);
    await rejectsWith(
      engine.execute("db", "INSERT INTO t VALUES (1); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)"),
      "INVALID_ARGUMENT",
    );
    expect(await scalar(engine, "db", "SELECT group_concat(x) FROM t")).toBe("1");
    await rejectsWith(engine.execute("nope", "SELECT 1"), "NOT_FOUND");
  });

  it("keeps interactive transactions on a session", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("db");
    await engine.execute("db", "CREATE TABLE t (x)");
    const session = engine.openSession("db");
    await session.execute("BEGIN");
    await session.execute("INSERT INTO t VALUES (1)");
    expect(session.inTransaction).toBe(true);
    await session.execute("ROLLBACK");
    await session.execute("BEGIN; INSERT INTO t VALUES (2); COMMIT");
    session.close();
    expect(await scalar(engine, "db", "SELECT group_concat(x) FROM t")).toBe("2");
  });
});
