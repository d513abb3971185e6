import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../cli/errors.js";
import { runCli, tempDir } from "../helpers.js";
import { setUpDataDir } from "./data-dir.js";

function rowsOf(file: string, sql: string): unknown[][] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).raw(true).all() as unknown[][];
  } finally {
    db.close();
  }
}

describe("turso habits", () => {
  it("destroys several databases, or a fleet's children, only with --yes off a terminal and only what was named", async () => {
    const dir = path.join(tempDir(), "data");
    const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
    await setUpDataDir(dir, async (engine) => {
      engine.createGroup("default");
      await engine.createDatabase("app", { group: "default", type: "schema" });
      await engine.migrate("app", "CREATE TABLE t (x)");
      await engine.createChildren("app", ["c1", "c2", "c3"]);
      await engine.createDatabase("a", { group: "default" });
      await engine.createDatabase("b", { group: "default" });
    });
    const names = async () =>
      JSON.parse((await t("db", "list", "--json")).stdout).map((d: { name: string }) => d.name);

    const refused = await t("db", "destroy", "a", "b");
    expect(refused.code).toBe(EXIT_CODES.FAILED_PRECONDITION);
    expect(refused.stderr).toMatch(/refusing without --yes/);
    const typo = await t("db", "destroy", "a", "nope", "-y");
    expect(typo.code).toBe(EXIT_CODES.NOT_FOUND);
    expect(typo.stderr).toMatch(/not found: nope; nothing was destroyed/);
    expect(await names()).toEqual(["a", "app", "b", "c1", "c2", "c3"]);

    const pathOfA = JSON.parse((await t("db", "show", "a", "--json")).stdout).path;
    expect(JSON.parse((await t("db", "destroy", "a", "b", "--yes", "--json")).stdout)).toEqual({
      destroyed: ["a", "b"],
    });
    expect(fs.existsSync(pathOfA)).toBe(false);
    expect((await t("db", "destroy", "--schema", "app", "--yes")).code).toBe(0);
    expect(await names()).toEqual(["app"]);
  });

  it("sets block-reads and block-writes, which the shell then honours", async () => {
    const dir = path.join(tempDir(), "data");
    const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
    await t("db", "create", "x");
    await t("db", "shell", "x", "CREATE TABLE t (v)");
    expect((await t("db", "config", "block-writes", "on", "x")).stdout).toBe("Writes are blocked on x.\n");
    const write = await t("db", "shell", "x", "INSERT INTO t VALUES (1)");
    expect(write.code).toBe(EXIT_CODES.BLOCKED);
    expect((await t("db", "shell", "x", "SELECT count(*) FROM t")).code).toBe(0);
    await t("db", "config", "block-writes", "off", "x");
    await t("db", "config", "block-reads", "on", "x");
    expect(JSON.parse((await t("db", "show", "x", "--json")).stdout)).toMatchObject({
      blockReads: true,
      blockWrites: false,
    });
    expect((await t("db", "shell", "x", "SELECT count(*) FROM t")).code).toBe(EXIT_CODES.BLOCKED);
    expect(JSON.parse((await t("db", "config", "block-reads", "off", "x", "--json")).stdout)).toEqual({
      database: "x",
      blockReads: false,
    });
    expect((await t("db", "config", "block-reads", "maybe", "x")).code).toBe(EXIT_CODES.INVALID_ARGUMENT);
  });

  it("inspects, dumps, imports and seeds databases from templates", async () => {
    const scratch = tempDir();
    const dir = path.join(scratch, "data");
    const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
    await t("db", "create", "tpl");
    await t(
      "db",
      "shell",
      "tpl",
      "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT, price REAL, raw BLOB); CREATE INDEX items_label ON items(label); INSERT INTO items VALUES (1, 'it''s', 1.0, x'00ff'), (2, '多', 2.5, NULL)",
    );
    const inspected = JSON.parse((await t("db", "inspect", "tpl", "--json")).stdout);
    const tplPath = JSON.parse((await t("db", "show", "tpl", "--json")).stdout).path;
    expect(inspected).toMatchObject({
      name: "tpl",
      schemaVersion: 0,
      sizeBytes: fs.statSync(tplPath).size,
      tables: [{ name: "items", rows: 2 }],
      indexes: [{ name: "items_label", table: "items" }],
    });

    const dump = await t("db", "dump", "tpl");
    const dumpFile = path.join(scratch, "tpl.sql");
    fs.writeFileSync(dumpFile, dump.stdout);
    const expected = rowsOf(
      tplPath,
      "SELECT id, label, price, typeof(price), hex(raw) FROM items ORDER BY id",
    );
    const sameAsTemplate = async (name: string) => {
      const p = JSON.parse((await t("db", "show", name, "--json")).stdout).path;
      expect(
        rowsOf(p, "SELECT id, label, price, typeof(price), hex(raw) FROM items ORDER BY id"),
        name,
      ).toEqual(expected);
      expect(rowsOf(p, "SELECT name FROM sqlite_schema WHERE type = 'index'").flat(), name).toEqual([
        "items_label",
      ]);
    };
    expect((await t("db", "create", "from-dump", "--from-dump", dumpFile)).code).toBe(0);
    await sameAsTemplate("from-dump");
    expect((await t("db", "create", "from-db", "--from-db", "tpl")).code).toBe(0);
    await sameAsTemplate("from-db");
    expect((await t("db", "import", "imported", dumpFile)).stdout).toMatch(/into new database imported/);
    await sameAsTemplate("imported");

    // A plain SQLite file imports too (its own tables, its own rows).
    const sqliteFile = path.join(scratch, "legacy.sqlite3");
    fs.copyFileSync(tplPath, sqliteFile);
    expect((await t("db", "import", "legacy", sqliteFile)).code).toBe(0);
    await sameAsTemplate("legacy");

    // A failing import leaves nothing behind: no new database, no half-loaded existing one.
    const bad = path.join(scratch, "bad.sql");
    fs.writeFileSync(bad, "CREATE TABLE ok (x); INSERT INTO ok VALUES (1); INSERT INTO missing VALUES (1);");
    expect((await t("db", "import", "fresh", bad)).code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect((await t("db", "show", "fresh")).code).toBe(EXIT_CODES.NOT_FOUND);
    expect((await t("db", "import", "tpl", bad)).code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(rowsOf(tplPath, "SELECT name FROM sqlite_schema WHERE name = 'ok'")).toEqual([]);
    expect((await t("db", "create", "nope", "--from-db", "missing")).code).toBe(EXIT_CODES.NOT_FOUND);
    expect((await t("db", "show", "nope")).code).toBe(EXIT_CODES.NOT_FOUND);
  });
});
