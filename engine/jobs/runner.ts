import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { EngineContext } from "../context.js";
import { now, poolOf } from "../context.js";
import {
  failedPrecondition,
  type StorageFailure,
  storageError,
  storageFailure,
  storageMessage,
  TenantDbError,
} from "../errors.js";
import { journalMayBeHot, usePersistentJournal } from "../journal.js";
import { withReserve } from "../space.js";
import { involvesForeignKeys } from "./apply.js";
import { dryRunsOnParent, type JobClass } from "./classify.js";
import type { Pool } from "./pool.js";
import {
  countWrite,
  type ItemResult,
  type WorkItem,
  type WorkOp,
  type WorkRequest,
  type WriteFault,
} from "./protocol.js";
import { schemaPage } from "./schema-page.js";
import type { TaskState } from "./states.js";
import {
  compactFinishedJob,
  failedTasks,
  getJob,
  type JobRow,
  recordRunProgress,
  setJobError,
  setTaskStates,
  type TaskRow,
  taskPage,
  transitionJob,
} from "./store.js";
import { readUndo, restoreImage, undoDir, undoLogs } from "./undo.js";

/**
 * Drives one job through its phases (see states.ts). The runner is the only code that moves a job's
 * state; workers only apply and report. Tasks are streamed from the catalog a page at a time and results
 * are written back in batches, so memory and catalog fsyncs stay flat however many children there are.
 */

export interface JobProgress {
  jobId: number;
  phase: WorkOp;
  done: number;
  total: number;
}

export type ProgressListener = (p: JobProgress) => void;

const PAGE = 2048;
/**
 * Databases per worker batch: one undo-log sync and one catalog commit each. An additive job fences a
 * database for its batch alone, while the worker holds the batch's write locks from undo images to
 * commits; halving this halved that stall (a few % of a 2,000-child job either way) but cost about a
 * fifth of the job's speed, every batch's catalog commit being on the disk's path.
 */
const BATCH = 8;
const FLUSH_EVERY = 256;
/**
 * Databases per batch of a dry run that the parent decides (classify.ts, dryRunsOnParent): a worker reads
 * each child's first page and opens only those whose schema differs, so a batch costs its round trip and little else.
 */
const PARENT_DECIDES_BATCH = 128;

export interface PhaseOutcome {
  failed: number;
  /** The first failures, as they came (the catalog's task rows may not hold them on a full disk). */
  failures: { database: string; error: string }[];
  /** The first database that failed for lack of space or an I/O error, if any did. */
  storage?: { kind: StorageFailure; database: string; error: string };
}

export function runPhase(
  ctx: EngineContext,
  job: JobRow,
  statements: string[],
  op: WorkOp,
  onProgress?: ProgressListener,
  writeFault?: WriteFault,
): Promise<PhaseOutcome> {
  return streamTasks(ctx, poolOf(ctx), job, statements, op, onProgress, writeFault);
}

