import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { FENCE_SQL } from "../../engine/query/fence.js";
import { schemaFleet, tempDir } from "../helpers.js";
import { missingWrites, readWriterLog, startWriters } from "./concurrent-writers.js";

/**
 * Migrations without a fleet-wide write outage: an additive job fences no database but the ones its
 * workers are migrating, a data-dependent one lifts each database's fence as soon as it has committed.
 * Tenants write from processes of their own, as they would, and every promise is checked on the files.
 */

/** Every database's stamp and the columns of `users`, from its file. */
function fileState(file: string): { version: number; columns: string[] } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      version: db
        .prepare("SELECT value FROM _tenantdb_ WHERE key = 'schema_version'")
        .pluck()
        .get() as number,
      columns: db.prepare("SELECT name FROM pragma_table_info('users')").pluck().all() as string[],
    };
  } finally {
    db.close();
  }
}

describe("migrations while tenants write", () => {
  it("reads a write's fence through indexes: the parent's running job, then one entry for its task", async () => {
    const { engine } = await schemaFleet(3);
    const catalog = new Database(path.join(engine.dir, "catalog.db"), { readonly: true });
    try {
      const plan = (catalog.prepare(`EXPLAIN QUERY PLAN ${FENCE_SQL}`).all(1) as { detail: string }[]).map(
        (p) => p.detail,
      );
      expect(plan).toContain("SEARCH j USING INDEX jobs_unfinished (database_id=?) LEFT-JOIN");
      expect(plan).toContain("SEARCH t USING COVERING INDEX job_tasks_fence (job_id=? AND database_id=?)");
    } finally {
      catalog.close();
    }
  });

  it("runs an additive job over 2,000 children while writers in other processes never see a refusal (of a write or a read) or lose a write", async () => {
    const { engine, names } = await schemaFleet(2000, { workers: 4 });
    // Writers spread over the fleet: the first children (migrated early), the middle and the last ones.
    const assignments = [
      ["tenant-0", "tenant-1", "tenant-2"],
      ["tenant-999", "tenant-1000", "tenant-1001"],
      ["tenant-1997", "tenant-1998", "tenant-1999"],
    ];
    // Each also reads after each write: neither is ever refused.
    const writers = startWriters(engine.dir, tempDir(), assignments, { pauseMs: 2, read: true });
    await writers.started();
    const startedAt = Date.now();
    const result = await engine.migrate("parent", "ALTER TABLE users ADD COLUMN phone TEXT");
    const endedAt = Date.now();
    // Writers go on a little after the job, on the new schema.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writers.stop();

    const logs = writers.logs.map(readWriterLog);
    expect(logs.flatMap((l) => l.refused)).toEqual([]);
    const acked = logs.flatMap((l) => l.acked);
    // The writes really ran during the job, on every writer.
    for (const log of logs) {
      expect(log.acked.filter((a) => a.at > startedAt && a.at < endedAt).length).toBeGreaterThan(0);
    }
    expect(missingWrites(engine.dir, acked)).toEqual([]);

    const [job] = engine.listJobs("parent");
    expect(job).toMatchObject({ id: result.jobId, class: "additive", state: "succeeded" });
    for (const db of engine.listDatabases()) {
      expect(db.schemaVersion).toBe(2);
      const state = fileState(db.path);
      expect(state.version).toBe(2);
      expect(state.columns).toContain("phone");
    }
    expect(engine.listDatabases({ schemaParent: "parent" })).toHaveLength(names.length);
  }, 300_000);

  it("lifts a data-dependent job's fence database by database: a migrated tenant writes before the job ends, one not yet migrated waits and then succeeds", async () => {
    const { engine } = await schemaFleet(300, { fenceWaitMs: 120_000 });
    const taskState = (jobId: number, database: string) =>
      engine.getJob("parent", jobId, { limit: 1000 }).tasks.find((t) => t.database === database)?.state;

    const seen: { early?: string; late?: string; lateTaskWhenAsked?: string; lateTaskWhenDone?: string } = {};
    let writes: Promise<unknown>[] = [];
    const job = engine.migrate("parent", "CREATE UNIQUE INDEX users_name ON users(name)", {
      onProgress: (p) => {
        if (p.phase !== "run" || p.done < 40 || writes.length > 0) return;
        // tenant-0 is in the first batches, migrated by now: its write goes through while the job runs on.
        const early = engine.execute("tenant-0", "INSERT INTO users (name) VALUES ('early')").then(() => {
          seen.early = engine.listJobs("parent")[0]?.state;
        });
        // tenant-250 is among the last: still fenced, so its write waits for its database's turn.
        seen.lateTaskWhenAsked = taskState(p.jobId, "tenant-250");
        const late = engine.execute("tenant-250", "INSERT INTO users (name) VALUES ('late')").then(() => {
          seen.late = engine.listJobs("parent")[0]?.state;
          seen.lateTaskWhenDone = taskState(p.jobId, "tenant-250");
        });
        writes = [early, late];
      },
    });
    const result = await job;
    await Promise.all(writes);
    expect(engine.listJobs("parent")[0]).toMatchObject({
      id: result.jobId,
      class: "data",
      state: "succeeded",
    });
    expect(seen.early).toBe("committed");
    expect(seen.lateTaskWhenAsked).not.toBe("done");
    // It went through once its own database was done: while the job ran on, or (on a slow machine) with it.
    expect(seen.late === "succeeded" || seen.lateTaskWhenDone === "done").toBe(true);
    // Both writes landed on the new schema: the unique index is there, and each row once.
    for (const [name, row] of [
      ["tenant-0", "early"],
      ["tenant-250", "late"],
    ] as const) {
      const file = new Database(engine.getDatabase(name).path, { readonly: true });
      expect(file.prepare("SELECT count(*) FROM users WHERE name = ?").pluck().get(row)).toBe(1);
      expect(file.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'users_name'").pluck().get()).toBe(
        1,
      );
      file.close();
    }
  }, 300_000);
});
