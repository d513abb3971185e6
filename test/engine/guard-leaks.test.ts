import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../engine/index.js";
import { rejectsWith, scalar, suiteEngine } from "../helpers.js";
import {
  buildFleet,
  changedFiles,
  type Fleet,
  fileHashes,
  KELVIN,
  schemaVersionOf,
} from "../isolation/fixture.js";

/**
 * The leaks of issue 11, through the engine API, each checked on the files themselves. Each fails on the
 * session as it was (an alias map keyed by toLowerCase, reads sent straight to SQLite, grants by name).
 */

let engine: Awaited<ReturnType<typeof suiteEngine>>;
let fleet: Fleet;
beforeAll(async () => {
  engine = await suiteEngine();
  fleet = await buildFleet(engine);
});
afterAll(() => engine.dispose());

const as = async (jwt: string, db = "c1"): Promise<Principal> => engine.authenticate(jwt, db);

/** Runs each batch in one session, in turn; returns each outcome's error code, or "ok". */
async function run(principal: Principal, batches: string[], db = "c1"): Promise<string[]> {
  const session = engine.openSession(db, principal);
  const outcomes: string[] = [];
  try {
    for (const sql of batches) {
      try {
        await session.execute(sql);
        outcomes.push("ok");
      } catch (e) {
        outcomes.push((e as { code?: string }).code ?? String(e));
      }
    }
  } finally {
    session.close();
  }
  return outcomes;
}

function fileOf(db: string): string {
  return engine.getDatabase(db).path;
}

describe("attached databases stay read-only, whatever the alias", () => {
  it.each(["c1", "catalog"])(
    "refuses writes through a Kelvin-sign alias left attached after its ASCII twin was detached, from %s",
    async (db) => {
      const { jwt } = await engine.createToken({ database: db, attach: ["c2"] });
      const before = fileHashes(engine.dir);
      const version = schemaVersionOf(fileOf("c2"));
      const outcomes = await run(
        await as(jwt, db),
        [
          `ATTACH "c2" AS "${KELVIN}"`,
          `ATTACH "c2" AS k`,
          `DETACH k`,
          `CREATE TABLE "${KELVIN}".evil (a)`,
          `DROP INDEX "${KELVIN}".users_name`,
          `DELETE FROM "${KELVIN}".users`,
          `INSERT INTO "${KELVIN}".docs(docs) VALUES ('delete-all')`,
          `SELECT count(*) FROM "${KELVIN}".users`,
        ],
        db,
      );
      expect(outcomes.slice(0, 3)).toEqual(["ok", "ok", "ok"]);
      // On a child, DDL is refused as such (BLOCKED) before anything else looks at it.
      const refused = db === "c1" ? ["BLOCKED", "BLOCKED"] : ["PERMISSION_DENIED", "PERMISSION_DENIED"];
      expect(outcomes.slice(3)).toEqual([...refused, "PERMISSION_DENIED", "PERMISSION_DENIED", "ok"]);
      expect(schemaVersionOf(fileOf("c2"))).toBe(version);
      expect(changedFiles(before, fileHashes(engine.dir)).filter((f) => f.includes("c2"))).toEqual([]);
    },
  );

  it("judges a statement again once a temp trigger makes it write an attached database", async () => {
    const { jwt } = await engine.createToken({ database: "catalog", attach: ["c2"] });
    const before = fileHashes(engine.dir);
    const rows = await scalar(engine, "c2", "SELECT count(*) FROM users");
    const write = "UPDATE promotions SET discount = discount WHERE category = 'books'";
    const outcomes = await run(
      await as(jwt, "catalog"),
      [
        'ATTACH "c2" AS n',
        write, // judged (it writes main only) while no trigger exists
        "CREATE TEMP TRIGGER wipe AFTER UPDATE ON main.promotions BEGIN DELETE FROM n.users; END",
        write, // the same text, now a program that deletes the neighbour's rows
        `INSERT INTO promotions VALUES ('toys', 0.5)`,
        "DROP TRIGGER temp.wipe",
        write,
      ],
      "catalog",
    );
    expect(outcomes).toEqual(["ok", "ok", "ok", "PERMISSION_DENIED", "ok", "ok", "ok"]);
    expect(await scalar(engine, "c2", "SELECT count(*) FROM users")).toBe(rows);
    expect(changedFiles(before, fileHashes(engine.dir)).filter((f) => f.includes("c2"))).toEqual([]);
    await engine.execute("catalog", "DELETE FROM promotions WHERE category = 'toys'");
  });

  it("counts attached databases from SQLite: ten at most, whatever the aliases' case", async () => {
    const session = engine.openSession("c1");
    try {
      for (let i = 0; i < 10; i++) {
        await session.execute(`ATTACH "catalog" AS "${i % 2 ? KELVIN : "k"}${i}"`);
      }
      expect(await rejectsWith(session.execute(`ATTACH "c2" AS extra`), "FAILED_PRECONDITION")).toMatch(
        /at most 10/,
      );
      await session.execute(`DETACH "k0"`);
      await session.execute(`ATTACH "c2" AS extra`);
    } finally {
      session.close();
    }
  });
});

