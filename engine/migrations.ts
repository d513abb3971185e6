import { createHash } from "node:crypto";
import path from "node:path";
import Database from "better-sqlite3";
import type { DatabaseRow } from "./catalog.js";
import { type EngineContext, poolOf } from "./context.js";
import { requireDatabaseRow } from "./databases.js";
import {
  conflict,
  failedPrecondition,
  invalidArgument,
  type StorageFailure,
  storageError,
  storageFailure,
  storageMessage,
  TenantDbError,
} from "./errors.js";
import { refusal } from "./guard.js";
import { involvesForeignKeys } from "./jobs/apply.js";
import { classifyOnDatabase } from "./jobs/classify.js";
import { tryAcquireJobLock } from "./jobs/lock.js";
import type { ItemResult, WorkItem, WorkRequest } from "./jobs/protocol.js";
import {
  abandonDryRun,
  completeCommittedJob,
  decidingSchema,
  describeFailures,
  failureMessage,
  type PhaseOutcome,
  type ProgressListener,
  removeStaleUndoLogs,
  runPhase,
} from "./jobs/runner.js";
import {
  allUnfinishedJobs,
  compactFinishedJob,
  getJob,
  insertJob,
  type JobRow,
  jobParts,
  transitionJob,
  unfinishedJob,
} from "./jobs/store.js";
import { withReserve } from "./space.js";
import { splitStatements } from "./sql/statements.js";
import { createStampTable } from "./stamp.js";

export interface AppliedMigration {
  version: number;
  sql: string;
  checksum: string;
  jobId: number;
  appliedAt: number;
}

export interface MigrationResult {
  jobId: number;
  version: number;
  databases: number;
}

export const checksumOf = (sql: string) => createHash("sha256").update(sql.trim()).digest("hex");

/**
 * Checks that a migration may run as a job and returns its statements. Transaction control, ATTACH and
 * VACUUM are refused: each database applies a migration inside a transaction of the job's own, and a
 * migration may only touch the database it runs in.
 */
export function validateMigration(sql: string): string[] {
  if (typeof sql !== "string") throw invalidArgument("a migration must be SQL text");
  const statements = splitStatements(sql);
  if (statements.length === 0) throw invalidArgument("the migration is empty");
  for (const [i, s] of statements.entries()) {
    const where = `statement ${i + 1}`;
    if (s.kind === "transaction") {
      throw invalidArgument(
        `${where}: migrations may not contain transaction control (BEGIN, COMMIT, SAVEPOINT…); each database already applies a migration in one transaction`,
      );
    }
    if (s.kind === "attach" || s.kind === "detach")
      throw invalidArgument(`${where}: ATTACH is not permitted in migrations`);
    if (s.kind === "vacuum") throw invalidArgument(`${where}: VACUUM is not permitted in migrations`);
    const refused = refusal(s);
    if (refused) throw refused;
  }
  return statements.map((s) => s.sql);
}

export function listMigrations(ctx: EngineContext, parentName: string): AppliedMigration[] {
  const parent = requireSchemaDatabase(ctx, parentName);
  const rows = ctx.catalog
    .prepare("SELECT * FROM migrations WHERE database_id = ? ORDER BY version")
    .all(parent.id) as {
    version: number;
    sql: string;
    checksum: string;
    job_id: number;
    applied_at: number;
  }[];
  return rows.map((r) => ({
    version: r.version,
    sql: r.sql,
    checksum: r.checksum,
    jobId: r.job_id,
    appliedAt: r.applied_at,
  }));
}

export function requireSchemaDatabase(ctx: EngineContext, name: string): DatabaseRow {
  const row = requireDatabaseRow(ctx, name);
  if (row.type !== "schema") {
    throw failedPrecondition(
      `"${name}" is not a schema database; migrations run on schema databases (\`--type schema\`)`,
    );
  }
  return row;
}

/**
 * Runs migrations as one job over the schema database and all its children, all or none: classify and
 * record the job (its class decides which databases are fenced when: see query/fence.ts), dry-run
 * everywhere, commit, then run on every child and the parent last. Several
 * migrations in one job are applied together in each database's transaction and recorded as one version
 * each.
 */
