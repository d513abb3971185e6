import type { EngineContext } from "../context.js";
import { invalidArgument, notFound } from "../errors.js";
import { requireSchemaDatabase } from "../migrations.js";
import type { JobClass } from "./classify.js";
import type { JobState, TaskState } from "./states.js";
import { getJob, type JobRow, listJobs, taskCounts, taskPage } from "./store.js";

/** A job as people and clients see it: what ran, where it stands, and per-database progress. */
export interface JobView {
  id: number;
  database: string;
  state: JobState;
  /** `additive` (no fleet-wide fence) or `data` (fenced per database until it commits): see classify.ts. */
  class: JobClass;
  version: number;
  statements: string;
  error: string | null;
  total: number;
  progress: Record<TaskState, number>;
  createdAt: number;
  committedAt: number | null;
  finishedAt: number | null;
}

export function listJobViews(ctx: EngineContext, parent: string): JobView[] {
  const row = requireSchemaDatabase(ctx, parent);
  return listJobs(ctx.catalog, row.id).map((j) => toView(ctx, j));
}

/** How many tasks one page of a job's view holds at most, and by default. */
export const TASK_PAGE_MAX = 10_000;
export const TASK_PAGE_DEFAULT = 1_000;

export interface JobDetail extends JobView {
  /**
   * A page of the job's tasks in order. A finished job keeps rows only for the databases that failed (its
   * `progress` has the counts); a running job has one per database.
   */
  tasks: TaskView[];
  /** Pass as `after` for the next page; null on the last one. */
  nextAfter: number | null;
}

export function getJobView(
  ctx: EngineContext,
  parent: string,
  id: number,
  page: { after?: number; limit?: number } = {},
): JobDetail {
  const row = requireSchemaDatabase(ctx, parent);
  const job = getJob(ctx.catalog, id);
  if (!job || job.database_id !== row.id) throw notFound(`no migration job ${id} for "${parent}"`);
  const after = page.after ?? 0;
  const limit = page.limit ?? TASK_PAGE_DEFAULT;
  if (!Number.isSafeInteger(after) || after < 0) throw invalidArgument("after must be a task number ≥ 0");
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > TASK_PAGE_MAX) {
    throw invalidArgument(`limit must be between 1 and ${TASK_PAGE_MAX}`);
  }
  // One more than asked tells whether another page follows without counting.
  const tasks = taskPage(ctx.catalog, id, after, limit + 1);
  const more = tasks.length > limit;
  const shown = more ? tasks.slice(0, limit) : tasks;
  return {
    ...toView(ctx, job),
    tasks: shown.map((t) => ({ seq: t.seq, database: t.database_name, state: t.state, error: t.error })),
    nextAfter: more ? (shown.at(-1)?.seq ?? null) : null,
  };
}

export interface TaskView {
  /** The task's place in the job: its children in id order, the schema database last. */
  seq: number;
  database: string;
  state: TaskState;
  error: string | null;
}

function toView(ctx: EngineContext, j: JobRow): JobView {
  return {
    id: j.id,
    database: j.database_name,
    state: j.state,
    class: j.class,
    version: j.version,
    statements: j.sql,
    error: j.error,
    total: j.total,
    progress: taskCounts(ctx.catalog, j),
    createdAt: j.created_at,
    committedAt: j.committed_at,
    finishedAt: j.finished_at,
  };
}
