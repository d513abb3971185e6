import path from "node:path";
import Database from "better-sqlite3";
import type { EngineContext } from "../context.js";

/**
 * One job per schema database at a time, across processes. The lock is SQLite's own: an EXCLUSIVE
 * transaction held on a small lock file. The OS drops it when the holder dies, however it dies, which is
 * how a later process tells an abandoned job (lock free) from a running one (lock held).
 */
export interface JobLock {
  release(): void;
}

export function tryAcquireJobLock(ctx: EngineContext, databaseId: number): JobLock | null {
  const db = new Database(path.join(ctx.layout.locks, `${databaseId}.lock`), { timeout: 0 });
  try {
    db.exec("BEGIN EXCLUSIVE");
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === "SQLITE_BUSY") return null;
    throw e;
  }
  return {
    release() {
      if (!db.open) return;
      db.exec("ROLLBACK");
      db.close();
    },
  };
}