export async function migrate(
  ctx: EngineContext,
  parentName: string,
  sql: string | string[],
  opts: { onProgress?: ProgressListener; expectVersion?: number; signal?: AbortSignal } = {},
): Promise<MigrationResult> {
  const migrations = typeof sql === "string" ? [sql] : sql;
  if (migrations.length === 0) throw invalidArgument("no migrations to run");
  const statements = migrations.flatMap((m) => validateMigration(m));
  const parent = requireSchemaDatabase(ctx, parentName);
  return withJobLock(ctx, parent, opts.onProgress, async () => {
    // Judged after any abandoned job is settled, on the schema the new one starts from.
    const jobClass = classifyOnDatabase(path.join(ctx.layout.root, parent.path), statements);
    const job = recordingJob(parentName, () =>
      ctx.catalog
        .transaction(() => {
          const fresh = requireSchemaDatabase(ctx, parentName);
          if (opts.expectVersion !== undefined && opts.expectVersion !== fresh.schema_version) {
            throw conflict(
              `"${parentName}" moved to schema version ${fresh.schema_version} meanwhile; retry`,
            );
          }
          const id = insertJob(ctx.catalog, {
            databaseId: fresh.id,
            databaseName: fresh.name,
            parentPath: fresh.path,
            fromVersion: fresh.schema_version,
            migrations,
            class: jobClass,
          });
          return getJob(ctx.catalog, id) as JobRow;
        })
        .immediate(),
    );

    return runJob(ctx, job, statements, opts.onProgress, opts.signal);
  });
}

async function runJob(
  ctx: EngineContext,
  job: JobRow,
  statements: string[],
  onProgress?: ProgressListener,
  signal?: AbortSignal,
): Promise<MigrationResult> {
  let dry: PhaseOutcome;
  try {
    dry = await runPhase(ctx, job, statements, "dry_run", onProgress);
  } catch (e) {
    // The dry run's results could not be recorded (the catalog is on a full disk, say).
    const kind = storageFailure(e);
    if (!kind) throw e;
    failBeforeCommit(ctx, job, kind, { phase: "dry run" }, (e as Error).message);
  }
  if (dry.storage)
    failBeforeCommit(
      ctx,
      job,
      dry.storage.kind,
      { phase: "dry run", database: dry.storage.database },
      dry.storage.error,
    );
  // A caller that gave up (cancelled, timed out) is let go at the last point where that changes nothing.
  if (dry.failed > 0 || signal?.aborted) {
    const failures = describeFailures(ctx, job.id, dry);
    const message =
      dry.failed > 0
        ? `migration failed on ${dry.failed} of ${job.total} database(s), so nothing was changed: ${failureMessage(failures, dry.failed)}`
        : `migration stopped before its commit point (${String(signal?.reason?.message ?? signal?.reason ?? "cancelled")}), so nothing was changed`;
    markFailed(ctx, job, message);
    throw failedPrecondition(message, { jobId: job.id, failures });
  }

  // The commit point: from here the job only moves forward, and a crash resumes it.
  try {
    ctx.catalog
      .transaction(() => {
        transitionJob(ctx.catalog, job.id, "dry_run", "committed");
        const record = ctx.catalog.prepare(
          "INSERT INTO migrations (database_id, version, sql, checksum, job_id, applied_at) VALUES (?, ?, ?, ?, ?, 0)",
        );
        for (const [i, sql] of jobParts(job).entries()) {
          record.run(job.database_id, job.from_version + i + 1, sql, checksumOf(sql), job.id);
        }
      })
      .immediate();
  } catch (e) {
    // The transaction rolled back: the job never reached its commit point, and nothing was changed.
    const kind = storageFailure(e);
    if (!kind) throw e;
    failBeforeCommit(ctx, job, kind, { phase: "commit" }, (e as Error).message);
  }
  await completeCommittedJob(ctx, job.id, statements, onProgress);
  return { jobId: job.id, version: job.version, databases: job.total };
}

/** Ends a job before its commit point: it failed, and nothing was changed anywhere. */
function markFailed(ctx: EngineContext, job: JobRow, message: string): void {
  withReserve(ctx.layout, () =>
    ctx.catalog
      .transaction(() => {
        transitionJob(ctx.catalog, job.id, "dry_run", "failed", { error: message });
        compactFinishedJob(ctx.catalog, job.id, { abort: true });
      })
      .immediate(),
  );
}

/**
 * A job that stopped before its commit point for lack of space or an I/O error: recorded as failed if the
 * catalog can still take that write, otherwise left in its dry run, which the next engine open abandons
 * (nothing was changed either way). The error names the database and the phase.
 */
function failBeforeCommit(
  ctx: EngineContext,
  job: JobRow,
  kind: StorageFailure,
  site: { phase: string; database?: string },
  cause: string,
): never {
  const message = `migration job ${job.id} failed, so nothing was changed: ${storageMessage(kind, site, cause, kind === "DISK_FULL" ? "free space in the data directory and run the migration again" : undefined)}`;
  try {
    markFailed(ctx, job, message);
  } catch (e) {
    if (!storageFailure(e)) throw e;
  }
  throw new TenantDbError(kind, message, {
    jobId: job.id,
    phase: site.phase,
    ...(site.database ? { database: site.database } : {}),
  });
}

