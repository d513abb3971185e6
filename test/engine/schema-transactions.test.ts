import { createHash } from "node:crypto";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { columnsOf, rejectsWith, scalar, tempEngine } from "../helpers.js";

/** A transaction on a schema database is one migration job: all or none, and nothing before COMMIT. */

async function fleet(children: number) {
  const engine = await tempEngine();
  engine.createGroup("default");
  await engine.createDatabase("app", { type: "schema" });
  await engine.migrate("app", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)");
  const names = Array.from({ length: children }, (_, i) => `tenant-${i}`);
  await engine.createChildren("app", names);
  return { engine, names, all: [...names, "app"] };
}

function fileHash(engine: { getDatabase(n: string): { path: string } }, name: string): string {
  return createHash("sha256")
    .update(fs.readFileSync(engine.getDatabase(name).path))
    .digest("hex");
}

describe("transactions on a schema database", () => {
  it("collects BEGIN … COMMIT into one job that reaches every database, reads inside seeing the pending changes", async () => {
    const { engine, all } = await fleet(5);
    const jobsBefore = engine.listJobs("app").length;
    const session = engine.openSession("app");
    try {
      await session.execute("BEGIN");
      expect(session.inTransaction).toBe(true);
      await session.execute("CREATE TABLE history (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, at REAL)");
      const [inserted] = await session.execute("INSERT INTO history (hash, at) VALUES (?, ?)", [
        "it's-a-hash",
        1700000000123,
      ]);
      expect(inserted?.rowsAffected).toBe(1);
      // The tool reads its own history back before COMMIT, as drizzle's and Kysely's migrators do.
      const [read] = await session.execute("SELECT hash FROM history");
      expect(read?.rows).toEqual([["it's-a-hash"]]);
      // Nothing has reached a child yet.
      expect(await columnsOf(engine, "tenant-0", "history")).toEqual([]);
      await session.execute("COMMIT");
      expect(session.inTransaction).toBe(false);
    } finally {
      session.close();
    }
    expect(engine.listJobs("app").length).toBe(jobsBefore + 1);
    for (const name of all) {
      expect(await scalar(engine, name, "SELECT hash || '@' || at FROM history")).toBe(
        "it's-a-hash@1700000000123.0",
      );
      expect(await scalar(engine, name, "SELECT typeof(at) FROM history")).toBe("real");
      expect(engine.getDatabase(name).schemaVersion).toBe(2);
    }
    const recorded = engine.listMigrations("app").at(-1)?.sql ?? "";
    expect(recorded).toContain("'it''s-a-hash'");
  });

  it("ROLLBACK, or a session closed mid-transaction, leaves every file as it was and records no job", async () => {
    const { engine, all } = await fleet(3);
    const before = new Map(all.map((n) => [n, fileHash(engine, n)]));
    const jobs = engine.listJobs("app").length;

    const rolledBack = engine.openSession("app");
    await rolledBack.execute("BEGIN; CREATE TABLE t1 (a); INSERT INTO t1 VALUES (1)");
    await rolledBack.execute("ROLLBACK");
    rolledBack.close();

    const dropped = engine.openSession("app");
    await dropped.execute("BEGIN");
    await dropped.execute("ALTER TABLE users ADD COLUMN gone TEXT");
    dropped.close();

    for (const name of all) {
      expect(fileHash(engine, name)).toBe(before.get(name));
      expect(await columnsOf(engine, name, "users")).toEqual(["id", "email"]);
    }
    expect(engine.listJobs("app").length).toBe(jobs);
  });

  it("a COMMIT whose job fails on one tenant changes nothing anywhere, and names the tenant", async () => {
    const { engine, all } = await fleet(4);
    await engine.execute("tenant-2", "INSERT INTO users (email) VALUES ('a@x'), ('a@x')");
    const before = new Map(all.map((n) => [n, fileHash(engine, n)]));
    const session = engine.openSession("app");
    await session.execute("BEGIN");
    await session.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY)");
    await session.execute("CREATE UNIQUE INDEX users_email ON users (email)");
    const message = await rejectsWith(session.execute("COMMIT"), "FAILED_PRECONDITION");
    expect(message).toMatch(/tenant-2/);
    // The migration tool's error path: a ROLLBACK after the failed COMMIT must not replace its error.
    await session.execute("ROLLBACK");
    session.close();
    for (const name of all) {
      expect(fileHash(engine, name)).toBe(before.get(name));
      expect(engine.getDatabase(name).schemaVersion).toBe(1);
    }
  });

  it("runs an autocommit parameterised change as one job with its values written in", async () => {
    const { engine, all } = await fleet(2);
    await engine.execute("app", "CREATE TABLE plans (name TEXT, price REAL, data BLOB)");
    await engine.execute("app", "INSERT INTO plans VALUES (:name, :price, :data)", {
      args: { ":name": "pro", ":price": 9, data: new Uint8Array([0, 255]) },
    });
    for (const name of all) {
      const [r] = await engine.execute(name, "SELECT name, typeof(price), hex(data) FROM plans");
      expect(r?.rows).toEqual([["pro", "real", "00FF"]]);
    }
  });

  it("refuses savepoints and nested BEGIN inside a schema transaction, keeping the transaction", async () => {
    const { engine } = await fleet(1);
    const session = engine.openSession("app");
    try {
      await session.execute("BEGIN");
      await rejectsWith(session.execute("SAVEPOINT s"), "INVALID_ARGUMENT");
      await rejectsWith(session.execute("BEGIN"), "INVALID_ARGUMENT");
      await rejectsWith(session.execute('ATTACH "tenant-0" AS t'), "INVALID_ARGUMENT");
      expect(session.inTransaction).toBe(true);
      await session.execute("CREATE TABLE kept (a)");
      await session.execute("COMMIT");
    } finally {
      session.close();
    }
    expect(await columnsOf(engine, "tenant-0", "kept")).toEqual(["a"]);
  });

  it("runs no job for DDL that leaves the schema as it is, alone or in a transaction", async () => {
    const { engine } = await fleet(2);
    const jobs = engine.listJobs("app").length;
    await engine.execute("app", "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT)");
    await engine.execute(
      "app",
      "BEGIN; CREATE TABLE IF NOT EXISTS users (x); DROP INDEX IF EXISTS nope; COMMIT",
    );
    expect(engine.listJobs("app").length).toBe(jobs);
    await engine.execute("app", "CREATE TABLE IF NOT EXISTS fresh (a)");
    expect(engine.listJobs("app").length).toBe(jobs + 1);
    expect(await columnsOf(engine, "tenant-1", "fresh")).toEqual(["a"]);
  });
});
