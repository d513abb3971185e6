import { setTimeout as sleep } from "node:timers/promises";
import { catalogStatement, type DatabaseRow } from "../catalog.js";
import type { EngineContext } from "../context.js";
import { blocked, notFound, TenantDbError } from "../errors.js";
import { UNFINISHED_SQL } from "../jobs/states.js";

/**
 * Write fences, read from the catalog at each write (several processes share it). A migration job fences
 * each database only as long as a tenant's write could break the job's all-or-none promise:
 * - a data-dependent job (jobs/classify.ts): from that database's own dry run (its batch is marked
 *   `applying` before a worker takes it) until its task is `done`. The dry run's verdict holds only if
 *   its rows stay as they were until its commit; writes before its dry run are what the dry run judges.
 *   `done` is recorded only once the database's commit is durable, so the fence lifts database by
 *   database, not at the job's end. (Fencing from the job's record on would hold a database late in the
 *   order for the whole job; from its dry run, for about the time between its two turns.)
 * - an additive job: only while the database's task is `applying` (its batch is being migrated) or
 *   `failed` (its commit may be torn, to be restored from the undo log on resume). Its dry run needs no
 *   fence: no write of a tenant's can make an additive statement fail.
 * Either way a task the runner has not recorded `done` is one nobody has written since the job touched
 * it, which is what lets a resume restore its undo image (runner.ts).
 */

/** How long a writer waits for a fence to lift before BLOCKED, unless the engine is told otherwise. */
export const DEFAULT_FENCE_WAIT_MS = 5000;

interface FenceRow {
  blockWrites: number;
  job: number | null;
  jobClass: string | null;
  jobState: string | null;
  total: number | null;
  migrated: number | null;
  task: string | null;
}

// Indexed: jobs_unfinished finds the parent's running job, job_tasks_fence this database's task state.
export const FENCE_SQL = `SELECT d.block_writes AS blockWrites, j.id AS job, j.class AS jobClass, j.state AS jobState,
    j.total AS total, j.migrated AS migrated,
    (SELECT t.state FROM job_tasks t WHERE t.job_id = j.id AND t.database_id = d.id) AS task
  FROM databases d LEFT JOIN jobs j ON j.database_id = coalesce(d.parent_id, d.id) AND j.state IN ${UNFINISHED_SQL}
  WHERE d.id = ?`;

/**
 * Why writes to this database must wait, if they must: a migration job's fence (BLOCKED, with `fence`,
 * `jobId`, `done` and `total` in its details) or block_writes.
 */
export function writeFence(
  ctx: EngineContext,
  row: DatabaseRow,
  opts: { waitedMs?: number; inTransaction?: boolean } = {},
): TenantDbError | null {
  const state = catalogStatement(ctx.catalog, FENCE_SQL).get(row.id) as FenceRow | undefined;
  if (!state) return notFound(`database "${row.name}" no longer exists`);
  if (state.job !== null && fencedByJob(state)) {
    const done = state.migrated ?? 0;
    const total = state.total ?? 0;
    const waited =
      opts.waitedMs !== undefined && opts.waitedMs > 0 ? `; waited ${formatSeconds(opts.waitedMs)}` : "";
    const why = opts.inTransaction
      ? "; this write is inside a transaction, which cannot wait for it: retry the transaction"
      : "";
    // Lazily opened engines leave an abandoned job to whoever needs it: say who can finish it.
    const hint = `if no process is running it, \`tenantdb db migrations resume ${row.parent_name ?? row.name}\` finishes it`;
    return new TenantDbError(
      "BLOCKED",
      `Operation was blocked: schema migration in progress: job ${state.job}, ${count(done)} of ${count(total)} databases migrated${waited}${why} (${hint})`,
      { fence: "migration", jobId: state.job, done, total, waitedMs: opts.waitedMs ?? 0 },
    );
  }
  if (state.blockWrites) return blocked(`writes are blocked on "${row.name}" (block_writes is set)`);
  return null;
}

function fencedByJob(state: FenceRow): boolean {
  if (state.jobClass === "additive") {
    return state.jobState === "committed" && (state.task === "applying" || state.task === "failed");
  }
  return state.task !== "pending" && state.task !== "done";
}

/** Whether an error is a migration's fence, which a writer outside a transaction may wait out. */
export function isMigrationFence(e: unknown): boolean {
  return e instanceof TenantDbError && e.code === "BLOCKED" && e.details?.fence === "migration";
}

/**
 * Waits, without holding any lock of the database's, until its fence lifts (null) or the engine's bound
 * passes since `startedAt` (the fence's error, saying how long the writer waited). Polls the catalog (one
 * indexed read), from 1 ms apart to 10 ms: a fence lifts when another process records a task.
 */
export async function awaitFenceLift(
  ctx: EngineContext,
  row: DatabaseRow,
  startedAt: number,
): Promise<TenantDbError | null> {
  const bound = ctx.options.fenceWaitMs ?? DEFAULT_FENCE_WAIT_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 10)) {
    const waited = Date.now() - startedAt;
    const fence = writeFence(ctx, row, { waitedMs: waited });
    if (!isMigrationFence(fence)) return null; // lifted (block_writes or a vanished database: the retry says)
    if (waited + delay > bound) return fence;
    await sleep(delay);
  }
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
