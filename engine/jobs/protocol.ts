/** Messages between the job runner and its worker threads. */

export type WorkOp = "dry_run" | "run";

export interface WorkItem {
  seq: number;
  name: string;
  /** Absolute path of the database file. */
  path: string;
}

export interface WorkRequest {
  id: number;
  op: WorkOp;
  jobId: number;
  /** The schema version every database carries before the job, and the one the job brings it to. */
  fromVersion: number;
  version: number;
  statements: string[];
  /** Whether foreign keys can matter (asked once per job): off during the migration, checked before commit. */
  foreignKeys: boolean;
  /**
   * Set on a dry run whose verdict on a database depends on its schema alone (engine/jobs/classify.ts,
   * dryRunsOnParent): the parent's schema as its file holds it (schema-page.ts), proven by the parent's
   * own full dry run. A child whose file holds the same bytes shares that verdict without being opened;
   * any other child is dry-run in full.
   */
  parentSchema?: Uint8Array;
  /** How the run phase syncs each commit: see engine/jobs/apply.ts. */
  sync: "normal" | "full";
  /** Where the run phase keeps this job's undo logs (see engine/jobs/undo.ts); a dry run keeps none. */
  undoDir?: string;
  items: WorkItem[];
  /** Roughly the most memory one dry run may hold (see engine/jobs/apply.ts); the engine's default if unset. */
  dryRunMemory?: number;
  /** Test hook: fail the run phase on these databases with an injected I/O error. */
  failRunOn?: string[];
  /**
   * Test hook: the run phase's writes (undo logs, commits, fsyncs, catalog updates) are counted in
   * `counter`, shared by every thread, and the `at`-th fails with an injected I/O error.
   */
  writeFault?: WriteFault;
  /** Test hook: tear this database's file right after its commit, and kill the process. */
  tearOn?: string;
  /** Test hook: the thread running this database's batch exits right after its commit (process.exit). */
  exitWorkerOn?: string;
}

export interface WriteFault {
  at: number;
  counter: SharedArrayBuffer;
}

/** Counts a write of the run phase, failing it if it is the one a test picked. */
export function countWrite(fault: WriteFault | undefined, what: string): void {
  if (!fault) return;
  if (Atomics.add(new Int32Array(fault.counter), 0, 1) + 1 !== fault.at) return;
  throw Object.assign(new Error(`disk I/O error (injected at ${what})`), { code: "SQLITE_IOERR_WRITE" });
}

export interface ItemResult {
  seq: number;
  ok: boolean;
  /** The database already carried the version (a resumed job), so nothing was applied. */
  skipped?: boolean;
  error?: string;
  /** The failure was the storage's (no space left, an I/O error), not the migration's. */
  storage?: "DISK_FULL" | "IO_ERROR";
}

export interface WorkResponse {
  id: number;
  results: ItemResult[];
}
