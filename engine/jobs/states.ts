/**
 * The states of a migration job and of each database's task within it, defined once: the runner, the
 * catalog queries and the CLI/HTTP views all derive from these lists.
 *
 *   dry_run ──(every dry run passed)──▶ committed ──(every database stamped)──▶ succeeded
 *      └──(any dry run failed, or the process died before the commit point)──▶ failed
 *
 * `committed` is the commit point: from there the job only moves forward (resume), never back.
 */
export const JOB_STATES = ["dry_run", "committed", "succeeded", "failed"] as const;
export type JobState = (typeof JOB_STATES)[number];
export const UNFINISHED_JOB_STATES: readonly JobState[] = ["dry_run", "committed"];

/**
 * `applying`: a worker is about to take or has taken this database's batch (set before it is dispatched,
 * replaced by the result): in the run phase of any job, and in the dry run of a data-dependent one. It is
 * what fences a database (see engine/query/fence.ts) before its worker reads it.
 */
export const TASK_STATES = [
  "pending",
  "dry_run_ok",
  "dry_run_failed",
  "applying",
  "done",
  "failed",
  "aborted",
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** SQL list literal for `state IN (...)`, so queries cannot drift from the list above. */
export const UNFINISHED_SQL = `(${UNFINISHED_JOB_STATES.map((s) => `'${s}'`).join(", ")})`;

/** sqld's names for the same states, used by the HTTP jobs API (`/v1/jobs`). */
export function sqldJobStatus(state: JobState): string {
  switch (state) {
    case "dry_run":
      return "WaitingDryRun";
    case "committed":
      return "WaitingRun";
    case "succeeded":
      return "RunSuccess";
    case "failed":
      return "RunFailure";
    default:
      return assertNever(state);
  }
}

export function sqldTaskStatus(state: TaskState): string {
  switch (state) {
    case "pending":
      return "Enqueued";
    case "dry_run_ok":
    case "applying":
      return "DryRunSuccess";
    case "dry_run_failed":
      return "DryRunFailure";
    case "done":
      return "Success";
    case "failed":
    case "aborted":
      return "Failure";
    default:
      return assertNever(state);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected state ${String(x)}`);
}