async function streamTasks(
  ctx: EngineContext,
  pool: Pool,
  job: JobRow,
  statements: string[],
  op: WorkOp,
  onProgress?: ProgressListener,
  writeFault?: WriteFault,
): Promise<PhaseOutcome> {
  const run = op === "run";
  const okState: TaskState = run ? "done" : "dry_run_ok";
  const failState: TaskState = run ? "failed" : "dry_run_failed";
  let pending: { seq: number; state: TaskState; error?: string | null }[] = [];
  let done = 0;
  let migrated = 0;
  let failed = 0;
  let storage: PhaseOutcome["storage"];
  const failures: PhaseOutcome["failures"] = [];
  // Dry-run states are hints: when the catalog cannot take them (a full disk), the dry run goes on without
  // recording, and its caller reports the first database that failed, or else this. Run-phase states are
  // fences: without them no further batch starts.
  let unrecorded: unknown;
  // A batch is marked `applying` just before its worker takes it wherever that mark is a fence: in the run
  // phase of every job, and in the dry run of a data-dependent one (its dry run's verdict on a database
  // holds only if nobody writes there between that database's dry run and its commit).
  const marking = run || job.class === "data";
  const flush = (applying: WorkItem[] = []) => {
    if (unrecorded || (!pending.length && !applying.length)) return;
    try {
      countWrite(writeFault, "the catalog's task states");
      const marks = applying.map((i) => i.seq);
      if (run) recordRunProgress(ctx.catalog, job.id, pending, marks, migrated);
      else
        setTaskStates(ctx.catalog, job.id, [
          ...pending,
          ...marks.map((seq) => ({ seq, state: "applying" as const })),
        ]);
      pending = [];
    } catch (e) {
      if (!storageFailure(e)) throw e;
      unrecorded = e;
    }
  };
  // In the run phase a finished batch's `done` lifts its databases' fences: recorded at once, together
  // with whatever else finished in the same turn (one catalog commit for them all).
  let flushScheduled = false;
  const flushSoon = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      try {
        flush();
      } catch (e) {
        broken ??= { error: e };
      }
    });
  };
  const record = (items: WorkItem[], results: ItemResult[]) => {
    for (const r of results) {
      pending.push({ seq: r.seq, state: r.ok ? okState : failState, error: r.error ?? null });
      if (r.ok) {
        migrated++;
        continue;
      }
      failed++;
      const database = items.find((i) => i.seq === r.seq)?.name ?? "?";
      if (failures.length < 50) failures.push({ database, error: r.error ?? "failed" });
      if (r.storage && !storage) storage = { kind: r.storage, database, error: r.error ?? r.storage };
    }
    done += results.length;
    if (run) flushSoon();
    else if (pending.length >= FLUSH_EVERY) flush();
    onProgress?.({ jobId: job.id, phase: op, done, total: job.total });
  };
  const [parentTask] = taskPage(ctx.catalog, job.id, job.total - 1, 1);
  const parentItem = parentTask && toItem(ctx, parentTask);
  const foreignKeys = parentItem ? involvesForeignKeys(parentItem.path, statements) : true;
  const request: Omit<WorkRequest, "id" | "items"> = {
    op,
    foreignKeys,
    sync: ctx.options.migrationSync ?? "normal",
    jobId: job.id,
    fromVersion: job.from_version,
    version: job.version,
    statements,
    undoDir: undoDir(ctx.layout.undo, job.id),
    dryRunMemory: ctx.options.dryRunMemory,
    failRunOn: ctx.options.faultInjection?.failRunOn,
    writeFault,
    tearOn: ctx.options.faultInjection?.tearOn,
    exitWorkerOn: ctx.options.faultInjection?.exitWorkerOn,
  };
  // Batches go to the pool only as workers free up, so that a batch is marked `applying` just before its
  // worker takes it, not while it waits in a queue. When a batch fails (its results could not be
  // recorded, a worker died) no new one starts; those in flight are waited for, so no worker is still
  // writing once the failure is reported and the job's lock released.
  const inFlight = new Set<Promise<void>>();
  let broken: { error: unknown } | undefined;
  const start = (items: WorkItem[]): boolean => {
    if (marking) {
      flush(items);
      if (unrecorded) return false; // not recorded as applying, so not fenced: it must not start
    }
    const batch: Promise<void> = pool
      .run({ ...request, items })
      .then((res) => record(items, res.results))
      .catch((e) => {
        broken ??= { error: e };
      })
      .finally(() => inFlight.delete(batch));
    inFlight.add(batch);
    return true;
  };
  const startWhenFree = async (items: WorkItem[]): Promise<boolean> => {
    while (inFlight.size >= pool.size) await Promise.race(inFlight);
    return !broken && start(items);
  };
  onProgress?.({ jobId: job.id, phase: op, done: 0, total: job.total });

  // The parent is the last task and goes alone, after every child: in the run phase it is what marks the
  // version as the schema databases's own, so it must never get ahead of a child. A dry run that the
  // parent's verdict decides for its children (decidingSchema) takes it first instead, in full (its batch
  // goes without the schema, which it would match), and stops there if it fails.
  const parentSeq = job.total;
  let after = 0;
  let stopped = false;
  const parentSchema =
    !run && parentItem ? decidingSchema(job.class, statements, foreignKeys, parentItem.path) : undefined;
  if (parentItem && parentSchema) {
    if (start([parentItem])) await Promise.all(inFlight);
    stopped = failed > 0 || !!broken;
    request.parentSchema = parentSchema;
  }
  while (!stopped) {
    const page = taskPage(ctx.catalog, job.id, after, PAGE).filter((t) => t.seq !== parentSeq);
    const lastSeq = page.at(-1)?.seq;
    if (lastSeq === undefined) break;
    after = lastSeq;
    const todo: WorkItem[] = [];
    for (const t of page) {
      if (run && t.state === "done") {
        done++;
        migrated++;
        continue;
      }
      todo.push(toItem(ctx, t));
    }
    const batch = request.parentSchema === undefined ? BATCH : PARENT_DECIDES_BATCH;
    for (let i = 0; i < todo.length && !stopped; i += batch) {
      stopped = !(await startWhenFree(todo.slice(i, i + batch)));
    }
  }
  await Promise.all(inFlight);
  if (!parentSchema && !stopped && !broken && (op === "dry_run" || failed === 0)) {
    const [parent] = taskPage(ctx.catalog, job.id, parentSeq - 1, 1);
    if (parent && !(run && parent.state === "done")) {
      if (start([toItem(ctx, parent)])) await Promise.all(inFlight);
    } else if (parent) done++;
  }
  flush();
  if (broken) throw broken.error;
  // A database that failed for lack of space names the cause better than the catalog's write that failed
  // after it; a phase stopped short always has a failure to report, one or the other.
  if (unrecorded && !storage) throw unrecorded;
  return { failed, failures, storage };
}

