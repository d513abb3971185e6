import { execFile } from "node:child_process";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OWNER, openEngine, type Session, type SqlArgs } from "../../engine/index.js";
import { pick as pickFrom, rngFor, scalar, suiteEngine } from "../helpers.js";

/**
 * Session.readBounded: what a server may answer on its own thread. It must answer exactly what execute()
 * answers, and run nothing whose bytecode does not prove it bounded — whatever the schema became since.
 */

let engine: Awaited<ReturnType<typeof suiteEngine>>;
let session: Session;
const ROWS = 300;

beforeAll(async () => {
  engine = await suiteEngine();
  engine.createGroup("default");
  await engine.createDatabase("plain");
  await engine.execute(
    "plain",
    `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, email TEXT UNIQUE, n INT);
     CREATE INDEX t_n ON t(n);
     CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INT, note TEXT);
     CREATE VIRTUAL TABLE ft USING fts5(body);
     CREATE VIEW first AS SELECT v FROM t WHERE id = 1;
     CREATE VIEW constant AS SELECT 1 AS x`,
  );
  await engine.execute(
    "plain",
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s LIMIT ${ROWS})
     INSERT INTO t SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE 'v' || i END, 'e' || i || '@x', i % 10 FROM s`,
  );
  await engine.execute("plain", "INSERT INTO u SELECT id, id, 'note ' || id FROM t WHERE id % 3 = 0");
  await engine.execute("plain", "INSERT INTO ft (body) VALUES ('hello world')");
  session = engine.openSession("plain");
});
afterAll(() => {
  session.close();
  engine.dispose();
});

const int = (n: number) => BigInt(n);

describe("Session.readBounded", () => {
  it("answers point reads exactly as execute() does", async () => {
    const cases: [string, SqlArgs | undefined][] = [
      ["SELECT * FROM t WHERE id = ?", [int(5)]],
      ["SELECT * FROM t WHERE id = ?", [int(ROWS + 1)]],
      ['select "id", "v" from "t" where "t"."email" = ? limit ?', ["e9@x", int(1)]],
      ["SELECT 1", undefined],
      ["SELECT t.v, u.note FROM t JOIN u ON u.id = t.id WHERE t.id = ?", [int(9)]],
      ["SELECT coalesce(v, 'none') AS v FROM t WHERE id = :id", { id: int(14) }],
      ["SELECT * FROM first", undefined],
      ["SELECT * FROM t WHERE id = ? ORDER BY v", [int(1)]],
    ];
    for (const [sql, args] of cases) {
      const answered = session.readBounded(sql, args);
      expect(answered, sql).toBeDefined();
      expect(answered).toEqual((await session.execute(sql, args))[0]);
    }
  });

  it("runs nothing it cannot prove bounded, and writes nothing", async () => {
    const version = await scalar(engine, "plain", "PRAGMA schema_version");
    const refused: [string, SqlArgs | undefined][] = [
      ["SELECT * FROM t", undefined],
      ["SELECT * FROM t WHERE n = ?", [int(3)]],
      ["SELECT * FROM t WHERE id > ?", [int(3)]],
      ["SELECT count(*) FROM t", undefined],
      ["SELECT * FROM t WHERE id IN (1, 2, 3)", undefined],
      ["SELECT * FROM t WHERE n = ? ORDER BY v LIMIT 1", [int(1)]],
      ["SELECT * FROM constant", undefined],
      ["SELECT length(randomblob(100)) FROM t WHERE id = 1", undefined],
      ["WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c LIMIT 5", undefined],
      ["SELECT * FROM ft WHERE ft MATCH 'hello'", undefined],
      ["SELECT * FROM pragma_optimize(0x10002)", undefined],
      ["SELECT * FROM t WHERE id = (SELECT max(id) FROM t)", undefined],
      ["SELECT 1; SELECT 2", undefined],
      ["INSERT INTO t (v) VALUES ('x') RETURNING id", undefined],
      ["PRAGMA table_info(t)", undefined],
      ["ATTACH 'plain' AS p", undefined],
      ["EXPLAIN SELECT 1", undefined],
      ["SELECT * FROM missing WHERE id = 1", undefined],
    ];
    for (const [sql, args] of refused) expect(session.readBounded(sql, args), sql).toBeUndefined();
    expect(await scalar(engine, "plain", "SELECT count(*) FROM t")).toBe(BigInt(ROWS));
    expect(await scalar(engine, "plain", "PRAGMA schema_version")).toBe(version);
    expect(
      await scalar(engine, "plain", "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'sqlite_stat%'"),
    ).toBe(0n);
  });

  it("follows the schema: a view turned into a long recursion elsewhere is never run on an old verdict", async () => {
    await engine.execute("plain", "CREATE VIEW turns AS SELECT v FROM t WHERE id = 1");
    const reader = engine.openSession("plain");
    const other = await openEngine(engine.dir);
    try {
      expect(reader.readBounded("SELECT * FROM turns", undefined)?.rows).toEqual([["v1"]]);
      // Through another connection: the reader's schema in memory is now stale. (A recursion that ends,
      // after millions of steps, so that running it anyway fails this test instead of hanging it.)
      await other.execute(
        "plain",
        "DROP VIEW turns; CREATE VIEW turns AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000000) SELECT count(*) FROM c",
      );
      expect(reader.readBounded("SELECT * FROM turns", undefined)).toBeUndefined();
      await other.execute("plain", "DROP VIEW turns; CREATE VIEW turns AS SELECT v FROM t WHERE id = 2");
      expect(reader.readBounded("SELECT * FROM turns", undefined)?.rows).toEqual([["v2"]]);
    } finally {
      reader.close();
      other.close();
    }
  });

  it("holds its read transaction across turns only while reads keep coming, briefly, or until released", async () => {
    await engine.execute(
      "plain",
      "CREATE TABLE held (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO held VALUES (1, 'a')",
    );
    const file = engine.getDatabase("plain").path;
    const reader = engine.openSession("plain", OWNER, { readTransactions: "held", busyTimeoutMs: 0 });
    const read = () => reader.readBounded("SELECT v FROM held WHERE id = 1", undefined)?.rows;
    try {
      // A writer in another process that waits for SQLite's lock, while this one reads at every turn
      // until it is done: a hold that never ended would keep it out past its busy timeout.
      const script = `const db = new (require("better-sqlite3"))(${JSON.stringify(file)}, { timeout: 20000 });
        db.exec("UPDATE held SET v = 'b' WHERE id = 1"); db.close();`;
      let exited: { code: number | null; stderr: string } | undefined;
      const writer = execFile(process.execPath, ["-e", script], (error, _out, stderr) => {
        exited = { code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr };
      });
      let reads = 0;
      while (!exited) {
        if (read()) reads++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      writer.kill();
      expect(exited).toEqual({ code: 0, stderr: "" });
      expect(reads).toBeGreaterThan(0);
      expect(read()).toEqual([["b"]]); // the next read sees the commit

      // Held within a turn, the lock keeps out a writer that will not wait; released, it does not.
      const other = new Database(file, { timeout: 0 });
      try {
        expect(read()).toEqual([["b"]]);
        expect(() => other.exec("UPDATE held SET v = 'c' WHERE id = 1")).toThrow(/locked|busy/i);
        reader.releaseRead();
        other.exec("UPDATE held SET v = 'c' WHERE id = 1");
        expect(read()).toEqual([["c"]]);
      } finally {
        other.close();
      }
    } finally {
      reader.close();
    }
  });

  it("follows the schema: a lookup whose unique index is dropped becomes a scan, and is refused", async () => {
    await engine.execute(
      "plain",
      "CREATE TABLE w (id INTEGER PRIMARY KEY, k TEXT); CREATE UNIQUE INDEX w_k ON w(k)",
    );
    await engine.execute("plain", "INSERT INTO w (k) VALUES ('a'), ('b')");
    const reader = engine.openSession("plain");
    const other = await openEngine(engine.dir);
    try {
      expect(reader.readBounded("SELECT id FROM w WHERE k = ?", ["b"])?.rows).toEqual([[2n]]);
      await other.execute("plain", "DROP INDEX w_k");
      expect(reader.readBounded("SELECT id FROM w WHERE k = ?", ["b"])).toBeUndefined();
      expect((await reader.execute("SELECT id FROM w WHERE k = ?", ["b"]))[0]?.rows).toEqual([[2n]]);
    } finally {
      reader.close();
      other.close();
    }
  });

  it("leaves to execute() what needs its full path: block_reads, a schema database, an attachment, a transaction", async () => {
    await engine.createDatabase("blocked");
    await engine.execute("blocked", "CREATE TABLE k (id INTEGER PRIMARY KEY)");
    const blocked = engine.openSession("blocked");
    engine.updateDatabaseConfig("blocked", { blockReads: true });
    expect(blocked.readBounded("SELECT * FROM k WHERE id = 1", undefined)).toBeUndefined();
    blocked.close();

    await engine.createDatabase("parent", { type: "schema" });
    await engine.migrate("parent", "CREATE TABLE p (id INTEGER PRIMARY KEY)");
    const parent = engine.openSession("parent");
    expect(parent.readBounded("SELECT * FROM p WHERE id = 1", undefined)).toBeUndefined();
    parent.close();

    await engine.createDatabase("shared");
    engine.updateDatabaseConfig("shared", { allowAttach: true });
    const attached = engine.openSession("plain");
    await attached.execute('ATTACH "shared" AS s');
    expect(attached.readBounded("SELECT * FROM t WHERE id = 1", undefined)).toBeUndefined();
    attached.close();

    const inTransaction = engine.openSession("plain");
    await inTransaction.execute("BEGIN");
    expect(inTransaction.readBounded("SELECT * FROM t WHERE id = 1", undefined)).toBeUndefined();
    inTransaction.close();
  });

  it("with held reads, shares one read transaction, kept over turns without a read and ended once reads stop", async () => {
    const reader = engine.openSession("plain", undefined, { readTransactions: "held" });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      expect(reader.readBounded("SELECT v FROM t WHERE id = 1", undefined)?.rows).toEqual([["v1"]]);
      expect(reader.readBounded("SELECT v FROM t WHERE id = 2", undefined)?.rows).toEqual([["v2"]]);
      expect(reader.inTransaction).toBe(true);
      // A turn without a read is what a server sees between the requests of a few busy connections:
      // the transaction outlives it (a turn runs at most one of its checks, and the reads above keep it).
      await turn();
      expect(reader.inTransaction).toBe(true);
      // Once reads stop, it ends by itself, without a call.
      while (reader.inTransaction) await new Promise((resolve) => setTimeout(resolve, 1));
      // execute() never runs inside a held read: it ends it first.
      reader.readBounded("SELECT v FROM t WHERE id = 1", undefined);
      await reader.execute("INSERT INTO u (note) VALUES ('after a read')");
      expect(reader.inTransaction).toBe(false);
    } finally {
      reader.close();
    }
  });

  it("ends another session's held read before a write through the same engine, which would wait for its own thread", async () => {
    const reader = engine.openSession("plain", undefined, { readTransactions: "held" });
    try {
      expect(reader.readBounded("SELECT v FROM t WHERE id = 1", undefined)?.rows).toEqual([["v1"]]);
      expect(reader.inTransaction).toBe(true);
      // In the same turn: the held read's timer cannot run while SQLite's busy handler blocks this thread.
      await engine.execute("plain", "INSERT INTO u (note) VALUES ('beside a held read')");
      expect(reader.inTransaction).toBe(false);
      expect(await scalar(engine, "plain", "SELECT count(*) FROM u WHERE note = 'beside a held read'")).toBe(
        1n,
      );
    } finally {
      reader.close();
    }
  });

  it("over generated selects, answers only what execute() answers the same, and only plans that never scan", async () => {
    const random = rngFor(0x5eed1234);
    const pick = <T>(xs: readonly T[]): T => pickFrom(random, xs);
    const columns = ["*", "id", "v, n", "email", "t.id, u.note", "n + 1 AS m", "v || '!' AS w"];
    const froms = ["t", "t LEFT JOIN u ON u.id = t.id", "t JOIN u ON u.t_id = t.id"];
    const wheres: [string, () => SqlArgs][] = [
      ["t.id = ?", () => [int(Math.floor(random() * ROWS * 1.2))]],
      ["email = ?", () => [`e${Math.floor(random() * ROWS)}@x`]],
      ["n = ?", () => [int(Math.floor(random() * 10))]],
      ["v = ?", () => [`v${Math.floor(random() * ROWS)}`]],
      ["t.id > ?", () => [int(ROWS - 3)]],
      ["t.id = ? AND n = ?", () => [int(Math.floor(random() * ROWS)), int(Math.floor(random() * 10))]],
      ["t.id = ? OR email = ?", () => [int(4), "e5@x"]],
      ["v IS NULL AND t.id = ?", () => [int(7 * Math.floor(random() * 40))]],
      ["t.id BETWEEN ? AND ?", () => [int(10), int(12)]],
    ];
    const tails = ["", " LIMIT 1", " LIMIT 0", " ORDER BY n", " ORDER BY t.id DESC LIMIT 2"];
    let answered = 0;
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const [where, args] = pick(wheres);
      const from = pick(froms);
      const column = pick(columns);
      if (column.includes("u.") && !from.includes(" u ")) continue;
      const sql = `SELECT ${column} FROM ${from} WHERE ${where}${pick(tails)}`;
      const bound = args();
      const result = session.readBounded(sql, bound);
      if (result === undefined) {
        refused++;
        continue;
      }
      answered++;
      expect(result, sql).toEqual((await session.execute(sql, bound))[0]);
      const [plan] = await session.execute(`EXPLAIN QUERY PLAN ${sql}`, bound);
      const details = (plan?.rows ?? []).map((r) => String(r[3]));
      expect(
        details.filter((d) => /^SCAN|TEMP B-TREE|CO-ROUTINE|LIST SUBQUERY/.test(d)),
        sql,
      ).toEqual([]);
    }
    expect(answered).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  });
});
