import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { type Engine, openEngine } from "../../engine/index.js";
import { runCli, tempDir } from "../helpers.js";
import { runCliInPty } from "./pty.js";

const PROMPT = "tenantdb> ";
/** A statement that never ends on its own: it counts without bound. */
const FOREVER = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;";

/** Prepares a data directory with the engine itself: quicker than a CLI process per step. */
async function setUp<T>(dir: string, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await openEngine(dir, { workers: 2 });
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}

describe("the interactive shell, driven through a pseudo-terminal", () => {
  it("keeps going after Ctrl-C, continues lines, runs dot-commands, and keeps a history", async () => {
    const root = tempDir();
    const dir = path.join(root, "data");
    const history = path.join(root, "history");
    await runCli(["--data-dir", dir, "db", "create", "x"]);
    const r = await runCliInPty(
      ["--data-dir", dir, "db", "shell", "x"],
      [
        { waitFor: PROMPT },
        { send: "SELECT 'dropped'" }, // typed, then cancelled
        { send: "\x03" },
        { waitFor: PROMPT },
        { send: "\x03" }, // at an empty prompt: the shell stays
        { waitFor: PROMPT },
        { send: "SELECT 40 +\r" },
        { waitFor: "...> " },
        { send: "2 AS answer;\r" },
        { waitFor: "42" },
        { send: ".mode line\r" },
        { waitFor: PROMPT },
        { send: "SELECT 'still here' AS state;\r" },
        { waitFor: "state = still here" },
        { send: ".quit\r" },
      ],
      { env: { TENANTDB_HISTORY: history } },
    );
    expect(r.missing).toBeNull();
    expect(r.code).toBe(0);
    expect(r.output).not.toMatch(/dropped\r?\n[^\n]*dropped/); // never ran
    expect(r.output).not.toMatch(/Error/);
    const saved = fs.readFileSync(history, "utf8").split("\n");
    expect(saved).toEqual(expect.arrayContaining(["SELECT 40 +", "2 AS answer;", ".mode line"]));
    expect(saved).not.toContain("SELECT 'dropped'");

    // The next session starts with it: Up recalls the last line.
    const again = await runCliInPty(
      ["--data-dir", dir, "db", "shell", "x"],
      [{ waitFor: PROMPT }, { send: "\x1b[A" }, { waitFor: ".quit" }, { send: "\r" }],
      { env: { TENANTDB_HISTORY: history } },
    );
    expect(again.missing).toBeNull();
    expect(again.code).toBe(0);
  });

  it("stops a running statement on Ctrl-C, rolls back its open transaction, and keeps the shell", async () => {
    const dir = path.join(tempDir(), "data");
    const file = await setUp(dir, async (engine) => {
      await engine.createDatabase("y", { createGroup: true });
      engine.updateDatabaseConfig("y", { allowAttach: true });
      return (await engine.createDatabase("x")).path;
    });
    const r = await runCliInPty(
      ["--data-dir", dir, "db", "shell", "x"],
      [
        { waitFor: PROMPT },
        { send: "CREATE TABLE t (v); INSERT INTO t VALUES ('kept'); ATTACH \"y\" AS other;\r" },
        { waitFor: PROMPT },
        { send: ".mode line\r" },
        { waitFor: PROMPT },
        // Ctrl-C right behind Enter: whether it lands before or while the statement runs, it never finishes.
        { send: `${FOREVER}\r\x03` },
        { waitFor: "Interrupted" },
        { waitFor: PROMPT },
        { send: "BEGIN; INSERT INTO t VALUES ('lost');\r" },
        { waitFor: PROMPT },
        // The first statement's row shows the second is running: Ctrl-C then lands inside SQLite.
        { send: `SELECT 'running' AS state; ${FOREVER}\r` },
        { waitFor: "state = running" },
        { send: "\x03" },
        { waitFor: "Interrupted: the open transaction was rolled back" },
        { waitFor: PROMPT },
        { send: "SELECT group_concat(v) AS v FROM t;\r" },
        { waitFor: "v = kept\r\n" }, // in .mode line still
        { send: "SELECT count(*) AS attached FROM other.sqlite_schema;\r" }, // attached again
        { waitFor: "attached = 0" },
        { send: ".quit\r" },
      ],
    );
    expect(r.missing).toBeNull();
    expect(r.code).toBe(0);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT v FROM t").all()).toEqual([{ v: "kept" }]);
    db.close();
  });

  it("on Ctrl-C during a migration, abandons it before its commit point and finishes it past it", async () => {
    const dir = path.join(tempDir(), "data");
    const files = await setUp(dir, async (engine) => {
      await engine.createDatabase("app", { type: "schema", createGroup: true });
      await engine.migrate("app", "CREATE TABLE users (id INTEGER PRIMARY KEY)");
      await engine.createChildren("app", ["c1", "c2"]);
      return engine.listDatabases().map((d) => d.path);
    });
    const counted = (bound: string) =>
      `INSERT INTO users (id) SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c${bound}) SELECT x FROM c);\r`;
    const r = await runCliInPty(
      ["--data-dir", dir, "db", "shell", "app"],
      [
        { waitFor: PROMPT },
        { send: counted("") }, // never ends: its dry run is where Ctrl-C finds it
        { waitFor: "dry run" },
        { send: "\x03" },
        { waitFor: "Interrupted: the migration stopped before its commit point, so nothing changed" },
        { waitFor: PROMPT },
        { send: counted(" WHERE x < 150000") },
        { waitForSql: [path.join(dir, "catalog.db"), "SELECT 1 FROM jobs WHERE state = 'committed'"] },
        { send: "\x03" },
        { waitFor: "Interrupted: the migration had passed its commit point, so it was finished" },
        { waitFor: PROMPT },
        { send: "SELECT id FROM users;\r" },
        { waitFor: "150000" },
        { send: ".quit\r" },
      ],
    );
    expect(r.missing).toBeNull();
    expect(r.code).toBe(0);
    expect(files).toHaveLength(3);
    for (const file of files) {
      const db = new Database(file, { readonly: true });
      expect(db.prepare("SELECT id FROM users").all()).toEqual([{ id: 150000 }]);
      expect(db.prepare("SELECT value FROM _tenantdb_ WHERE key = 'schema_version'").get()).toEqual({
        value: 2,
      });
      db.close();
    }
  });

  it("asks before destroying on a terminal, and destroys only on yes", async () => {
    const dir = path.join(tempDir(), "data");
    await runCli(["--data-dir", dir, "db", "create", "keep"]);
    const no = await runCliInPty(
      ["--data-dir", dir, "db", "destroy", "keep"],
      [{ waitFor: "[y/N] " }, { send: "n\r" }, { waitFor: "Nothing destroyed." }],
    );
    expect(no.missing).toBeNull();
    expect((await runCli(["--data-dir", dir, "db", "show", "keep"])).code).toBe(0);
    const yes = await runCliInPty(
      ["--data-dir", dir, "db", "destroy", "keep"],
      [{ waitFor: "[y/N] " }, { send: "y\r" }, { waitFor: "Destroyed database keep." }],
    );
    expect(yes.missing).toBeNull();
    expect(yes.code).toBe(0);
    expect((await runCli(["--data-dir", dir, "db", "show", "keep"])).code).not.toBe(0);
  });
});
