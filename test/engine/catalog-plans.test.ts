import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { leaveJobIncomplete, tempEngine } from "../helpers.js";

/**
 * Scale is a property of every query: each statement the catalog runs for a filtered operation must reach
 * its rows through an index. The engine's own statements are captured as it runs them (values filled in)
 * and each is planned again on the catalog file with EXPLAIN QUERY PLAN.
 */

const TABLES = ["databases", "job_tasks"];

/** Plans that read a whole table (`SCAN databases`, `SCAN d`, …) rather than searching an index. */
function fullScans(catalog: Database.Database, sql: string, aliases: Map<string, string>): string[] {
  let plan: { detail: string }[];
  try {
    plan = catalog.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[];
  } catch {
    return []; // several statements in one string (the schema), or a pragma: nothing to plan
  }
  return plan
    .map((p) => p.detail)
    .filter((detail) => {
      const scanned = /^SCAN (\w+)/.exec(detail)?.[1];
      return scanned !== undefined && TABLES.includes(aliases.get(scanned) ?? scanned);
    });
}

/** Table aliases in a statement (`FROM databases d`, `JOIN databases p`). */
function aliasesOf(sql: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of sql.matchAll(/\b(?:FROM|JOIN)\s+(\w+)\s+(?:AS\s+)?(\w+)/gi)) {
    const [, table, alias] = m;
    if (table && alias && !/^(WHERE|ON|JOIN|LEFT|ORDER|GROUP|LIMIT|SET)$/i.test(alias)) map.set(alias, table);
  }
  return map;
}