/**
 * For a dry run whose verdict on the children the parent's decides (classify.ts, dryRunsOnParent): the
 * parent's schema as its file holds it, which a child must hold too to share that verdict. Undefined when
 * each database must be dry-run on its own.
 */
export function decidingSchema(
  jobClass: JobClass,
  statements: string[],
  foreignKeys: boolean,
  parentFile: string,
): Buffer | undefined {
  return dryRunsOnParent(jobClass, statements, foreignKeys) ? schemaPage(parentFile) : undefined;
}

/** The test hook failing the n-th write of a run phase: a counter for one attempt at the run phase. */
function runWriteFault(ctx: EngineContext): WriteFault | undefined {
  const at = ctx.options.faultInjection?.failRunAtWrite;
  return at === undefined ? undefined : { at, counter: new SharedArrayBuffer(4) };
}

function toItem(ctx: EngineContext, t: TaskRow): WorkItem {
  return { seq: t.seq, name: t.database_name, path: path.join(ctx.layout.root, t.path) };
}

/** A summary of failing databases for errors: the first few by name, and how many in all. */
export function describeFailures(
  ctx: EngineContext,
  jobId: number,
  outcome: PhaseOutcome,
): { database: string; error: string }[] {
  const recorded = failedTasks(ctx.catalog, jobId, 50).map((t) => ({
    database: t.database_name,
    error: t.error ?? "failed",
  }));
  return recorded.length > 0 ? recorded : outcome.failures;
}

export function failureMessage(failures: { database: string; error: string }[], count: number): string {
  const shown = failures
    .slice(0, 5)
    .map((f) => `${f.database}: ${f.error}`)
    .join("; ");
  const more = count > 5 ? `; and ${count - 5} more` : "";
  return `${shown}${more}`;
}

/**
 * Ends a job whose process died before the commit point: nothing was applied anywhere, since a dry run
 * keeps its journal in memory and never writes its database. Any hot journal found on the way (from a
 * writer that died before the job) is rolled back now rather than by whoever writes next.
 */
