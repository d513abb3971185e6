import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../cli/errors.js";
import { runCli, tempDir } from "../helpers.js";
import { setUpDataDir } from "./data-dir.js";

function cli(dataDir: string) {
  return (...args: string[]) => runCli(["--data-dir", dataDir, ...args]);
}

/** A failure as scripts see it: `Error: ...` on stderr, no stack trace, the exit code of its class. */
function expectCleanError(
  r: { code: number; stdout: string; stderr: string },
  pattern: RegExp,
  code: keyof typeof EXIT_CODES,
) {
  expect(r.code).toBe(EXIT_CODES[code]);
  expect(r.stderr).toMatch(/^Error: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // never a stack trace
}

describe("tenantdb CLI", () => {
  it("manages groups and databases, with --json printing JSON only", async () => {
    const dir = path.join(tempDir(), "data");
    const t = cli(dir);
    expect((await t("group", "create", "acme", "--location", "lhr")).code).toBe(0);
    const groups = JSON.parse((await t("group", "list", "--json")).stdout);
    expect(groups).toEqual([expect.objectContaining({ name: "acme", location: "lhr", databases: 0 })]);

    // --group defaults to "default", created on first use.
    expect((await t("db", "create", "plain")).code).toBe(0);
    expect((await t("db", "create", "app", "--group", "acme", "--type", "schema")).code).toBe(0);
    expect(
      (await t("db", "shell", "app", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")).code,
    ).toBe(0);
    expect((await t("db", "create", "tenant-1", "--schema", "app")).code).toBe(0);

    const shown = JSON.parse((await t("db", "show", "tenant-1", "--json")).stdout);
    expect(shown).toMatchObject({
      name: "tenant-1",
      group: "acme",
      type: "child",
      schemaParent: "app",
      schemaVersion: 1,
      allowAttach: false,
      blockReads: false,
      blockWrites: false,
    });
    expect(fs.existsSync(shown.path)).toBe(true);
    const list = JSON.parse((await t("db", "list", "--json")).stdout);
    expect(list.map((d: { name: string }) => d.name)).toEqual(["app", "plain", "tenant-1"]);
    const children = JSON.parse((await t("db", "list", "--schema", "app", "--json")).stdout);
    expect(children.map((d: { name: string }) => d.name)).toEqual(["tenant-1"]);
    expect((await t("group", "list")).stdout).toMatch(/^NAME\s+LOCATION\s+DATABASES/);

    expectCleanError(await t("db", "destroy", "app", "--yes"), /still has 1 child/, "FAILED_PRECONDITION");
    expectCleanError(
      await t("group", "destroy", "acme", "--yes"),
      /still has 2 databases/,
      "FAILED_PRECONDITION",
    );
    expectCleanError(await t("db", "create", "Bad/Name"), /invalid database name/, "INVALID_ARGUMENT");
    expectCleanError(
      await t("db", "create", "x", "--group", "missing"),
      /group "missing" not found/,
      "NOT_FOUND",
    );
    expectCleanError(
      await t("db", "create", "x", "--schema", "plain"),
      /not a schema database/,
      "FAILED_PRECONDITION",
    );
    expectCleanError(await t("db", "create", "plain"), /already exists/, "ALREADY_EXISTS");
    // Several children at once: all or none.
    const many = JSON.parse(
      (await t("db", "create", "t-a", "t-b", "t-c", "--schema", "app", "--json")).stdout,
    );
    expect(many.map((d: { name: string; schemaVersion: number }) => [d.name, d.schemaVersion])).toEqual([
      ["t-a", 1],
      ["t-b", 1],
      ["t-c", 1],
    ]);
    expectCleanError(
      await t("db", "create", "t-d", "t-a", "--schema", "app"),
      /already exists/,
      "ALREADY_EXISTS",
    );
    expectCleanError(await t("db", "show", "t-d"), /not found/, "NOT_FOUND");
    expectCleanError(await t("db", "create", "x-1", "x-2"), /add --schema/, "INVALID_ARGUMENT");
    expect((await t("db", "destroy", "t-a", "t-b", "t-c", "--yes")).code).toBe(0);
    expect((await t("db", "destroy", "tenant-1", "--yes")).code).toBe(0);
    expect((await t("db", "destroy", "app", "--yes")).code).toBe(0);
    expectCleanError(await t("db", "show", "app"), /not found/, "NOT_FOUND");
  });

  it("runs SQL in db shell, prints --json per statement, reads a pipe, and refuses DDL on a child", async () => {
    const dir = path.join(tempDir(), "data");
    const t = cli(dir);
    await setUpDataDir(dir, async (engine) => {
      engine.createGroup("default");
      await engine.createDatabase("parent", { group: "default", type: "schema" });
      await engine.migrate("parent", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
      await engine.createChildren("parent", ["child"]);
    });

    const r = await t(
      "db",
      "shell",
      "child",
      "INSERT INTO users (name) VALUES ('a'), ('b'); SELECT id, name FROM users ORDER BY id",
      "--json",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { columns: [], rows: [], rowsAffected: 2 },
      {
        columns: ["id", "name"],
        rows: [
          [1, "a"],
          [2, "b"],
        ],
        rowsAffected: 0,
      },
    ]);

    const piped = await runCli(["--data-dir", dir, "db", "shell", "child"], {
      input: "SELECT count(*) AS n FROM users;\n",
    });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/^N\n2\n$/);

    const blocked = await t("db", "shell", "child", "CREATE TABLE new_table (name);");
    expectCleanError(blocked, /Operation was blocked/, "BLOCKED");
    const schema = await t(
      "db",
      "shell",
      "child",
      "SELECT name FROM sqlite_schema WHERE name = 'new_table'",
      "--json",
    );
    expect(JSON.parse(schema.stdout)[0].rows).toEqual([]);

    await t("db", "shell", "child", "INSERT INTO users (name) VALUES ('a')");
    const failed = await t("db", "shell", "parent", "CREATE UNIQUE INDEX users_name ON users(name)");
    expectCleanError(failed, /child: statement 1 .*UNIQUE constraint failed/, "FAILED_PRECONDITION");
    const jobs = JSON.parse((await t("db", "migrations", "parent", "--json")).stdout);
    expect(jobs[0]).toMatchObject({
      state: "failed",
      statements: "CREATE UNIQUE INDEX users_name ON users(name)",
    });
    expect(jobs[0].tasks).toContainEqual(
      expect.objectContaining({ database: "child", state: "dry_run_failed" }),
    );
    expect((await t("db", "migrations", "parent")).stdout).toMatch(/failed/);
    expect((await t("db", "migrations", "resume", "parent")).stdout).toMatch(/Nothing to resume/);
  });

  it("mints tokens, runs the seed's attach query with one, and revokes it", async () => {
    const dir = path.join(tempDir(), "data");
    const t = cli(dir);
    await setUpDataDir(dir, async (engine) => {
      engine.createGroup("default");
      await engine.createDatabase("catalog", { group: "default" });
      await engine.execute(
        "catalog",
        "CREATE TABLE promotions (category TEXT, discount REAL); INSERT INTO promotions VALUES ('books', 0.1), ('toys', 0.2)",
      );
      await engine.createDatabase("tenant", { group: "default" });
      await engine.execute(
        "tenant",
        "CREATE TABLE user_preferences (user_id INTEGER, interested_category TEXT); INSERT INTO user_preferences VALUES (7, 'books')",
      );
    });
    expect((await t("db", "config", "attach", "allow", "catalog")).stdout).toMatch(/allowed/);
    expect(JSON.parse((await t("db", "config", "attach", "show", "catalog", "--json")).stdout)).toEqual({
      database: "catalog",
      allowAttach: true,
    });

    const created = await t("db", "tokens", "create", "tenant", "--attach", "catalog", "--expiration", "1d");
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token.split(".")).toHaveLength(3);
    expect(created.stdout).toBe(`${token}\n`);

    const joined = await t(
      "db",
      "shell",
      "tenant",
      "--token",
      token,
      "--json",
      'ATTACH "catalog" AS catalog; SELECT category, discount FROM catalog.promotions JOIN user_preferences AS up ON category = up.interested_category WHERE up.user_id = 7',
    );
    expect(joined.code).toBe(0);
    expect(JSON.parse(joined.stdout)[1].rows).toEqual([["books", 0.1]]);
    const viaFlag = await t(
      "db",
      "shell",
      "tenant",
      "--token",
      token,
      "--attach",
      "catalog",
      "SELECT count(*) FROM catalog.promotions",
      "--json",
    );
    expect(JSON.parse(viaFlag.stdout)[0].rows).toEqual([[2]]);

    const readOnly = (await t("group", "tokens", "create", "default", "--read-only")).stdout.trim();
    expectCleanError(
      await t("db", "shell", "tenant", "--token", readOnly, "DELETE FROM user_preferences"),
      /read-only/,
      "PERMISSION_DENIED",
    );
    expectCleanError(
      await t("db", "tokens", "create", "tenant", "--expiration", "2x"),
      /expiration|duration/i,
      "INVALID_ARGUMENT",
    );

    expect((await t("db", "tokens", "revoke", token)).stdout).toMatch(/Revoked/);
    expectCleanError(
      await t("db", "shell", "tenant", "--token", token, "SELECT 1"),
      /revoked/,
      "UNAUTHENTICATED",
    );
    const fresh = (await t("db", "tokens", "create", "tenant")).stdout.trim();
    expect((await t("db", "shell", "tenant", "--token", fresh, "SELECT 1")).code).toBe(0);
    expect((await t("db", "tokens", "invalidate", "tenant", "--yes")).code).toBe(0);
    expectCleanError(
      await t("db", "shell", "tenant", "--token", fresh, "SELECT 1"),
      /invalid/i,
      "UNAUTHENTICATED",
    );
    expect((await t("group", "keys", "show", "default")).stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it("runs the demo end to end on a fresh directory", async () => {
    const dir = path.join(tempDir(), "demo");
    const r = await runCli(["--data-dir", dir, "demo"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tenant-acme: users\(id, name, email, phone_number\)/);
    expect(r.stdout).toMatch(/tenant-initech: users\(id, name, email, phone_number\)/);
    expect(r.stdout).toMatch(/Error: Operation was blocked/);
    expect(r.stdout).toMatch(/books\s+0\.1/);
    expectCleanError(await runCli(["--data-dir", dir, "demo"]), /--fresh/, "FAILED_PRECONDITION");
    expect((await runCli(["--data-dir", dir, "demo", "--fresh"])).code).toBe(0);
  });

  it("prints help and usage errors without stack traces", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: tenantdb/);
    const bad = await runCli(["db", "frobnicate"]);
    expect(bad.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it("takes a job's worker count and dry-run memory from the environment, and refuses a bad one", async () => {
    const dir = path.join(tempDir(), "data");
    const bad = await runCli(["--data-dir", dir, "db", "create", "app", "--type", "schema"], {
      env: { TENANTDB_JOB_WORKERS: "0" },
    });
    expectCleanError(
      bad,
      /TENANTDB_JOB_WORKERS takes a whole number from 1 to 64 \(got "0"\)/,
      "INVALID_ARGUMENT",
    );
    expect(fs.existsSync(dir)).toBe(false);

    // One worker and 1 MiB: the tenant below (over a quarter of it) dry-runs on its on-disk journal.
    const env = { TENANTDB_JOB_WORKERS: "1", TENANTDB_DRY_RUN_MEMORY_MIB: "1" };
    const t = (...args: string[]) => runCli(["--data-dir", dir, ...args], { env });
    expect((await t("db", "create", "app", "--type", "schema")).code).toBe(0);
    expect(
      (await t("db", "shell", "app", "CREATE TABLE docs (id INTEGER PRIMARY KEY, body BLOB)")).code,
    ).toBe(0);
    expect((await t("db", "create", "tenant-1", "--schema", "app")).code).toBe(0);
    const fill = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
      INSERT INTO docs (body) SELECT randomblob(1000) FROM n`;
    expect((await t("db", "shell", "tenant-1", fill)).code).toBe(0);
    const migrated = await t("db", "shell", "app", "ALTER TABLE docs ADD COLUMN title TEXT");
    expect(migrated.code).toBe(0);
    const shown = JSON.parse((await t("db", "show", "tenant-1", "--json")).stdout);
    expect(shown.schemaVersion).toBe(2);
    const file = new Database(shown.path, { readonly: true, fileMustExist: true });
    try {
      expect(file.prepare("SELECT count(*) AS n FROM pragma_table_info('docs')").get()).toEqual({ n: 3 });
      expect(file.prepare("SELECT count(*) AS n FROM docs").get()).toEqual({ n: 600 });
    } finally {
      file.close();
    }
  });
});
