import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { listFiles, tempDir } from "../helpers.js";

const SMALL = 6;

/**
 * The injected-failure test of migrations.test.ts fails one database; this one fails each write of the
 * run phase in turn — undo logs, commits through the undo log and through SQLite's journal, fsyncs, the
 * catalog's task states and the job's success — and checks every time that the job is left committed,
 * not done, and that resuming it finishes it.
 */
describe("an I/O error at any write of the run phase", () => {
  it("leaves the job committed and resumable, never reported done early, at every write position", async () => {
    const dataDir = path.join(tempDir(), "data");
    const setup = await openEngine(dataDir, { workers: 2 });
    const names = [...Array.from({ length: SMALL }, (_, i) => `tenant-${i}`), "large"];
    try {
      setup.createGroup("default");
      await setup.createDatabase("parent", { type: "schema" });
      await setup.migrate("parent", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
      await setup.createChildren("parent", names);
      for (const name of names)
        await setup.execute(name, "INSERT INTO users (name) VALUES (?)", { args: [name] });
      // Past the undo log's size limit: this one commits through its journal.
      await setup.execute(
        "large",
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000)
         INSERT INTO users (name) SELECT hex(randomblob(60)) FROM n`,
      );
    } finally {
      setup.close();
    }

    // One engine throughout (starting worker threads is most of a small job's time); the hook is read at
    // each run phase, so the test moves it between attempts.
    const faults: { failRunAtWrite?: number } = {};
    const engine = await openEngine(dataDir, { workers: 2, recover: false, faultInjection: faults });
    let version = 1;
    let position = 1;
    try {
      for (; ; position++) {
        const column = `c${position}`;
        faults.failRunAtWrite = position;
        try {
          await engine.migrate("parent", `ALTER TABLE users ADD COLUMN ${column} TEXT`);
          break; // the position is past the last write: nothing failed
        } catch (e) {
          expect((e as { code?: string }).code).toBe("IO_ERROR");
          expect((e as Error).message).toMatch(/injected/);
          const [job] = engine.listJobs("parent");
          expect(job?.state).toBe("committed");
          // Nothing says the new version is there: not the job, not the catalog's versions.
          for (const db of engine.listDatabases()) expect(db.schemaVersion).toBe(version);
        }

        faults.failRunAtWrite = undefined;
        expect((await engine.resumeMigrations("parent"))?.state).toBe("succeeded");
        for (const db of engine.listDatabases()) {
          expect(db.schemaVersion).toBe(version + 1);
          const file = new Database(db.path, { readonly: true });
          expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
          expect(
            file.prepare("SELECT value FROM _tenantdb_ WHERE key = 'schema_version'").pluck().get(),
          ).toBe(version + 1);
          expect(
            file
              .prepare("SELECT count(*) FROM pragma_table_info('users') WHERE name = ?")
              .pluck()
              .get(column),
          ).toBe(1);
          if (db.type === "child")
            expect(file.prepare("SELECT count(*) FROM users WHERE name = ?").pluck().get(db.name)).toBe(1);
          file.close();
        }
        version++;
      }
    } finally {
      engine.close();
    }
    console.log(`faults-run-writes: the run phase failed at each of ${position - 1} write positions`);
    // 1 + 7 children and the parent: undo logs, commits and fsyncs for each, the catalog's writes.
    expect(position).toBeGreaterThan(SMALL * 2 + 4);
    expect(fs.readdirSync(path.join(dataDir, "undo"))).toEqual([]);
    const hot = listFiles(path.join(dataDir, "dbs")).filter(
      (f) =>
        f.endsWith("-journal") &&
        fs
          .readFileSync(path.join(dataDir, "dbs", f))
          .subarray(0, 8)
          .equals(Buffer.from("d9d505f920a163d7", "hex")),
    );
    expect(hot).toEqual([]);
  }, 300_000);
});