describe("catalog query plans", () => {
  it("serves every filtered operation from an index: no full scan of databases or job_tasks", async () => {
    let trace: string[] = [];
    const engine = await tempEngine({ catalogTrace: (sql) => trace.push(sql), fenceWaitMs: 50 });
    engine.createGroup("default");
    engine.createGroup("small");
    await engine.createDatabase("parent", { type: "schema" });
    await engine.migrate("parent", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    await engine.createChildren(
      "parent",
      Array.from({ length: 300 }, (_, i) => `tenant-${i}`),
    );
    await engine.createDatabase("few", { type: "schema", group: "small" });
    await engine.createChildren("few", ["few-1", "few-2"]);
    await engine.createDatabase("plain", { group: "small" });
    await engine.execute("tenant-1", "INSERT INTO users (name) VALUES ('a')");
    await engine.execute("tenant-1", "INSERT INTO users (name) VALUES ('a')");
    // A failed job keeps rows for its failures: their queries are judged too.
    await expect(engine.migrate("parent", "CREATE UNIQUE INDEX one ON users(name)")).rejects.toThrow(
      /tenant-1/,
    );

    // A job another process left committed and incomplete: the fence, the job's pages and its recovery
    // are judged too.
    await engine.createDatabase("held", { type: "schema", group: "small" });
    await engine.migrate("held", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    await engine.createChildren("held", ["held-1", "held-2", "held-3"]);
    await leaveJobIncomplete(engine.dir, "held", "ALTER TABLE users ADD COLUMN a TEXT", "held-2");
    const heldJob = engine.listJobs("held")[0]?.id ?? 0;

    // Everything above set the data up; from here every statement is judged.
    trace = [];
    const operations: [string, () => unknown][] = [
      ["getDatabase", () => engine.getDatabase("few-1")],
      ["listDatabases by group", () => engine.listDatabases({ group: "small" })],
      ["listDatabases by parent", () => engine.listDatabases({ schemaParent: "few" })],
      ["listDatabases by both", () => engine.listDatabases({ group: "small", schemaParent: "few" })],
      ["countDatabases", () => engine.countDatabases()],
      ["countDatabases by group", () => engine.countDatabases({ group: "default" })],
      ["countDatabases by parent", () => engine.countDatabases({ schemaParent: "parent" })],
      ["getGroup", () => engine.getGroup("default")],
      ["listGroups", () => engine.listGroups()],
      ["createChildren", () => engine.createChildren("few", ["few-3"])],
      ["createDatabase", () => engine.createDatabase("another", { group: "small" })],
      ["destroyDatabase", () => engine.destroyDatabase("another")],
      ["destroyDatabases", () => engine.destroyDatabases(["few-3"])],
      ["session SELECT 1", () => engine.execute("few-1", "SELECT 1")],
      ["session write", () => engine.execute("tenant-3", "INSERT INTO users (name) VALUES ('b')")],
      ["migrate", () => engine.migrate("few", "CREATE TABLE t (x)")],
      ["listJobs", () => engine.listJobs("parent")],
      ["getJob", () => engine.getJob("parent", engine.listJobs("parent")[0]?.id ?? 0, { limit: 10 })],
      ["listMigrations", () => engine.listMigrations("parent")],
      ["getJob running, a page", () => engine.getJob("held", heldJob, { limit: 1 })],
      ["getJob running, next page", () => engine.getJob("held", heldJob, { after: 1, limit: 1 })],
      [
        "write to a fenced child",
        () =>
          expect(engine.execute("held-2", "INSERT INTO users (name) VALUES ('x')")).rejects.toThrow(
            /schema migration in progress/,
          ),
      ],
      ["resumeMigrations", () => engine.resumeMigrations("held")],
      ["recoverJobs", () => engine.recoverJobs()],
      [
        "previewMigrations",
        () =>
          engine.previewMigrations("parent", [
            ...engine.listMigrations("parent").map((m) => m.sql),
            "CREATE TABLE a (x)",
          ]),
      ],
    ];
    const catalog = new Database(path.join(engine.dir, "catalog.db"), { readonly: true });
    try {
      const offenders: string[] = [];
      for (const [name, run] of operations) {
        trace = [];
        await run();
        expect(trace.length, name).toBeGreaterThan(0);
        for (const sql of trace) {
          for (const scan of fullScans(catalog, sql, aliasesOf(sql)))
            offenders.push(`${name}: ${scan} in ${sql}`);
        }
      }
      expect(offenders).toEqual([]);
      // The detector itself: the count this replaced (one statement for every filter) scans the table.
      const old =
        "SELECT count(*) AS n FROM databases d JOIN groups g ON g.id = d.group_id WHERE (NULL IS NULL OR g.name = NULL) AND (5 IS NULL OR d.parent_id = 5)";
      expect(fullScans(catalog, old, aliasesOf(old))).not.toEqual([]);
    } finally {
      catalog.close();
    }
  }, 120_000);

  it("keeps counts right through creates, bursts, destroys and a catalog opened before counts existed", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    engine.createGroup("other");
    await engine.createDatabase("parent", { type: "schema" });
    await engine.createChildren(
      "parent",
      Array.from({ length: 50 }, (_, i) => `t-${i}`),
    );
    await engine.createDatabase("solo", { group: "other" });
    engine.destroyDatabase("t-0");
    engine.destroyDatabases(["t-1", "t-2", "missing-is-skipped"]);
    const truth = (sql: string) => {
      const c = new Database(path.join(engine.dir, "catalog.db"), { readonly: true });
      try {
        return c.prepare(sql).pluck().get() as number;
      } finally {
        c.close();
      }
    };
    const expected = {
      all: truth("SELECT count(*) FROM databases"),
      parent: truth(
        "SELECT count(*) FROM databases WHERE parent_id = (SELECT id FROM databases WHERE name = 'parent')",
      ),
      other: truth(
        "SELECT count(*) FROM databases WHERE group_id = (SELECT id FROM groups WHERE name = 'other')",
      ),
    };
    expect(expected).toEqual({ all: 49, parent: 47, other: 1 });
    expect(engine.countDatabases()).toBe(expected.all);
    expect(engine.countDatabases({ schemaParent: "parent" })).toBe(expected.parent);
    expect(engine.countDatabases({ group: "other", schemaParent: "parent" })).toBe(0);
    expect(engine.getGroup("other").databases).toBe(expected.other);
    expect(engine.listGroups().map((g) => [g.name, g.databases])).toEqual([
      ["default", expected.all - expected.other],
      ["other", expected.other],
    ]);

    // A catalog from before the counts (and before catalogs had a version): drop them, and the next open
    // rebuilds them from the rows.
    engine.close();
    const raw = new Database(path.join(engine.dir, "catalog.db"));
    raw.exec(
      "DROP TRIGGER databases_count_insert; DROP TRIGGER databases_count_delete; DROP TABLE database_counts; PRAGMA user_version = 0",
    );
    raw.close();
    const reopened = await tempEngineAt(engine.dir);
    try {
      expect(reopened.countDatabases()).toBe(expected.all);
      expect(reopened.countDatabases({ schemaParent: "parent" })).toBe(expected.parent);
      expect(reopened.getGroup("other").databases).toBe(expected.other);
    } finally {
      reopened.close();
    }
  }, 120_000);
});

async function tempEngineAt(dir: string) {
  const { openEngine } = await import("../../engine/index.js");
  return openEngine(dir, { workers: 2 });
}
