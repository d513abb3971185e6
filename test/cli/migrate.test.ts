import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { leaveJobIncomplete, runCli, tempDir } from "../helpers.js";
import { setUpDataDir } from "./data-dir.js";

/** `tenantdb db migrate`: migration files applied as jobs over a fleet, once each. */

/** A schema database and two tenants, made in-process: only the commands under test are spawned. */
async function fleet() {
  const root = tempDir();
  const dir = path.join(root, "data");
  const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
  const files = await setUpDataDir(dir, async (engine) => {
    engine.createGroup("default");
    await engine.createDatabase("app", { group: "default", type: "schema" });
    await engine.createChildren("app", ["t-1", "t-2"]);
    return new Map(["app", "t-1", "t-2"].map((name) => [name, engine.getDatabase(name).path]));
  });
  /** Read straight from the file, not through the engine. */
  const onDisk = async (name: string, sql: string) => {
    const db = new Database(files.get(name) ?? "", { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).raw(true).all();
    } finally {
      db.close();
    }
  };
  return { root, t, onDisk };
}

function writeFiles(dir: string, files: Record<string, string>): string {
  for (const [name, sql] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), sql);
  }
  return dir;
}

describe("tenantdb db migrate", () => {
  it("applies a folder of numbered files to every database as one job, then skips them", async () => {
    const { root, t, onDisk } = await fleet();
    const folder = writeFiles(path.join(root, "migrations"), {
      "0002_plans.sql": "ALTER TABLE accounts ADD COLUMN plan TEXT DEFAULT 'free';",
      "0001_init.sql":
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT);\nCREATE INDEX accounts_email ON accounts (email);",
      "README.md": "not a migration",
    });
    const r = await t("db", "migrate", "app", folder);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Applied 2 migration\(s\) \(0001_init.sql, 0002_plans.sql\) to 3 database\(s\)/);
    for (const name of ["app", "t-1", "t-2"]) {
      expect((await onDisk(name, "SELECT name FROM pragma_table_info('accounts')")).flat()).toEqual([
        "id",
        "email",
        "plan",
      ]);
    }
    const again = await t("db", "migrate", "app", folder, "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ applied: [], skipped: 2 });
    const jobs = JSON.parse((await t("db", "migrations", "app", "--json")).stdout);
    expect(jobs).toHaveLength(1);
  });

  it("reads a drizzle-kit folder in its journal's order", async () => {
    const { root, t, onDisk } = await fleet();
    const folder = writeFiles(path.join(root, "drizzle"), {
      "0000_b.sql":
        "CREATE TABLE `users` (`id` integer PRIMARY KEY NOT NULL, `name` text);\n--> statement-breakpoint\nCREATE INDEX `users_name` ON `users` (`name`);",
      "0001_a.sql": "ALTER TABLE `users` ADD `age` integer;",
      "meta/_journal.json": JSON.stringify({
        version: "7",
        dialect: "sqlite",
        entries: [
          { idx: 1, version: "6", when: 2, tag: "0001_a", breakpoints: true },
          { idx: 0, version: "6", when: 1, tag: "0000_b", breakpoints: true },
        ],
      }),
    });
    const r = await t("db", "migrate", "app", folder);
    expect(r.code).toBe(0);
    expect((await onDisk("t-2", "SELECT name FROM pragma_table_info('users')")).flat()).toEqual([
      "id",
      "name",
      "age",
    ]);
    expect(await onDisk("t-2", "SELECT count(*) FROM sqlite_schema WHERE name = 'users_name'")).toEqual([
      [1],
    ]);
  });

  it("--dry-run names the tenant a migration would fail on and changes no file", async () => {
    const { root, t, onDisk } = await fleet();
    const init = writeFiles(path.join(root, "init"), { "0001_init.sql": "CREATE TABLE tags (name TEXT);" });
    expect((await t("db", "migrate", "app", init)).code).toBe(0);
    expect((await t("db", "shell", "t-1", "INSERT INTO tags VALUES ('x'), ('x')")).code).toBe(0);
    const unique = path.join(root, "0002_unique.sql");
    fs.writeFileSync(unique, "CREATE UNIQUE INDEX tags_name ON tags (name);");
    const before = await Promise.all(["app", "t-1", "t-2"].map((n) => onDisk(n, "PRAGMA schema_version")));

    const dry = await t("db", "migrate", "app", unique, "--dry-run");
    expect(dry.code).toBe(5); // FAILED_PRECONDITION
    expect(dry.stdout).toMatch(/would fail on t-1: .*UNIQUE constraint failed/);
    const failed = await t("db", "migrate", "app", unique);
    expect(failed.code).toBe(5);
    expect(failed.stderr).toMatch(/^Error: .*t-1/);
    const after = await Promise.all(["app", "t-1", "t-2"].map((n) => onDisk(n, "PRAGMA schema_version")));
    expect(after).toEqual(before);
  });

  it("db migrations --json gives a job's tasks a page at a time (--job, --after, --limit)", async () => {
    const { root, t } = await fleet();
    const init = writeFiles(path.join(root, "init"), { "0001_init.sql": "CREATE TABLE tags (name TEXT);" });
    expect((await t("db", "migrate", "app", init)).code).toBe(0);
    for (const tenant of ["t-1", "t-2"])
      expect((await t("db", "shell", tenant, "INSERT INTO tags VALUES ('x'), ('x')")).code).toBe(0);
    const unique = path.join(root, "0002_unique.sql");
    fs.writeFileSync(unique, "CREATE UNIQUE INDEX tags_name ON tags (name);");
    expect((await t("db", "migrate", "app", unique)).code).toBe(5);

    // The failed job keeps a row for each tenant that failed: two, one to a page.
    const first = JSON.parse((await t("db", "migrations", "app", "--json", "--limit", "1")).stdout);
    const failed = first.find((j: { state: string }) => j.state === "failed");
    expect(failed.tasks.map((x: { database: string }) => x.database)).toEqual(["t-1"]);
    expect(failed.nextAfter).toEqual(expect.any(Number));
    const next = await t(
      "db",
      "migrations",
      "app",
      "--json",
      "--job",
      String(failed.id),
      "--after",
      String(failed.nextAfter),
      "--limit",
      "1",
    );
    const [again, ...rest] = JSON.parse(next.stdout);
    expect(rest).toEqual([]);
    expect(again.id).toBe(failed.id);
    expect(again.tasks.map((x: { database: string; state: string }) => [x.database, x.state])).toEqual([
      ["t-2", "dry_run_failed"],
    ]);
    expect(again.nextAfter).toBeNull();

    const bad = await t("db", "migrations", "app", "--json", "--limit", "ten");
    expect(bad.code).toBe(2); // INVALID_ARGUMENT
    expect(bad.stderr).toMatch(/--limit takes a whole number/);
    const tooMany = await t("db", "migrations", "app", "--json", "--limit", "20000");
    expect(tooMany.code).toBe(2);
    expect((await t("db", "migrations", "app", "--job", "99")).code).toBe(3); // NOT_FOUND
  });

  it("a job left committed and incomplete waits for resume: db list neither waits for it nor finishes it", async () => {
    const { root, t, onDisk } = await fleet();
    const dir = path.join(root, "data");
    await setUpDataDir(dir, (engine) => engine.migrate("app", "CREATE TABLE tags (name TEXT)"));
    await leaveJobIncomplete(dir, "app", "ALTER TABLE tags ADD COLUMN n INTEGER", "t-2");
    const columns = (name: string) => onDisk(name, "SELECT name FROM pragma_table_info('tags')");
    const jobStates = () => {
      const catalog = new Database(path.join(dir, "catalog.db"), { readonly: true });
      try {
        return catalog.prepare("SELECT state FROM jobs ORDER BY id").pluck().all();
      } finally {
        catalog.close();
      }
    };
    expect(jobStates()).toEqual(["succeeded", "committed"]);
    expect((await columns("t-2")).flat()).toEqual(["name"]);

    const list = await t("db", "list", "--json");
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((d: { name: string }) => d.name)).toEqual(
      expect.arrayContaining(["app", "t-1", "t-2"]),
    );
    expect(jobStates()).toEqual(["succeeded", "committed"]); // left as it was
    expect((await columns("t-2")).flat()).toEqual(["name"]);

    const resumed = await t("db", "migrations", "resume", "app");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/is succeeded/);
    expect(jobStates()).toEqual(["succeeded", "succeeded"]);
    for (const name of ["app", "t-1", "t-2"]) expect((await columns(name)).flat()).toEqual(["name", "n"]);
  });

  it("refuses a missing source and an empty folder with a clear error", async () => {
    const { root, t } = await fleet();
    const missing = await t("db", "migrate", "app", path.join(root, "nope"));
    expect(missing.code).toBe(2); // INVALID_ARGUMENT
    expect(missing.stderr).toMatch(/^Error: no such file or folder/);
    fs.mkdirSync(path.join(root, "empty"));
    expect((await t("db", "migrate", "app", path.join(root, "empty"))).stderr).toMatch(/holds no migrations/);
  });
});
