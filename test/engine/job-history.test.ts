import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { type JobProgress, openEngine } from "../../engine/index.js";
import { leaveJobIncomplete, schemaFleet } from "../helpers.js";

/** Rows of job_tasks per job, read from the catalog file itself. */
function taskRows(dir: string): Record<number, string[]> {
  const catalog = new Database(path.join(dir, "catalog.db"), { readonly: true });
  try {
    const rows = catalog
      .prepare("SELECT job_id, database_name FROM job_tasks ORDER BY job_id, seq")
      .all() as {
      job_id: number;
      database_name: string;
    }[];
    const out: Record<number, string[]> = {};
    for (const r of rows) out[r.job_id] = [...(out[r.job_id] ?? []), r.database_name];
    return out;
  } finally {
    catalog.close();
  }
}

describe("job history", () => {
  it("keeps a finished job's counts and failures, not a row per database", async () => {
    const { engine } = await schemaFleet(30);
    const ok = await engine.migrate("parent", "ALTER TABLE users ADD COLUMN email TEXT");
    for (const name of ["tenant-3", "tenant-17", "tenant-25"]) {
      await engine.execute(name, "INSERT INTO users (email) VALUES ('same'), ('same')");
    }
    await expect(engine.migrate("parent", "CREATE UNIQUE INDEX users_email ON users(email)")).rejects.toThrow(
      /3 of 31/,
    );

    const rows = taskRows(engine.dir);
    // Succeeded jobs keep no task rows; the failed one keeps exactly its three failures.
    expect(rows[ok.jobId]).toBeUndefined();
    const [failed, succeeded] = engine.listJobs("parent");
    expect(rows[failed?.id ?? 0]).toEqual(["tenant-3", "tenant-17", "tenant-25"]);
    expect(Object.keys(rows)).toHaveLength(1);

    expect(succeeded?.progress).toMatchObject({ done: 31, failed: 0, pending: 0 });
    expect(failed?.progress).toMatchObject({ dry_run_failed: 3, aborted: 28, dry_run_ok: 0 });
    expect(failed?.total).toBe(31);

    // Failures page by task number.
    const first = engine.getJob("parent", failed?.id ?? 0, { limit: 2 });
    expect(first.tasks.map((t) => t.database)).toEqual(["tenant-3", "tenant-17"]);
    expect(first.nextAfter).not.toBeNull();
    const second = engine.getJob("parent", failed?.id ?? 0, { after: first.nextAfter ?? 0, limit: 2 });
    expect(second.tasks.map((t) => [t.database, t.state])).toEqual([["tenant-25", "dry_run_failed"]]);
    expect(second.nextAfter).toBeNull();
    expect(() => engine.getJob("parent", failed?.id ?? 0, { limit: 0 })).toThrow(/limit/);
  }, 120_000);

  it("compacts the history of a catalog from before job summaries once, when it is first opened", async () => {
    const { engine } = await schemaFleet(3);
    const dir = engine.dir;
    engine.close();
    // What an older catalog holds: no summary column, a row per database of every finished job, no version.
    const raw = new Database(path.join(dir, "catalog.db"));
    raw.exec("ALTER TABLE jobs DROP COLUMN summary; PRAGMA user_version = 0");
    const jobId = raw.prepare("SELECT max(id) FROM jobs").pluck().get() as number;
    const insert = raw.prepare(
      "INSERT INTO job_tasks (job_id, seq, database_id, database_name, path, state) VALUES (?, ?, 0, ?, '', ?)",
    );
    insert.run(jobId, 1, "tenant-0", "done");
    insert.run(jobId, 2, "tenant-1", "done");
    insert.run(jobId, 3, "tenant-2", "failed");
    raw.close();

    const upgraded = await openEngine(dir, { workers: 2 });
    try {
      expect(upgraded.listJobs("parent").find((j) => j.id === jobId)?.progress).toMatchObject({
        done: 2,
        failed: 1,
      });
      expect(taskRows(dir)).toEqual({ [jobId]: ["tenant-2"] });
    } finally {
      upgraded.close();
    }
  }, 120_000);

  it("opened lazily, leaves an abandoned job to the next migration of its parent, which finishes it with progress", async () => {
    const { engine: first, names } = await schemaFleet(20);
    const dir = first.dir;
    first.close();
    // A run phase that fails on one child leaves the job committed, incomplete and fenced.
    await leaveJobIncomplete(dir, "parent", "ALTER TABLE users ADD COLUMN a TEXT", "tenant-7");

    const lazy = await openEngine(dir, { workers: 2, recover: "lazy", fenceWaitMs: 100 });
    try {
      // Nothing was settled at open: the fleet is listed as it is, the job still committed.
      expect(lazy.listDatabases({ schemaParent: "parent" })).toHaveLength(names.length);
      const [pending] = lazy.listJobs("parent");
      expect(pending?.state).toBe("committed");
      await expect(lazy.execute("tenant-7", "INSERT INTO users (name) VALUES ('x')")).rejects.toThrow(
        /schema migration in progress/,
      );

      const seen: JobProgress[] = [];
      await lazy.migrate("parent", "ALTER TABLE users ADD COLUMN b TEXT", {
        onProgress: (p) => seen.push(p),
      });
      expect(seen.some((p) => p.jobId === pending?.id && p.phase === "run")).toBe(true);
      expect(lazy.listJobs("parent").map((j) => j.state)).toEqual(["succeeded", "succeeded", "succeeded"]);
      for (const name of [...names, "parent"]) {
        const [r] = await lazy.execute(
          name,
          "SELECT count(*) FROM pragma_table_info('users') WHERE name IN ('a', 'b')",
        );
        expect(Number(r?.rows[0]?.[0])).toBe(2);
      }
    } finally {
      lazy.close();
    }
  }, 120_000);

  it("recoverJobs settles every abandoned job, for a server to run in the background", async () => {
    const { engine: first } = await schemaFleet(10);
    const dir = first.dir;
    first.close();
    await leaveJobIncomplete(dir, "parent", "ALTER TABLE users ADD COLUMN a TEXT", "tenant-2");

    const lazy = await openEngine(dir, { workers: 2, recover: "lazy", fenceWaitMs: 100 });
    try {
      const [job] = lazy.listJobs("parent");
      expect(job?.state).toBe("committed");
      expect(await lazy.recoverJobs()).toEqual({ recovered: [job?.id] });
      expect(lazy.listJobs("parent")[0]?.state).toBe("succeeded");
      expect(lazy.getDatabase("tenant-2").schemaVersion).toBe(2);
      await lazy.execute("tenant-2", "INSERT INTO users (name, a) VALUES ('x', 'y')");
      expect(await lazy.recoverJobs()).toEqual({ recovered: [] });
    } finally {
      lazy.close();
    }
  }, 120_000);
});
