import type { Catalog } from "./catalog.js";
import { createPool, type Pool } from "./jobs/pool.js";
import type { Layout } from "./layout.js";

export interface EngineOptions {
  /** Worker threads for migration jobs. Default: twice the cores (the work waits on fsync more than CPU). */
  workers?: number;
  /**
   * How a migration's run phase syncs each database's commit: `normal` (default) or `full`. Both are
   * durable in rollback-journal mode; `full` adds SQLite's second journal-header sync, for filesystems that
   * may persist a file's size before its data (see engine/jobs/apply.ts).
   */
  migrationSync?: "normal" | "full";
  /**
   * Test hooks: databases whose run-phase apply fails with an injected I/O error, and one whose file is
   * torn right after its commit, killing the process (a crash mid-write).
   */
  faultInjection?: { failRunOn?: string[]; tearOn?: string };
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