export function abandonDryRun(ctx: EngineContext, job: JobRow): void {
  let after = 0;
  for (;;) {
    const page = taskPage(ctx.catalog, job.id, after, PAGE);
    const last = page.at(-1);
    if (!last) break;
    after = last.seq;
    for (const t of page) rollBackHotJournal(path.join(ctx.layout.root, t.path));
  }
  ctx.catalog
    .transaction(() => {
      transitionJob(ctx.catalog, job.id, "dry_run", "failed", {
        error: "interrupted before the commit point (the process running it stopped); nothing was changed",
      });
      compactFinishedJob(ctx.catalog, job.id, { abort: true });
    })
    .immediate();
}

/** Taking the write lock makes SQLite play a hot journal back; PERSIST mode then zeroes it in place. */
function rollBackHotJournal(file: string): void {
  if (!journalMayBeHot(file)) return;
  const db = new Database(file, { fileMustExist: true, timeout: 30_000 });
  try {
    usePersistentJournal(db);
    db.exec("BEGIN IMMEDIATE; ROLLBACK");
  } finally {
    db.close();
  }
}

/** Runs (or resumes) the run phase of a committed job until every database carries its version. */
export async function completeCommittedJob(
  ctx: EngineContext,
  jobId: number,
  statements: string[],
  onProgress?: ProgressListener,
): Promise<JobRow> {
  const job = getJob(ctx.catalog, jobId);
  if (job?.state !== "committed") throw new Error(`job ${jobId} is not committed`);
  restoreTouchedDatabases(ctx, job);
  const writeFault = runWriteFault(ctx);
  const resume = `run \`tenantdb db migrations resume ${job.database_name}\``;
  let outcome: PhaseOutcome;
  try {
    outcome = await runPhase(ctx, job, statements, "run", onProgress, writeFault);
  } catch (e) {
    // Recording progress failed (the catalog cannot be written): the job stays committed, to resume.
    const storage = storageError(e, { phase: "run" });
    if (!storage) throw e;
    const kind = storage.code as StorageFailure;
    const advice = `${kind === "DISK_FULL" ? "free space in the data directory" : "check the disk"}, then ${resume}`;
    const message = `job ${job.id} is committed but incomplete: ${storageMessage(kind, { phase: "run" }, (e as Error).message, advice)}`;
    recordJobError(ctx, job.id, message);
    throw new TenantDbError(storage.code, message, { ...storage.details, jobId: job.id, incomplete: true });
  }
  if (outcome.failed > 0) {
    const failures = describeFailures(ctx, job.id, outcome);
    const cause = outcome.storage
      ? storageMessage(
          outcome.storage.kind,
          { phase: "run", database: outcome.storage.database },
          undefined,
          `${outcome.storage.kind === "DISK_FULL" ? "free space in the data directory" : "check the disk"}, then ${resume}`,
        )
      : `fix the cause and ${resume}`;
    const message = `job ${job.id} is committed but incomplete: ${outcome.failed} database(s) do not carry version ${job.version} yet (${failureMessage(failures, outcome.failed)}); ${cause}`;
    recordJobError(ctx, job.id, message);
    const details = { jobId: job.id, incomplete: true, failures };
    if (outcome.storage) throw new TenantDbError(outcome.storage.kind, message, { ...details, phase: "run" });
    throw failedPrecondition(message, details);
  }
  countWrite(writeFault, "the job's success");
  ctx.catalog
    .transaction(() => {
      transitionJob(ctx.catalog, job.id, "committed", "succeeded", { error: null });
      ctx.catalog
        .prepare("UPDATE databases SET schema_version = ? WHERE id = ? OR parent_id = ?")
        .run(job.version, job.database_id, job.database_id);
      ctx.catalog.prepare("UPDATE migrations SET applied_at = ? WHERE job_id = ?").run(now(), job.id);
      compactFinishedJob(ctx.catalog, job.id);
    })
    .immediate();
  // Every database was fsynced before its task was reported done, and a succeeded job is never restored.
  fs.rmSync(undoDir(ctx.layout.undo, job.id), { recursive: true, force: true });
  return getJob(ctx.catalog, job.id) as JobRow;
}

