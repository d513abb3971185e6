import { execFile } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { CATALOG_VERSION } from "../../engine/catalog.js";
import { openEngine } from "../../engine/index.js";
import { CLI, tempEngine } from "../helpers.js";

/**
 * Opening a catalog that is up to date reads its header and nothing else: a read (`tenantdb db show`)
 * neither takes nor waits for the write lock, while a catalog from before catalogs had a version is
 * brought up to date, and stamped, once.
 */
describe("opening the catalog", () => {
  it("reads a current catalog while another process holds its write lock", async () => {
    const engine = await tempEngine();
    await engine.createDatabase("app", { type: "schema", createGroup: true, group: "default" });
    engine.close();

    const writer = new Database(path.join(engine.dir, "catalog.db"));
    expect(writer.pragma("user_version", { simple: true })).toBe(CATALOG_VERSION);
    writer.exec("BEGIN IMMEDIATE; INSERT INTO meta VALUES ('held', 'by another writer')");
    try {
      // In a process of its own, so that a reader that did wait for the lock (30 s, then retries) is
      // stopped rather than holding up the suite.
      const shown = await new Promise<{ code: number | string | null; stdout: string }>((resolve) => {
        execFile(
          CLI,
          ["--data-dir", engine.dir, "db", "show", "app", "--json"],
          { timeout: 60_000 },
          (e, stdout) => resolve({ code: e ? (e.code ?? e.signal ?? 1) : 0, stdout }),
        );
      });
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({ name: "app", type: "schema" });
    } finally {
      writer.exec("ROLLBACK");
      writer.close();
    }
  }, 120_000);

  it("brings a catalog without a version up to date once, and stamps it", async () => {
    await withUpgradedCatalog("DROP INDEX databases_parent_name; PRAGMA user_version = 0", (after) => {
      const indexes = after.prepare("SELECT name FROM sqlite_schema WHERE type = 'index'").pluck().all();
      expect(indexes).toContain("databases_parent_name");
    });
  }, 120_000);

  it("brings a catalog of the version before job classes (1) up to date: their columns and the fence's index", async () => {
    await withUpgradedCatalog(
      "DROP INDEX job_tasks_fence; ALTER TABLE jobs DROP COLUMN class; ALTER TABLE jobs DROP COLUMN migrated; PRAGMA user_version = 1",
      (after) => {
        const columns = (after.pragma("table_info(jobs)") as { name: string }[]).map((c) => c.name);
        expect(columns).toEqual(expect.arrayContaining(["class", "migrated"]));
        const indexes = after.prepare("SELECT name FROM sqlite_schema WHERE type = 'index'").pluck().all();
        expect(indexes).toContain("job_tasks_fence");
      },
    );
  }, 120_000);
});

/**
 * A catalog made older by `older` (run on the file directly), opened once by the engine, which must read
 * it and stamp it current; `check` then looks at the file as the engine left it.
 */
async function withUpgradedCatalog(older: string, check: (after: Database.Database) => void): Promise<void> {
  const engine = await tempEngine();
  await engine.createDatabase("app", { type: "schema", createGroup: true, group: "default" });
  engine.close();
  const file = path.join(engine.dir, "catalog.db");
  const raw = new Database(file);
  raw.exec(older);
  raw.close();

  const upgraded = await openEngine(engine.dir);
  expect(upgraded.getDatabase("app").name).toBe("app");
  upgraded.close();
  const after = new Database(file, { readonly: true });
  try {
    expect(after.pragma("user_version", { simple: true })).toBe(CATALOG_VERSION);
    check(after);
  } finally {
    after.close();
  }
}
