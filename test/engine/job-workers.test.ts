import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createPool } from "../../engine/jobs/pool.js";
import type { WorkItem } from "../../engine/jobs/protocol.js";
import { schemaFleet, tempDir } from "../helpers.js";

const CHILDREN = 12;

/** Before the pool retired dead threads, these waited forever: a test fails on that rather than hangs. */
async function settled<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} never settled: it waits on a dead thread`)), 120_000);
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a database's own file says: its stamp, its rows, whether it has the column, its integrity. */
function fileState(file: string, column: string) {
  const db = new Database(file, { readonly: true });
  try {
    return {
      version: db.prepare("SELECT value FROM _tenantdb_ WHERE key = 'schema_version'").pluck().get(),
      rows: db.prepare("SELECT count(*) FROM users").pluck().get(),
      column: db
        .prepare("SELECT count(*) FROM pragma_table_info('users') WHERE name = ?")
        .pluck()
        .get(column),
      integrity: db.pragma("integrity_check", { simple: true }),
    };
  } finally {
    db.close();
  }
}

describe("a job worker thread that dies", () => {
  it("mid-batch leaves its job committed and resumable, and the same engine's next jobs run", async () => {
    const faults: { exitWorkerOn?: string } = {};
    const { engine, names } = await schemaFleet(CHILDREN, { workers: 2, faultInjection: faults });
    await engine.createDatabase("other", { type: "schema" });
    await engine.migrate("other", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    const others = names.map((n) => `other-${n}`);
    await engine.createChildren("other", others);
    const rowsOf = new Map<string, number>();
    for (const [i, name] of [...names, ...others].entries()) {
      const rows = (i % 5) + 1;
      for (let r = 0; r < rows; r++)
        await engine.execute(name, "INSERT INTO users (name) VALUES (?)", { args: [`${name}-${r}`] });
      rowsOf.set(name, rows);
    }
    const pathOf = new Map(engine.listDatabases().map((d) => [d.name, d.path]));

    // The thread running tenant-5's batch ends right after that database's commit: its batch's results,
    // tenant-5's fsync and the commits after it in the batch never come.
    faults.exitWorkerOn = "tenant-5";
    const failure = await settled(
      "the job whose worker died",
      engine.migrate("parent", "ALTER TABLE users ADD COLUMN email TEXT").then(
        () => undefined,
        (e: Error) => e,
      ),
    );
    expect(failure?.message).toMatch(/worker thread stopped in the middle of a batch/);
    const [job] = engine.listJobs("parent");
    expect(job?.state).toBe("committed");
    const detail = engine.getJob("parent", job?.id as number);
    const states = new Map(detail.tasks.map((t) => [t.database, t.state]));
    // tenant-5 committed before its thread ended, yet its task is not done: nothing reported it.
    expect(states.get("tenant-5")).not.toBe("done");
    expect(fileState(pathOf.get("tenant-5") as string, "email").version).toBe(2);
    for (const db of engine.listDatabases({ schemaParent: "parent" })) {
      // Nothing says the new version is there until every database carries it...
      expect(db.schemaVersion).toBe(1);
      const file = fileState(db.path, "email");
      expect(file.integrity).toBe("ok");
      expect(file.rows).toBe(rowsOf.get(db.name));
      // ...and a database reported done does carry it, in its file.
      if (states.get(db.name) === "done") expect([file.version, file.column]).toEqual([2, 1]);
      else expect([1, 2]).toContain(file.version);
    }

    // Another job on the same engine gets both threads' worth of batches: the survivor and a fresh one.
    await settled(
      "a job after the worker died",
      engine.migrate("other", "ALTER TABLE users ADD COLUMN age INTEGER"),
    );
    for (const name of ["other", ...others]) {
      const file = fileState(pathOf.get(name) as string, "age");
      expect(file).toEqual({ version: 2, rows: rowsOf.get(name) ?? 0, column: 1, integrity: "ok" });
    }
    expect(engine.listDatabases({ schemaParent: "other" }).map((d) => d.schemaVersion)).toEqual(
      others.map(() => 2),
    );

    // The interrupted job finishes on the same engine too, once the hook is gone.
    faults.exitWorkerOn = undefined;
    const resumed = await settled("resuming the job", engine.resumeMigrations("parent"));
    expect(resumed?.state).toBe("succeeded");
    for (const name of ["parent", ...names]) {
      const file = fileState(pathOf.get(name) as string, "email");
      expect(file).toEqual({ version: 2, rows: rowsOf.get(name) ?? 0, column: 1, integrity: "ok" });
    }
    expect(engine.listDatabases({ schemaParent: "parent" }).map((d) => d.schemaVersion)).toEqual(
      names.map(() => 2),
    );
    expect(fs.readdirSync(path.join(engine.dir, "undo"))).toEqual([]);
  }, 300_000);

  it("with an uncaught error is replaced, and a batch waiting for the pool's only thread still runs", async () => {
    const pool = createPool(1);
    const request = { jobId: 0, fromVersion: 0, version: 1, statements: ["SELECT 1"], foreignKeys: false };
    const missing = path.join(tempDir(), "missing.db");
    try {
      // No items: the thread's message handler throws, uncaught, and the thread dies with an 'error'.
      const broken = pool.run({ ...request, op: "dry_run", sync: "normal", items: undefined as never });
      const waiting = pool.run({
        ...request,
        op: "dry_run",
        sync: "normal",
        items: [{ seq: 1, name: "missing", path: missing } satisfies WorkItem],
      });
      await expect(settled("the batch that killed its thread", broken)).rejects.toThrow(
        /worker thread failed in the middle of a batch/,
      );
      const answer = await settled("the batch that waited for the thread", waiting);
      expect(answer.results).toEqual([expect.objectContaining({ seq: 1, ok: false })]);
      expect(fs.existsSync(missing)).toBe(false);
    } finally {
      await pool.close();
    }
    await expect(pool.run({ ...request, op: "dry_run", sync: "normal", items: [] })).rejects.toThrow(
      /closed/,
    );
  }, 120_000);
});