describe("statements SQLite calls read-only but that write", () => {
  const READ_PATH_WRITES = [
    "SELECT * FROM pragma_optimize(0x10002)",
    "SELECT * FROM PRAGMA_OPTIMIZE(-1)",
    'SELECT * FROM "pragma_optimize" WHERE arg = 65538',
    "SELECT * FROM pragma_journal_mode('off')",
    "SELECT * FROM pragma_auto_vacuum(1)",
    "SELECT * FROM pragma_page_size(512)",
    "SELECT optimize(notes) FROM notes",
    "SELECT OpTiMiZe(notes) FROM main.notes",
    "PRAGMA optimize",
    "PRAGMA optimize(0x10002)",
    "INSERT INTO docs(docs) VALUES ('optimize')",
    "INSERT INTO notes(notes) VALUES ('optimize')",
  ];

  it.each(READ_PATH_WRITES)("a read-only token cannot run %j, and no file changes", async (sql) => {
    const before = fileHashes(engine.dir);
    const [outcome] = await run(await as(fleet.readOnly), [sql]);
    expect(outcome).toBe("PERMISSION_DENIED");
    expect(changedFiles(before, fileHashes(engine.dir))).toEqual([]);
  });

  it("keeps a child's schema_version where its parent's jobs put it, for any principal", async () => {
    const version = schemaVersionOf(fileOf("c1"));
    for (const principal of [
      await as(fleet.readWrite),
      await as(fleet.readOnly),
      { kind: "owner" } as const,
    ]) {
      const outcomes = await run(principal, [
        "SELECT * FROM pragma_optimize(0x10002)",
        "PRAGMA optimize(0x10002)",
        "ANALYZE",
      ]);
      expect(outcomes.every((o) => o === "PERMISSION_DENIED" || o === "BLOCKED")).toBe(true);
      expect(schemaVersionOf(fileOf("c1"))).toBe(version);
    }
  });

  it("keeps a schema database's schema for its jobs: a read that would change it runs nowhere", async () => {
    const jobs = engine.listJobs("app").length;
    const version = schemaVersionOf(fileOf("app"));
    const before = fileHashes(engine.dir);
    const reader = await engine.authenticate(
      (await engine.createToken({ database: "app", authorization: "read-only" })).jwt,
      "app",
    );
    expect(
      await run(
        reader,
        ["SELECT * FROM pragma_optimize(0x10002)", "SELECT optimize(notes) FROM notes"],
        "app",
      ),
    ).toEqual(["PERMISSION_DENIED", "PERMISSION_DENIED"]);
    expect(await run({ kind: "owner" }, ["SELECT * FROM pragma_optimize(0x10002)"], "app")).toEqual([
      "PERMISSION_DENIED",
    ]);
    expect(schemaVersionOf(fileOf("app"))).toBe(version);
    expect(engine.listJobs("app")).toHaveLength(jobs);
    expect(changedFiles(before, fileHashes(engine.dir))).toEqual([]);
  });

  it("keeps an attached child's files as they were", async () => {
    const before = fileHashes(engine.dir);
    const outcomes = await run(await as(fleet.readWrite), [
      'ATTACH "c2" AS n',
      "SELECT * FROM pragma_optimize(0x10002)",
      "SELECT optimize(notes) FROM n.notes",
      "INSERT INTO n.docs(docs) VALUES ('rebuild')",
      "PRAGMA n.optimize",
      "ANALYZE n",
      "VACUUM n",
      "REINDEX n.users_name",
      "PRAGMA n.user_version = 7",
      "SELECT count(*) FROM n.users JOIN users USING (id)",
    ]);
    expect(outcomes.slice(1, -1).every((o) => o === "PERMISSION_DENIED" || o === "BLOCKED")).toBe(true);
    expect(outcomes.at(-1)).toBe("ok");
    expect(changedFiles(before, fileHashes(engine.dir)).filter((f) => !f.includes("c1"))).toEqual([]);
  });

  it("still lets a writer optimize its own FTS tables and a standard database analyze itself", async () => {
    await engine.createDatabase("own", { group: "g" });
    await engine.execute(
      "own",
      "CREATE VIRTUAL TABLE t USING fts4(b); INSERT INTO t VALUES ('a'); INSERT INTO t VALUES ('b'); CREATE TABLE x (a); CREATE INDEX xa ON x(a)",
    );
    await engine.execute("own", "SELECT optimize(t) FROM t; PRAGMA optimize; ANALYZE");
    expect(
      await scalar(engine, "own", "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'"),
    ).toBe(1n);
    engine.updateDatabaseConfig("own", { blockWrites: true });
    // ...and a write it is, so block_writes stops it.
    await rejectsWith(engine.execute("own", "SELECT optimize(t) FROM t"), "BLOCKED");
    engine.updateDatabaseConfig("own", { blockWrites: false });
  });
});

