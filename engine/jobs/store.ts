import { createHash } from "node:crypto";
import { type Catalog, catalogStatement, maintainedCount } from "../catalog.js";
import { now } from "../context.js";
import type { JobClass } from "./classify.js";
import { type JobState, TASK_STATES, type TaskState, UNFINISHED_SQL } from "./states.js";

/** Catalog persistence for jobs and their per-database tasks: plain functions over the catalog. */

export interface JobRow {
  id: number;
  database_id: number;
  database_name: string;
  /** The schema version every database must carry before the job, and the one it brings them to. */
  from_version: number;
  version: number;
  /** The migrations' text, joined; `parts` holds them one by one (JSON), as they are recorded. */
  sql: string;
  parts: string;
  checksum: string;
  state: JobState;
  error: string | null;
  total: number;
  created_at: number;
  committed_at: number | null;
  finished_at: number | null;
  /** A finished job's per-state task counts (JSON), written when its task rows are compacted away. */
  summary: string | null;
  /** What its statements can do, which decides its fences (see classify.ts). */
  class: JobClass;
  /** Databases the run phase has migrated so far (what a fenced writer is told). */
  migrated: number;
}

export interface TaskRow {
  job_id: number;
  seq: number;
  database_id: number;
  database_name: string;
  path: string;
  state: TaskState;
  error: string | null;
}

export function unfinishedJob(catalog: Catalog, databaseId: number): JobRow | undefined {
  return catalog
    .prepare(`SELECT * FROM jobs WHERE database_id = ? AND state IN ${UNFINISHED_SQL}`)
    .get(databaseId) as JobRow | undefined;
}

export function allUnfinishedJobs(catalog: Catalog): JobRow[] {
  return catalog.prepare(`SELECT * FROM jobs WHERE state IN ${UNFINISHED_SQL} ORDER BY id`).all() as JobRow[];
}

export function getJob(catalog: Catalog, id: number): JobRow | undefined {
  return catalog.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as JobRow | undefined;
}

export function listJobs(catalog: Catalog, databaseId: number): JobRow[] {
  return catalog
    .prepare("SELECT * FROM jobs WHERE database_id = ? ORDER BY id DESC")
    .all(databaseId) as JobRow[];
}

/**
 * Records a job and one task per database: every child of the parent (in id order) and the parent last.
 * Runs inside the caller's catalog transaction, which is what makes the task list a consistent snapshot
 * against concurrent child creation.
 */
export function insertJob(
  catalog: Catalog,
  job: {
    databaseId: number;
    databaseName: string;
    parentPath: string;
    fromVersion: number;
    migrations: string[];
    class: JobClass;
  },
): number {
  const total = maintainedCount(catalog, "parent", job.databaseId) + 1;
  const sql = job.migrations.join(";\n");
  const info = catalog
    .prepare(
      `INSERT INTO jobs (database_id, database_name, from_version, version, sql, parts, checksum, state, total, created_at, class)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'dry_run', ?, ?, ?)`,
    )
    .run(
      job.databaseId,
      job.databaseName,
      job.fromVersion,
      job.fromVersion + job.migrations.length,
      sql,
      JSON.stringify(job.migrations),
      createHash("sha256").update(sql).digest("hex"),
      total,
      now(),
      job.class,
    );
  const jobId = Number(info.lastInsertRowid);
  catalog
    .prepare(
      `INSERT INTO job_tasks (job_id, seq, database_id, database_name, path, state)
       SELECT ?, row_number() OVER (ORDER BY id), id, name, path, 'pending' FROM databases WHERE parent_id = ?`,
    )
    .run(jobId, job.databaseId);
  catalog
    .prepare(
      `INSERT INTO job_tasks (job_id, seq, database_id, database_name, path, state) VALUES (?, ?, ?, ?, ?, 'pending')`,
    )
    .run(jobId, total, job.databaseId, job.databaseName, job.parentPath);
  return jobId;
}

/** A page of tasks after `afterSeq`, so a job over any number of children never holds them all. */
export function taskPage(catalog: Catalog, jobId: number, afterSeq: number, limit: number): TaskRow[] {
  return catalog
    .prepare("SELECT * FROM job_tasks WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?")
    .all(jobId, afterSeq, limit) as TaskRow[];
}

const SET_TASK_STATE = "UPDATE job_tasks SET state = ?, error = ? WHERE job_id = ? AND seq = ?";

/**
 * Records task progress. These rows are hints — each database's own stamp says whether a job reached it —
 * so they are written without an fsync (WAL with synchronous=NORMAL survives a process crash, which is all
 * a hint needs); job state transitions keep the catalog's full durability. A data-dependent dry run's
 * `applying` marks (fences) go this way too: a dry run never outlives a restart, it is abandoned.
 */