/** Recording a new job is its first write: on a full disk it fails whole, and nothing is left. */
function recordingJob<T>(parentName: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw storageError(e, { phase: "recording the job", database: parentName }) ?? e;
  }
}

/**
 * Brings a schema database to an ordered list of migrations, idempotently: migrations already applied (by
 * checksum, at their position) are skipped, and the rest run as one job, all or none. A different
 * migration at an applied position is refused: history is append-only.
 */
export async function applyMigrations(
  ctx: EngineContext,
  parentName: string,
  migrations: string[],
  opts: { onProgress?: ProgressListener; signal?: AbortSignal } = {},
): Promise<{ applied: MigrationResult | null; version: number }> {
  const pending = pendingMigrations(ctx, parentName, migrations);
  if (pending.migrations.length === 0) return { applied: null, version: pending.current };
  const applied = await migrate(
    ctx,
    parentName,
    pending.migrations.map((m) => m.sql),
    { ...opts, expectVersion: pending.current },
  );
  return { applied, version: applied.version };
}

export function pendingMigrations(
  ctx: EngineContext,
  parentName: string,
  migrations: string[],
): { current: number; migrations: { version: number; sql: string }[] } {
  const applied = listMigrations(ctx, parentName);
  const drift = historyConflict(
    applied.map((m) => m.sql),
    migrations,
  );
  if (drift) throw failedPrecondition(drift);
  for (const sql of migrations.slice(applied.length)) validateMigration(sql);
  return {
    current: applied.length,
    migrations: migrations.slice(applied.length).map((sql, i) => ({ version: applied.length + i + 1, sql })),
  };
}

/** Why a desired migration list cannot extend the applied one, or null when it can. */
export function historyConflict(applied: string[], desired: string[]): string | null {
  for (const [i, sql] of applied.entries()) {
    const wanted = desired[i];
    if (wanted === undefined) {
      return `migration ${i + 1} has already been applied and cannot be removed; migrations are append-only — add a new migration that reverses it instead`;
    }
    if (checksumOf(wanted) !== checksumOf(sql)) {
      return `migration ${i + 1} has already been applied and cannot be edited; leave it as it was and append a new migration instead`;
    }
  }
  return null;
}

export interface PreviewFailure {
  database: string;
  error: string;
}

/**
 * Dry-runs pending migrations on the parent and every child without recording a job or fencing writes:
 * what `pulumi preview` shows before anything is touched. Each database applies all of them in one
 * transaction that is rolled back.
 */
export async function previewMigrations(
  ctx: EngineContext,
  parentName: string,
  migrations: string[],
): Promise<{ databases: number; failures: PreviewFailure[]; failed: number }> {
  const pending = pendingMigrations(ctx, parentName, migrations);
  const parent = requireSchemaDatabase(ctx, parentName);
  if (pending.migrations.length === 0) return { databases: 0, failures: [], failed: 0 };
  const statements = pending.migrations.flatMap((m) => validateMigration(m.sql));
  const pool = poolOf(ctx);
  const parentFile = path.join(ctx.layout.root, parent.path);
  const foreignKeys = involvesForeignKeys(parentFile, statements);
  const failures: PreviewFailure[] = [];
  let failed = 0;
  let databases = 0;
  const names = new Map<number, string>();
  const request: Omit<WorkRequest, "id" | "items"> = {
    op: "dry_run",
    jobId: 0,
    fromVersion: parent.schema_version,
    version: parent.schema_version + pending.migrations.length,
    statements,
    foreignKeys,
    sync: "normal", // a dry run never commits
  };
  const run = async (items: WorkItem[]) => {
    const res = await pool.run({ ...request, items });
    for (const r of res.results as ItemResult[]) {
      databases++;
      if (r.ok) continue;
      failed++;
      if (failures.length < 50)
        failures.push({ database: names.get(r.seq) ?? "?", error: r.error ?? "failed" });
    }
  };
  const parentItem = { seq: parent.id, name: parent.name, path: parentFile };
  // As in a job (runner.ts): where the parent's verdict decides its children's, it goes first, in full.
  const schema = decidingSchema(
    classifyOnDatabase(parentFile, statements),
    statements,
    foreignKeys,
    parentFile,
  );
  if (schema) {
    names.set(parent.id, parent.name);
    await run([parentItem]);
    if (failed > 0) return { databases, failures, failed };
    request.parentSchema = schema;
  }
  let after = 0;
  for (;;) {
    const rows = ctx.catalog
      .prepare("SELECT id, name, path FROM databases WHERE parent_id = ? AND id > ? ORDER BY id LIMIT 512")
      .all(parent.id, after) as { id: number; name: string; path: string }[];
    const last = rows.at(-1);
    if (!last) break;
    after = last.id;
    const items = rows.map((r) => {
      names.set(r.id, r.name);
      return { seq: r.id, name: r.name, path: path.join(ctx.layout.root, r.path) };
    });
    const batches: Promise<void>[] = [];
    for (let i = 0; i < items.length; i += 8) batches.push(run(items.slice(i, i + 8)));
    await Promise.all(batches);
    names.clear();
  }
  if (!schema) {
    names.set(parent.id, parent.name);
    await run([parentItem]);
  }
  return { databases, failures, failed };
}