describe("smaller leaks", () => {
  it("describe obeys block_reads", async () => {
    const session = engine.openSession("catalog");
    try {
      expect(session.describe("SELECT * FROM promotions").columns).toHaveLength(2);
      engine.updateDatabaseConfig("catalog", { blockReads: true });
      expect(await rejectsWith(() => session.describe("SELECT * FROM promotions"), "BLOCKED")).toMatch(
        /block_reads/,
      );
    } finally {
      engine.updateDatabaseConfig("catalog", { blockReads: false });
      session.close();
    }
  });

  it("binds attach grants to the database's id: a re-created namesake is not attachable", async () => {
    await engine.createDatabase("shared", { group: "g" });
    engine.updateDatabaseConfig("shared", { allowAttach: true });
    const { jwt } = await engine.createToken({ database: "c1", attach: ["shared"] });
    expect(await run(await as(jwt), ['ATTACH "shared" AS s'])).toEqual(["ok"]);
    engine.destroyDatabase("shared");
    await engine.createDatabase("shared", { group: "g" });
    engine.updateDatabaseConfig("shared", { allowAttach: true });
    const session = engine.openSession("c1", await as(jwt));
    try {
      expect(await rejectsWith(session.execute('ATTACH "shared" AS s'), "PERMISSION_DENIED")).toMatch(
        /does not allow attaching "shared"/,
      );
    } finally {
      session.close();
    }
    const fresh = await engine.createToken({ database: "c1", attach: [engine.getDatabase("shared").uuid] });
    expect(await run(await as(fresh.jwt), ['ATTACH "shared" AS s'])).toEqual(["ok"]);
  });

  it("makes `db config attach disallow` reach a session that already attached, at its next statement", async () => {
    const session = engine.openSession("c1", await as(fleet.readWrite));
    try {
      await session.execute('ATTACH "catalog" AS cat');
      await session.execute("SELECT count(*) FROM cat.promotions");
      engine.updateDatabaseConfig("catalog", { allowAttach: false });
      expect(
        await rejectsWith(session.execute("SELECT count(*) FROM cat.promotions"), "PERMISSION_DENIED"),
      ).toMatch(/no longer allows attach; it was detached/);
      // Detached: the session goes on with its own database only.
      await rejectsWith(session.execute("SELECT count(*) FROM cat.promotions"), "INVALID_ARGUMENT");
      await session.execute("SELECT count(*) FROM users");
    } finally {
      engine.updateDatabaseConfig("catalog", { allowAttach: true });
      session.close();
    }
  });

  it("takes ATTACH targets by name or id, double- or single-quoted, and nothing else", async () => {
    const id = engine.getDatabase("catalog").uuid;
    expect(
      await run(await as(fleet.readWrite), [
        `ATTACH 'catalog' AS a1`,
        `ATTACH "${id}" AS a2`,
        `ATTACH '${id.toUpperCase()}' AS a3`,
        `ATTACH DATABASE catalog AS a4`,
        "SELECT count(*) FROM a1.promotions JOIN a2.promotions USING (category)",
      ]),
    ).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    for (const sql of [
      "ATTACH 'catalog.db' AS x",
      "ATTACH ':memory:' AS x",
      "ATTACH '' AS x",
      "ATTACH 'file:catalog?mode=rwc' AS x",
      "ATTACH '../catalog' AS x",
      "ATTACH 'cat' || 'alog' AS x",
      "ATTACH ? AS x",
    ]) {
      expect(await rejectsWith(engine.execute("c1", sql), "PERMISSION_DENIED")).toMatch(
        /by name or id, in double or single quotes/,
      );
    }
    await rejectsWith(engine.execute("c1", "ATTACH 'nothing-here' AS x"), "NOT_FOUND");
  });
});
