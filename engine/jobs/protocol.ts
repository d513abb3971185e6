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
  /** How the run phase syncs each commit: see engine/jobs/apply.ts. */
  sync: "normal" | "full";
  /** Where the run phase keeps this job's undo logs (see engine/jobs/undo.ts); a dry run keeps none. */
  undoDir?: string;
  items: WorkItem[];
  /** Test hook: fail the run phase on these databases with an injected I/O error. */
  failRunOn?: string[];
  /** Test hook: tear this database's file right after its commit, and kill the process. */
  tearOn?: string;
}

export interface ItemResult {
  seq: number;
  ok: boolean;
  /** The database already carried the version (a resumed job), so nothing was applied. */
  skipped?: boolean;
  error?: string;
}

export interface WorkResponse {
  id: number;
  results: ItemResult[];
}
