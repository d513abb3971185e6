import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../cli/errors.js";
import { runCli, tempDir } from "../helpers.js";

/** Terminal columns of a string, counted independently of the CLI: CJK ideographs take two. */
function columns(s: string): number {
  return [...s].reduce((n, ch) => n + (/[\u4e00-\u9fff\u3040-\u30ff]/.test(ch) ? 2 : 1), 0);
}

function rowsOf(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).raw(true).all();
  } finally {
    db.close();
  }
}

describe("db shell: dot-commands, modes and scripts, one-shot and piped", () => {
  let dir: string;
  const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
  let root: string;
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  beforeAll(async () => {
    // Shared by the suite (tempDir's are removed after each test).
    root = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-shell-"));
    dir = path.join(root, "data");
    await t("db", "create", "notes");
    await t(
      "db",
      "shell",
      "notes",
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX users_name ON users(name); INSERT INTO users (name) VALUES ('日本語'), ('ab')",
    );
  });

  it("runs dot-commands one-shot and from a pipe", async () => {
    expect((await t("db", "shell", "notes", ".tables")).stdout).toBe("NAME\nusers\n");
    expect((await t("db", "shell", "notes", ".schema users")).stdout).toMatch(
      /^CREATE TABLE users \(id INTEGER PRIMARY KEY, name TEXT\);\nCREATE INDEX users_name ON users\(name\);\n$/,
    );
    expect((await t("db", "shell", "notes", ".indexes")).stdout).toMatch(/users_name\s+users/);
    const piped = await runCli(["--data-dir", dir, "db", "shell", "notes"], {
      input: [
        ".mode csv",
        "SELECT id, name FROM users ORDER BY id;",
        ".headers off",
        ".mode line",
        "SELECT name FROM users WHERE id = 2;",
        ".mode json",
        "SELECT id FROM users ORDER BY id;",
        ".timer on",
        "SELECT 1;",
        ".help",
      ].join("\n"),
    });
    expect(piped.code).toBe(0);
    // sqlite3's formats: csv with headers, then line and json without, then a timed statement.
    expect(piped.stdout).toMatch(
      /^id,name\n1,日本語\n2,ab\nname = ab\n\[\{"id":1\},\n\{"id":2\}\]\n\[\{"1":1\}\]\nRun Time: real \d+\.\d+ user \d+\.\d+ sys \d+\.\d+\n/,
    );
    expect(piped.stdout).toMatch(/\.read FILE/); // .help
    const unknown = await t("db", "shell", "notes", ".frobnicate");
    expect(unknown.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(unknown.stderr).toMatch(/^Error: unknown command "\.frobnicate"; \.help lists/);
  });

  it("aligns columns by display width, wide characters included", async () => {
    for (const mode of ["box", "table", "column"]) {
      const r = await runCli(["--data-dir", dir, "db", "shell", "notes"], {
        input: `.mode ${mode}\nSELECT name, id FROM users ORDER BY id;\n`,
      });
      const lines = r.stdout.trimEnd().split("\n");
      const wide = lines.find((l) => l.includes("日本語")) as string;
      const narrow = lines.find((l) => l.includes("ab")) as string;
      // The id column starts at the same terminal column in both rows.
      expect(columns(wide.slice(0, wide.indexOf("1"))), mode).toBe(
        columns(narrow.slice(0, narrow.indexOf("2"))),
      );
      if (mode !== "column") expect(new Set(lines.map(columns)).size, mode).toBe(1);
    }
  });

  it(".read runs a file, and .dump prints SQL that rebuilds the table", async () => {
    const scratch = tempDir();
    const script = path.join(scratch, "more.sql");
    fs.writeFileSync(
      script,
      "INSERT INTO users (name) VALUES ('from file');\n.mode csv\nSELECT count(*) FROM users;\n",
    );
    const r = await t("db", "shell", "notes", `.read ${script}`);
    expect(r.stdout).toBe("1 row affected\ncount(*)\n3\n");
    const dump = await t("db", "shell", "notes", ".dump users");
    expect(dump.stdout).toMatch(/^PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE users/);
    expect(dump.stdout).not.toMatch(/_tenantdb_/);
    const copy = new Database(path.join(scratch, "copy.db"));
    copy.exec(dump.stdout);
    expect(copy.prepare("SELECT name FROM users ORDER BY id").pluck().all()).toEqual([
      "日本語",
      "ab",
      "from file",
    ]);
    copy.close();
    await t("db", "shell", "notes", "DELETE FROM users WHERE name = 'from file'");
  });

  it("a failing statement in a script names itself, and the output and commits before it stay", async () => {
    const file = JSON.parse((await t("db", "show", "notes", "--json")).stdout).path;
    const script = [
      "INSERT INTO users (name) VALUES ('one');",
      "SELECT count(*) AS n FROM users;",
      "INSERT INTO nowhere VALUES (1);",
      "INSERT INTO users (name) VALUES ('never');",
    ].join("\n");
    for (const run of [
      () => runCli(["--data-dir", dir, "db", "shell", "notes"], { input: script }),
      () => t("db", "shell", "notes", script),
    ]) {
      const before = rowsOf(file, "SELECT count(*) FROM users")[0] as number[];
      const r = await run();
      expect(r.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
      expect(r.stdout).toBe(`1 row affected\nN\n${Number(before[0]) + 1}\n`);
      expect(r.stderr).toMatch(/^Error: statement 3 failed: SQLite error: no such table: nowhere\n/);
      expect(r.stderr).toMatch(/in: INSERT INTO nowhere VALUES \(1\)/);
      expect(r.stderr).toMatch(/statements 1-2 ran and committed/);
      // What the message says committed is in the file; what came after the failure is not.
      expect(rowsOf(file, "SELECT count(*) FROM users")[0]).toEqual([Number(before[0]) + 1]);
      expect(rowsOf(file, "SELECT count(*) FROM users WHERE name = 'never'")[0]).toEqual([0]);
    }
    // Inside an explicit transaction nothing committed, and the message says so.
    const tx = await t("db", "shell", "notes", "BEGIN; INSERT INTO users (name) VALUES ('tx'); SELECT nope;");
    expect(tx.stderr).toMatch(
      /nothing before it committed; statements 1-2 ran inside a transaction that was rolled back/,
    );
    expect(rowsOf(file, "SELECT count(*) FROM users WHERE name = 'tx'")[0]).toEqual([0]);
    await t("db", "shell", "notes", "DELETE FROM users WHERE name = 'one'");
  });

  it("ends a migration with a line saying where the fleet stands", async () => {
    await t("db", "create", "app", "--type", "schema");
    await t("db", "shell", "app", "CREATE TABLE items (id INTEGER PRIMARY KEY)");
    await t("db", "create", "c1", "c2", "--schema", "app");
    const r = await t("db", "shell", "app", "ALTER TABLE items ADD COLUMN label TEXT");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Migrated app and 2 child databases to schema version 2 in \d+\.\d\ds\.\n$/);
    const c2 = JSON.parse((await t("db", "show", "c2", "--json")).stdout);
    expect(c2.schemaVersion).toBe(2);
    expect(rowsOf(c2.path, "SELECT name FROM pragma_table_info('items')").flat()).toEqual(["id", "label"]);
  });

  it("runs a BEGIN … COMMIT piped into the shell of a schema database as one job; ROLLBACK leaves no file changed", async () => {
    await t("db", "create", "tx-app", "--type", "schema");
    await t("db", "create", "tx-1", "tx-2", "--schema", "tx-app");
    const paths = await Promise.all(
      ["tx-app", "tx-1", "tx-2"].map(
        async (n) => JSON.parse((await t("db", "show", n, "--json")).stdout).path,
      ),
    );
    const bytes = () => paths.map((p) => fs.readFileSync(p).toString("hex"));
    const before = bytes();
    const rolledBack = await runCli(["--data-dir", dir, "db", "shell", "tx-app"], {
      input: "BEGIN;\nCREATE TABLE gone (a);\nINSERT INTO gone VALUES (1);\nROLLBACK;\n",
    });
    expect(rolledBack.code).toBe(0);
    expect(bytes()).toEqual(before);

    const r = await runCli(["--data-dir", dir, "db", "shell", "tx-app"], {
      input:
        "BEGIN;\nCREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);\nINSERT INTO kv VALUES ('a', 'b');\nSELECT count(*) FROM kv;\nCOMMIT;\n",
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const jobs = JSON.parse((await t("db", "migrations", "tx-app", "--json")).stdout);
    expect(jobs).toHaveLength(1);
    for (const p of paths) {
      expect(rowsOf(p, "SELECT k, v FROM kv")).toEqual([["a", "b"]]);
      expect(rowsOf(p, "SELECT value FROM _tenantdb_ WHERE key = 'schema_version'")).toEqual([[1]]);
    }
  });
});