/**
 * Dry-runs migrations on an empty database in memory: what a preview of a schema database that does not
 * exist yet can check beyond syntax. Returns the first failure, or null.
 */
export function dryRunOnEmpty(migrations: string[]): { migration: number; error: string } | null {
  const db = new Database(":memory:");
  try {
    createStampTable(db);
    db.exec("BEGIN");
    for (const [i, sql] of migrations.entries()) {
      for (const [j, statement] of validateMigration(sql).entries()) {
        try {
          const stmt = db.prepare(statement);
          if (stmt.reader) stmt.all();
          else stmt.run();
        } catch (e) {
          return { migration: i + 1, error: `statement ${j + 1}: ${(e as Error).message}` };
        }
      }
    }
    return null;
  } finally {
    db.close();
  }
}

/** Finishes the committed job of a schema database (`tenantdb db migrations resume`). */
export async function resumeMigrations(
  ctx: EngineContext,
  parentName: string,
  opts: { onProgress?: ProgressListener } = {},
): Promise<JobRow | null> {
  const parent = requireSchemaDatabase(ctx, parentName);
  const lock = tryAcquireJobLock(ctx, parent.id);
  if (!lock) throw runningConflict(parentName);
  try {
    return await recoverJob(ctx, parent.id, opts.onProgress);
  } finally {
    lock.release();
  }
}

/**
 * At engine open: finish what dead processes left. A job whose lock is free has no owner; before its
 * commit point it failed (nothing changed), after it, it is resumed. Jobs whose lock is held are running
 * in another process and are left alone.
 */
export async function recoverAbandonedJobs(
  ctx: EngineContext,
  onProgress?: ProgressListener,
): Promise<{ recovered: number[] }> {
  removeStaleUndoLogs(ctx);
  const recovered: number[] = [];
  for (const job of allUnfinishedJobs(ctx.catalog)) {
    const lock = tryAcquireJobLock(ctx, job.database_id);
    if (!lock) continue;
    try {
      await recoverJob(ctx, job.database_id, onProgress);
      recovered.push(job.id);
    } catch (e) {
      // An incomplete job stays committed (and fenced) with its error recorded; opening must still work
      // so that `db migrations` can show it and `resume` can finish it — on a full disk too.
      const code = (e as { code?: string }).code;
      if (code !== "FAILED_PRECONDITION" && !storageFailure(e)) throw e;
    } finally {
      lock.release();
    }
  }
  return { recovered };
}

async function recoverJob(ctx: EngineContext, databaseId: number, onProgress?: ProgressListener) {
  const job = unfinishedJob(ctx.catalog, databaseId);
  if (!job) return null;
  if (job.state === "dry_run") {
    abandonDryRun(ctx, job);
    return getJob(ctx.catalog, job.id) ?? null;
  }
  return completeCommittedJob(
    ctx,
    job.id,
    jobParts(job).flatMap((m) => validateMigration(m)),
    onProgress,
  );
}

async function withJobLock<T>(
  ctx: EngineContext,
  parent: DatabaseRow,
  onProgress: ProgressListener | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = tryAcquireJobLock(ctx, parent.id);
  if (!lock) throw runningConflict(parent.name);
  try {
    // We hold the lock, so any unfinished job of this parent was abandoned: settle it before a new one
    // (this is where an engine opened with `recover: "lazy"` finishes it), showing its progress.
    if (unfinishedJob(ctx.catalog, parent.id)) await recoverJob(ctx, parent.id, onProgress);
    return await fn();
  } finally {
    lock.release();
  }
}

function runningConflict(name: string) {
  return conflict(
    `a migration job is already in progress for "${name}"; wait for it (\`tenantdb db migrations ${name}\`)`,
  );
}