export function setTaskStates(
  catalog: Catalog,
  jobId: number,
  updates: { seq: number; state: TaskState; error?: string | null }[],
): void {
  const stmt = catalogStatement(catalog, SET_TASK_STATE);
  catalog.pragma("synchronous = NORMAL");
  try {
    catalog.transaction(() => {
      for (const u of updates) stmt.run(u.state, u.error ?? null, jobId, u.seq);
    })();
  } finally {
    catalog.pragma("synchronous = FULL");
  }
}

/**
 * Records a run phase's progress in one transaction with the catalog's full durability, since these
 * states are fences (see engine/query/fence.ts): the results of finished batches (`done` lifts a
 * database's fence, so it must never be lost once a tenant may have written after it) and the
 * `applying` mark of the batches about to start (fencing them before their worker takes their images).
 */
export function recordRunProgress(
  catalog: Catalog,
  jobId: number,
  updates: { seq: number; state: TaskState; error?: string | null }[],
  applying: number[],
  migrated: number,
): void {
  const stmt = catalogStatement(catalog, SET_TASK_STATE);
  catalog.transaction(() => {
    for (const u of updates) stmt.run(u.state, u.error ?? null, jobId, u.seq);
    for (const seq of applying) stmt.run("applying", null, jobId, seq);
    catalogStatement(catalog, "UPDATE jobs SET migrated = ? WHERE id = ?").run(migrated, jobId);
  })();
}

/**
 * A guarded transition: it only applies if the job is still in the state the caller saw. `error` set
 * (a message, or null to clear it) replaces the job's error; left out, the error stays.
 */
export function transitionJob(
  catalog: Catalog,
  jobId: number,
  from: JobState,
  to: JobState,
  fields: { error?: string | null } = {},
): boolean {
  const t = now();
  const info = catalog
    .prepare(
      `UPDATE jobs SET state = ?, error = CASE WHEN ? THEN ? ELSE error END,
         committed_at = CASE WHEN ? = 'committed' THEN ? ELSE committed_at END,
         finished_at = CASE WHEN ? IN ('succeeded', 'failed') THEN ? ELSE finished_at END
       WHERE id = ? AND state = ?`,
    )
    .run(to, "error" in fields ? 1 : 0, fields.error ?? null, to, t, to, t, jobId, from);
  return info.changes === 1;
}

export function setJobError(catalog: Catalog, jobId: number, error: string | null): void {
  catalog.prepare("UPDATE jobs SET error = ? WHERE id = ?").run(error, jobId);
}

export type TaskCounts = Record<TaskState, number>;

const emptyCounts = (): TaskCounts =>
  Object.fromEntries(TASK_STATES.map((state) => [state, 0])) as TaskCounts;

/** Per-state counts: a finished job's summary, or (while it runs) a count over its task rows. */
export function taskCounts(catalog: Catalog, job: Pick<JobRow, "id" | "summary">): TaskCounts {
  if (job.summary !== null) return { ...emptyCounts(), ...(JSON.parse(job.summary) as Partial<TaskCounts>) };
  const counts = emptyCounts();
  const rows = catalog
    .prepare("SELECT state, count(*) AS n FROM job_tasks WHERE job_id = ? GROUP BY state")
    .all(job.id) as { state: TaskState; n: number }[];
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

/**
 * Compacts a job that has just finished, inside the caller's transaction (the one that finishes it): its
 * per-state counts go into the job's summary and only the failing tasks keep their rows, so history costs
 * a row per job and per failure, not one per database per job. With `abort`, every task that did not fail
 * counts as aborted (a job that ended before its commit point).
 */
export function compactFinishedJob(catalog: Catalog, jobId: number, opts: { abort?: boolean } = {}): void {
  const counts = taskCounts(catalog, { id: jobId, summary: null });
  if (opts.abort) {
    let aborted = 0;
    for (const state of TASK_STATES) {
      if (state === "dry_run_failed") continue;
      aborted += counts[state];
      counts[state] = 0;
    }
    counts.aborted = aborted;
  }
  catalog.prepare("UPDATE jobs SET summary = ? WHERE id = ?").run(JSON.stringify(counts), jobId);
  catalog
    .prepare("DELETE FROM job_tasks WHERE job_id = ? AND state NOT IN ('dry_run_failed', 'failed')")
    .run(jobId);
}

export function failedTasks(catalog: Catalog, jobId: number, limit: number): TaskRow[] {
  return catalog
    .prepare(
      "SELECT * FROM job_tasks WHERE job_id = ? AND state IN ('dry_run_failed', 'failed') ORDER BY seq LIMIT ?",
    )
    .all(jobId, limit) as TaskRow[];
}

/** The migrations a job applies, one by one. */
export function jobParts(job: JobRow): string[] {
  return JSON.parse(job.parts) as string[];
}
