import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusal, SETTING_PRAGMA_FUNCTIONS } from "../../engine/guard.js";
import { QUERY_PRAGMAS, splitStatements } from "../../engine/sql/statements.js";
import { rejectsWith, scalar, suiteEngine } from "../helpers.js";

/** What SQLite cannot refuse itself, refused by name: one case per item, each checked on the database. */

let engine: Awaited<ReturnType<typeof suiteEngine>>;
beforeAll(async () => {
  engine = await suiteEngine();
  engine.createGroup("g");
  await engine.createDatabase("db", { group: "g" });
  await engine.execute("db", "CREATE TABLE t (a); CREATE VIRTUAL TABLE f3 USING fts3(b)");
});
afterAll(() => engine.dispose());

const REFUSED = [
  ["PRAGMA busy_timeout = 0", /busy_timeout cannot be changed/],
  ["PRAGMA busy_timeout(60000)", /busy_timeout cannot be changed/],
  ["PRAGMA query_only = 0", /query_only cannot be changed/],
  ["PRAGMA main.QUERY_ONLY = false", /query_only cannot be changed/],
  ['PRAGMA "query_only" = 0', /query_only cannot be changed/],
  ["PRAGMA temp_store = FILE", /temp_store cannot be changed/],
  ["PRAGMA temp_store = 1", /temp_store cannot be changed/],
  ["PRAGMA hard_heap_limit = 1", /whole process/],
  ["PRAGMA soft_heap_limit = 1", /whole process/],
  ["PRAGMA locking_mode = EXCLUSIVE", /locking_mode cannot be changed/],
  ["SELECT fts3_tokenizer('simple', x'00')", /fts3_tokenizer/],
  ...[...SETTING_PRAGMA_FUNCTIONS].map((name) => [`SELECT * FROM pragma_${name}(1)`, /pragma_/] as const),
  ["SELECT * FROM [pragma_cache_spill] WHERE arg = 1", /pragma_cache_spill/],
  ["SELECT * FROM 'pragma_synchronous'", /pragma_synchronous/],
  ["CREATE VIEW v AS SELECT * FROM pragma_journal_mode('off')", /pragma_journal_mode/],
  ["CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT * FROM pragma_optimize(-1); END", /pragma_optimize/],
] as const;

describe("refused by name", () => {
  it.each(REFUSED)("refuses %j with PERMISSION_DENIED and changes nothing", async (sql, message) => {
    const before = await scalar(engine, "db", "PRAGMA schema_version");
    expect(await rejectsWith(engine.execute("db", sql), "PERMISSION_DENIED")).toMatch(message);
    expect(await scalar(engine, "db", "PRAGMA schema_version")).toBe(before);
  });

  it("keeps the engine's connection settings whatever was tried", async () => {
    const session = engine.openSession("db");
    try {
      for (const [sql] of REFUSED) await session.execute(sql).catch(() => {});
      const settings: unknown[] = [];
      for (const sql of ["PRAGMA temp_store", "PRAGMA busy_timeout", "PRAGMA query_only"]) {
        settings.push((await session.execute(sql))[0]?.rows[0]?.[0]);
      }
      expect(settings).toEqual([2n, 10_000n, 0n]);
    } finally {
      session.close();
    }
  });

  it("still reads through the query pragmas' functions and reads settings", async () => {
    const [r] = await engine.execute(
      "db",
      "SELECT (SELECT count(*) FROM pragma_table_info('t')), (SELECT count(*) FROM pragma_index_list('t')), (SELECT count(*) FROM pragma_table_list), (SELECT * FROM pragma_user_version), (SELECT count(*) FROM pragma_foreign_key_check)",
    );
    expect(r?.rows[0]).toEqual([1n, 0n, expect.any(BigInt), 0n, 0n]);
    await engine.execute(
      "db",
      "PRAGMA cache_size = -4000; PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL",
    );
  });

  it("knows every pragma whose table-valued function sets it (asked of SQLite itself)", () => {
    const db = new Database(":memory:");
    const names = db.prepare("PRAGMA pragma_list").pluck().all() as string[];
    const settable = names.filter((name) => {
      try {
        db.prepare(`SELECT * FROM pragma_${name}(1)`);
        return true;
      } catch {
        return false;
      }
    });
    db.close();
    expect(settable.length).toBeGreaterThan(0);
    for (const name of settable) {
      const [s] = splitStatements(`SELECT * FROM pragma_${name}(1)`);
      const refused = s ? refusal(s) : null;
      expect({ name, refusedOrQuery: refused !== null || QUERY_PRAGMAS.has(name) }).toEqual({
        name,
        refusedOrQuery: true,
      });
    }
  });
});
