import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Engine, openEngine } from "../../engine/index.js";
import { ATTACKS } from "../isolation/attacks.js";
import { changedFiles, type Fleet, fileHashes, schemaVersionOf } from "../isolation/fixture.js";
import {
  describeCase,
  generateCase,
  observe,
  rngFor,
  type Setup,
  seedOfRun,
  setUpFleet,
  violations,
} from "../isolation/generated.js";
import { type Served, serve } from "../isolation/serve.js";

/**
 * The leaks of issue 11 over HTTP, against the real `tenantdb serve` process (run with a temp directory
 * of its own, to see whether SQLite puts anything there), checked on the files.
 */

let root: string;
let dataDir: string;
let sqliteTmp: string;
let engine: Engine;
let server: Served;
let tokens: Fleet & { appReadOnly: string; catalogReadWrite: string };
let setup: Setup;
beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-http-iso-"));
  dataDir = path.join(root, "data");
  sqliteTmp = path.join(root, "sqlite-tmp");
  fs.mkdirSync(sqliteTmp);
  engine = await openEngine(dataDir, { workers: 2 });
  setup = await setUpFleet(engine);
  tokens = {
    ...setup.fleet,
    appReadOnly: (await engine.createToken({ database: "app", authorization: "read-only" })).jwt,
    catalogReadWrite: setup.catalogReadWrite,
  };
  server = await serve(dataDir, { SQLITE_TMPDIR: sqliteTmp, TMPDIR: sqliteTmp });
});
afterAll(async () => {
  await server.stop();
  engine.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const versions = () => ["c1", "c2", "app"].map((db) => schemaVersionOf(engine.getDatabase(db).path));

describe("Hrana over HTTP as a hostile tenant", () => {
  it.each(ATTACKS)("refuses $name and changes no file", async (attack) => {
    const before = fileHashes(dataDir);
    const schemaVersions = versions();
    const { outcomes, baton } = await server.pipeline(attack.db, tokens[attack.token], attack.sqls);
    expect(outcomes.slice(0, -1).every((o) => o === "ok")).toBe(true);
    expect(outcomes.at(-1)).toMatch(/^(PERMISSION_DENIED|BLOCKED)$/);
    if (baton) await server.pipeline(attack.db, tokens[attack.token], [], baton).catch(() => {});
    expect(versions()).toEqual(schemaVersions);
    const changed = changedFiles(before, fileHashes(dataDir)).filter(
      (f) => attack.token !== "readWrite" || !f.includes("c1.db-journal"),
    );
    expect(changed).toEqual([]);
  });

  it("answers describe with BLOCKED while block_reads is set", async () => {
    const catalogToken = (await engine.createToken({ database: "catalog" })).jwt;
    expect(await server.describe("catalog", catalogToken, "SELECT * FROM promotions")).toBe("ok");
    engine.updateDatabaseConfig("catalog", { blockReads: true });
    try {
      expect(await server.describe("catalog", catalogToken, "SELECT * FROM promotions")).toBe("BLOCKED");
    } finally {
      engine.updateDatabaseConfig("catalog", { blockReads: false });
    }
  });

  it("makes block_reads reach the executors' reused sessions at their next statement, both ways", async () => {
    const catalogToken = (await engine.createToken({ database: "catalog" })).jwt;
    const read = async () =>
      (
        await server.pipeline("catalog", catalogToken, ["SELECT count(*) FROM promotions"], null, {
          close: true,
        })
      ).outcomes[0];
    // Autocommit requests reuse the executors' idle sessions: these warm them.
    for (let i = 0; i < 4; i++) expect(await read()).toBe("ok");
    engine.updateDatabaseConfig("catalog", { blockReads: true });
    try {
      for (let i = 0; i < 4; i++) expect(await read()).toBe("BLOCKED");
    } finally {
      engine.updateDatabaseConfig("catalog", { blockReads: false });
    }
    for (let i = 0; i < 4; i++) expect(await read()).toBe("ok");
  });

  it("makes `attach disallow` reach an open stream at its next statement", async () => {
    const first = await server.pipeline("c1", tokens.readWrite, [
      'ATTACH "catalog" AS cat',
      "SELECT count(*) FROM cat.promotions",
    ]);
    expect(first.outcomes).toEqual(["ok", "ok"]);
    engine.updateDatabaseConfig("catalog", { allowAttach: false });
    try {
      const next = await server.pipeline(
        "c1",
        tokens.readWrite,
        ["SELECT count(*) FROM cat.promotions", "SELECT count(*) FROM users"],
        first.baton,
      );
      expect(next.outcomes).toEqual(["PERMISSION_DENIED", "ok"]);
    } finally {
      engine.updateDatabaseConfig("catalog", { allowAttach: true });
    }
  });

  it("refuses an attach grant minted for a database since destroyed and re-created under its name", async () => {
    await engine.createDatabase("http-shared", { group: "g" });
    engine.updateDatabaseConfig("http-shared", { allowAttach: true });
    const { jwt } = await engine.createToken({ database: "c1", attach: ["http-shared"] });
    expect((await server.pipeline("c1", jwt, ['ATTACH "http-shared" AS s'])).outcomes).toEqual(["ok"]);
    engine.destroyDatabase("http-shared");
    await engine.createDatabase("http-shared", { group: "g" });
    engine.updateDatabaseConfig("http-shared", { allowAttach: true });
    expect((await server.pipeline("c1", jwt, ['ATTACH "http-shared" AS s'])).outcomes).toEqual([
      "PERMISSION_DENIED",
    ]);
  });

  it("runs the seed's ATTACH-and-join on one stream, and sorts without temp files", async () => {
    const id = engine.getDatabase("catalog").uuid;
    const joined = await server.pipeline("c1", tokens.readOnly, [
      `ATTACH '${id}' AS cat`,
      "SELECT category, discount FROM cat.promotions ORDER BY category",
    ]);
    expect(joined.outcomes).toEqual(["ok", "ok"]);
    expect(joined.rows[1]).toEqual([
      ["books", 0.1],
      ["games", 0.25],
    ]);
    const events: string[] = [];
    const watcher = fs.watch(sqliteTmp, (event, file) => events.push(`${event}:${file}`));
    try {
      const sorted = await server.pipeline("c1", tokens.readOnly, [
        "PRAGMA cache_size = 10",
        "SELECT i FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 60000) SELECT i, randomblob(300) AS b FROM s) ORDER BY b LIMIT 1 OFFSET 59990",
      ]);
      expect(sorted.outcomes).toEqual(["ok", "ok"]);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      watcher.close();
    }
    expect(events).toEqual([]);
    expect(fs.readdirSync(sqliteTmp)).toEqual([]);
  });

  it("serves ordinary reads and writes to @libsql/client", async () => {
    const client = createClient({
      url: `${server.url}/db/c1/`,
      authToken: tokens.readWrite,
      intMode: "bigint",
    });
    try {
      await client.execute({ sql: "INSERT INTO users (name) VALUES (?)", args: ["over-http"] });
      await client.batch(
        ["INSERT INTO users (name) VALUES ('b1')", "UPDATE users SET name = 'b2' WHERE name = 'b1'"],
        "write",
      );
      const rows = await client.execute("SELECT count(*) AS n FROM users WHERE name IN ('over-http', 'b2')");
      expect(rows.rows[0]?.n).toBe(2n);
    } finally {
      client.close();
    }
  });
});

describe("generated statements over HTTP", () => {
  const CASES = 150;
  const seed = seedOfRun();

  it(`hold the isolation invariants over ${CASES} cases (seed ${seed})`, { timeout: 300_000 }, async () => {
    const rng = rngFor(seed);
    const events: string[] = [];
    const watcher = fs.watch(sqliteTmp, (event, file) => events.push(`${event}:${file}`));
    try {
      for (let index = 0; index < CASES; index++) {
        const c = generateCase(
          rng,
          index,
          setup,
          setup.actors.filter((a) => a.token !== undefined),
        );
        const before = observe(engine);
        const { outcomes } = await server.pipeline(c.actor.db, c.actor.token as string, c.sqls, null, {
          close: true,
        });
        expect(outcomes, describeCase(seed, c)).toHaveLength(c.sqls.length);
        expect(violations(c, before, observe(engine)), describeCase(seed, c)).toEqual([]);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      watcher.close();
    }
    expect(events, `seed ${seed}`).toEqual([]);
  });
});