/**
 * Records why a job stopped. On a full disk, this write is the one the space reserve is kept for; if even
 * that fails, the job still stands as it was (committed jobs resume, dry runs of dead processes are
 * abandoned), only without its reason.
 */
export function recordJobError(ctx: EngineContext, jobId: number, message: string): void {
  try {
    withReserve(ctx.layout, () => setJobError(ctx.catalog, jobId, message));
  } catch (e) {
    if (!storageError(e, { phase: "run" })) throw e;
  }
}

/**
 * Before a committed job's run phase starts again, every database an earlier attempt touched and did not
 * finish goes back to its image from before the job (see undo.ts), torn or not, and its task back to
 * `dry_run_ok`, so this run redoes it.
 *
 * Only tasks not recorded `done`: a `done` database's fence has lifted and tenants may have written to it
 * since, so its image (still in a log that its thread had not reused yet) is stale and must never be
 * written back. A task not `done` is still fenced (a data-dependent job fences until `done`; an additive
 * one while `applying` or `failed`, which is what its batch was marked before its worker read the image),
 * so nobody has written to its database since the image was taken. The crash points, for one database:
 * - before its image is durable in the log: the database was not committed (cache spill is off, nothing
 *   is written before COMMIT, and COMMIT comes after the log's fdatasync); it is as before the job.
 * - image durable, commit torn or not synced: restored from the image, as it was.
 * - committed and fsynced, `done` not recorded: restored from the image too (nobody wrote since: fenced),
 *   then migrated again; or, if its thread's log has moved on to the next batch, found at the new version
 *   by its stamp and skipped.
 * - `done` recorded (after the fsync, with the catalog's full durability): never touched again.
 * The task states are reset durably before the logs go: a task left `done` over a restored file would be
 * skipped, and one left `applying` would stay fenced until this run reached it again.
 */
function restoreTouchedDatabases(ctx: EngineContext, job: JobRow): void {
  const dir = undoDir(ctx.layout.undo, job.id);
  const restored = new Set<number>();
  for (const log of undoLogs(dir)) {
    for (const image of readUndo(log)) {
      if (restored.has(image.seq)) continue;
      const [task] = taskPage(ctx.catalog, job.id, image.seq - 1, 1);
      if (task?.seq !== image.seq || task.state === "done") continue;
      restoreImage(path.join(ctx.layout.root, task.path), image.data);
      restored.add(image.seq);
    }
  }
  const reset = ctx.catalog.prepare(
    "UPDATE job_tasks SET state = 'dry_run_ok', error = NULL WHERE job_id = ? AND seq = ?",
  );
  ctx.catalog.transaction(() => {
    for (const seq of restored) reset.run(job.id, seq);
    // Marked but never reached (or committed through SQLite's own journal, whose stamp says so): as they
    // are on disk now, nothing of theirs needs a fence until this run marks them again.
    ctx.catalog
      .prepare(
        "UPDATE job_tasks SET state = 'dry_run_ok' WHERE job_id = ? AND state IN ('applying', 'failed')",
      )
      .run(job.id);
  })();
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Undo logs outlive their job only when its process died between the job's success and their removal.
 * They are never played back for a job that is not committed, so they can go.
 */
export function removeStaleUndoLogs(ctx: EngineContext): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(ctx.layout.undo);
  } catch {
    return;
  }
  for (const entry of entries) {
    const job = getJob(ctx.catalog, Number(entry));
    if (job?.state !== "committed")
      fs.rmSync(path.join(ctx.layout.undo, entry), { recursive: true, force: true });
  }
}
