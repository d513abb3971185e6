import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Engine, openEngine } from "../../engine/index.js";
import { runCli, scalar, tempDir } from "../helpers.js";
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
import { runCliInPty } from "./pty.js";

/** The leaks of issue 11 through the real `tenantdb db shell`, checked on the files. */

const PROMPT = "tenantdb> ";

let dataDir: string;
let engine: Engine;
let tokens: Fleet & { appReadOnly: string; catalogReadWrite: string };
let setup: Setup;
beforeAll(async () => {
  dataDir = path.join(fs.mkdtempSync(path.join(tempDirRoot(), "tenantdb-cli-iso-")), "data");
  engine = await openEngine(dataDir, { workers: 2 });
  setup = await setUpFleet(engine);
  tokens = {
    ...setup.fleet,
    appReadOnly: (await engine.createToken({ database: "app", authorization: "read-only" })).jwt,
    catalogReadWrite: setup.catalogReadWrite,
  };
});
afterAll(() => {
  engine.close();
  fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

function tempDirRoot(): string {
  return process.env.TMPDIR ?? "/tmp";
}

const shell = (db: string, token: string, sql: string, env: NodeJS.ProcessEnv = {}) =>
  runCli(["--data-dir", dataDir, "db", "shell", db, "--token", token, sql], { env });

describe("tenantdb db shell as a hostile tenant", () => {
  it.each(ATTACKS)("refuses $name and changes no file", async (attack) => {
    const before = fileHashes(dataDir);
    const versions = ["c1", "c2", "app"].map((db) => schemaVersionOf(engine.getDatabase(db).path));
    const result = await shell(attack.db, tokens[attack.token], attack.sqls.join(";\n"));
    expect(result.code).toBeGreaterThan(1); // refused with its error class's exit code, never an internal error
    expect(result.stderr).toMatch(/^Error: /);
    expect(["c1", "c2", "app"].map((db) => schemaVersionOf(engine.getDatabase(db).path))).toEqual(versions);
    // A writer's refused statement may leave its own database's journal touched; nothing else moves.
    const changed = changedFiles(before, fileHashes(dataDir)).filter(
      (f) => attack.token !== "readWrite" || !f.includes("c1.db-journal"),
    );
    expect(changed).toEqual([]);
  });

  it("refuses an attach grant minted for a database since destroyed and re-created under its name", async () => {
    await engine.createDatabase("cli-shared", { group: "g" });
    engine.updateDatabaseConfig("cli-shared", { allowAttach: true });
    const { jwt } = await engine.createToken({ database: "c1", attach: ["cli-shared"] });
    expect((await shell("c1", jwt, 'ATTACH "cli-shared" AS s; SELECT 1')).code).toBe(0);
    expect((await runCli(["--data-dir", dataDir, "db", "destroy", "cli-shared", "--yes"])).code).toBe(0);
    await engine.createDatabase("cli-shared", { group: "g" });
    engine.updateDatabaseConfig("cli-shared", { allowAttach: true });
    const refused = await shell("c1", jwt, 'ATTACH "cli-shared" AS s');
    expect(refused.code).toBe(8); // PERMISSION_DENIED
    expect(refused.stderr).toMatch(/does not allow attaching "cli-shared"/);
  });

  it("makes `db config attach disallow` reach an open interactive shell at its next statement", async () => {
    const attached = "pty-attached";
    const shell = runCliInPty(
      ["--data-dir", dataDir, "db", "shell", "c1", "--token", tokens.readWrite],
      [
        { waitFor: PROMPT },
        { send: 'ATTACH "catalog" AS cat;\r' },
        { waitFor: PROMPT },
        { send: "SELECT group_concat(category) AS c FROM cat.promotions;\r" },
        { waitFor: "books,games" },
        // The sign, on disk, that the shell has attached: the test disallows only then.
        { send: `INSERT INTO users (name) VALUES ('${attached}');\r` },
        {
          waitForSql: [
            path.join(dataDir, "catalog.db"),
            "SELECT 1 FROM databases WHERE name = 'catalog' AND allow_attach = 0",
          ],
        },
        { send: "SELECT group_concat(category) AS c FROM cat.promotions;\r" },
        { waitFor: "no longer allows attach" },
        { send: "SELECT count(*) AS still FROM users;\r" },
        { waitFor: "still" },
        { send: ".quit\r" },
      ],
    );
    for (let i = 0; i < 600; i++) {
      if ((await scalar(engine, "c1", `SELECT count(*) FROM users WHERE name = '${attached}'`)) === 1n) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    engine.updateDatabaseConfig("catalog", { allowAttach: false });
    try {
      const r = await shell;
      expect(r.missing).toBeNull();
      expect(r.code).toBe(0);
      expect(r.output).toMatch(
        /Error: database "catalog" \(attached as "cat"\) no longer allows attach; it was detached/,
      );
    } finally {
      engine.updateDatabaseConfig("catalog", { allowAttach: true });
      await engine.execute("c1", `DELETE FROM users WHERE name = '${attached}'`);
    }
  }, 120_000);

  it("runs the seed's ATTACH-and-join, by name and by id", async () => {
    const id = engine.getDatabase("catalog").uuid;
    for (const target of ['"catalog"', `'${id}'`]) {
      const result = await runCli([
        "--data-dir",
        dataDir,
        "--json",
        "db",
        "shell",
        "c1",
        "--token",
        tokens.readOnly,
        `ATTACH ${target} AS cat; SELECT category, discount FROM cat.promotions ORDER BY category`,
      ]);
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout).at(-1).rows).toEqual([
        ["books", 0.1],
        ["games", 0.25],
      ]);
    }
  });

  it("keeps a large sort's temporary data out of the temp directory", async () => {
    const tmp = tempDir("tenantdb-sqlite-tmp-");
    const events: string[] = [];
    const watcher = fs.watch(tmp, (event, file) => events.push(`${event}:${file}`));
    try {
      const result = await shell(
        "c1",
        tokens.readOnly,
        "PRAGMA cache_size = 10; SELECT i FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 60000) SELECT i, randomblob(300) AS b FROM s) ORDER BY b LIMIT 1 OFFSET 59990",
        { SQLITE_TMPDIR: tmp, TMPDIR: tmp },
      );
      expect(result.code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      watcher.close();
    }
    expect(events).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});

describe("generated statements through tenantdb db shell", () => {
  const CASES = 4;
  const seed = seedOfRun();

  it(`hold the isolation invariants over ${CASES} cases (seed ${seed})`, async () => {
    const rng = rngFor(seed);
    for (let index = 0; index < CASES; index++) {
      const c = generateCase(rng, index, setup);
      const before = observe(engine);
      const args = ["--data-dir", dataDir, "db", "shell", c.actor.db];
      if (c.actor.token) args.push("--token", c.actor.token);
      // One process runs the statements as one batch: it stops at the first error, as sqlite3 does.
      const result = await runCli([...args, c.sqls.join(";\n")]);
      expect(result.stderr, describeCase(seed, c)).not.toMatch(/unexpected failure/);
      expect(violations(c, before, observe(engine)), describeCase(seed, c)).toEqual([]);
    }
  });
});
