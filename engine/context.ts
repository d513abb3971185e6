import type { Catalog } from "./catalog.js";
import { createPool, type Pool } from "./jobs/pool.js";
import type { Layout } from "./layout.js";

export interface EngineOptions {
  /**
   * Worker threads for migration jobs. Default: three per core, at least 4 and at most 16 (the work waits
   * on fsync more than CPU; see jobs/pool.ts defaultPoolSize).
   */
  workers?: number;
  /**
   * How a migration's run phase syncs each database's commit: `normal` (default) or `full`. Both are
   * durable in rollback-journal mode; `full` adds SQLite's second journal-header sync, for filesystems that
   * may persist a file's size before its data (see engine/jobs/apply.ts).
   */
  migrationSync?: "normal" | "full";
  /**
   * Roughly the most memory (bytes) one database's dry run may hold, whatever the database's size
   * (default 16 MiB): larger dry runs keep their journal on disk (see engine/jobs/apply.ts). A job's worst
   * case is `workers` × this, one dry run per worker.
   */
  dryRunMemory?: number;
  /**
   * Test hooks: databases whose run-phase apply fails with an injected I/O error; the n-th write of the
   * run phase (1-based, over every thread and the catalog) failing with one; and one database whose file
   * is torn right after its commit, killing the process (a crash mid-write); and the n-th step of a create
   * (each file written, each chunk synced, the intent, each move, the commit) killing the process; and
   * one database whose worker thread exits right after its commit (a thread dying mid-batch).
   */
  faultInjection?: {
    failRunOn?: string[];
    failRunAtWrite?: number;
    tearOn?: string;
    dieAtCreateStep?: number;
    exitWorkerOn?: string;
  };
  /**
   * How long (ms) a write that meets a migration's fence waits for it to lift before failing with BLOCKED
   * (default 5000; 0 fails at once, as a server's executor wants: the server waits without a process).
   * A write inside a transaction never waits.
   */
  fenceWaitMs?: number;
  /** Test hook: called with every statement the catalog connection runs, values filled in. */
  catalogTrace?: (sql: string) => void;
}

/** What every engine function works against: one data directory and its catalog connection. */
export interface EngineContext {
  layout: Layout;
  catalog: Catalog;
  options: EngineOptions;
  /** Worker threads for jobs, started on first use and kept until the engine closes. */
  pool?: Pool;
}

/** The engine's worker pool: starting threads (each loads SQLite) costs more than a small job. */
export function poolOf(ctx: EngineContext): Pool {
  ctx.pool ??= createPool(ctx.options.workers);
  return ctx.pool;
}

export const now = () => Math.floor(Date.now() / 1000);
