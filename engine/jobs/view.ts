import type { EngineContext } from "../context.js";
import { notFound } from "../errors.js";
import { requireSchemaDatabase } from "../migrations.js";
import type { JobState, TaskState } from "./states.js";
import { getJob, type JobRow, listJobs, taskCounts } from "./store.js";

/** A job as people and clients see it: what ran, where it stands, and per-database progress. */
export interface JobView {
  id: number;
  database: string;
  state: JobState;
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

export function getJobView(ctx: EngineContext, parent: string, id: number): JobView & { tasks: TaskView[] } {
  const row = requireSchemaDatabase(ctx, parent);
  const job = getJob(ctx.catalog, id);
  if (!job || job.database_id !== row.id) throw notFound(`no migration job ${id} for "${parent}"`);
  const tasks = ctx.catalog
    .prepare("SELECT database_name, state, error FROM job_tasks WHERE job_id = ? ORDER BY seq")
    .all(id) as { database_name: string; state: TaskState; error: string | null }[];
  return {
    ...toView(ctx, job),
    tasks: tasks.map((t) => ({ database: t.database_name, state: t.state, error: t.error })),
  };
}

export interface TaskView {
  database: string;
  state: TaskState;
  error: string | null;
}

function toView(ctx: EngineContext, j: JobRow): JobView {
  return {
    id: j.id,
    database: j.database_name,
    state: j.state,
    version: j.version,
    statements: j.sql,
    error: j.error,
    total: j.total,
    progress: taskCounts(ctx.catalog, j.id),
    createdAt: j.created_at,
    committedAt: j.committed_at,
    finishedAt: j.finished_at,
  };
}
