import type { Session } from "../../engine/index.js";

/**
 * A session that says when one of its statements became a migration job (the engine reports a job's
 * progress): the job runs on the engine's own threads and may take long, so the executor hands its
 * pipeline to the background instead of holding every other stream behind it. Clients cannot raise
 * `busy_timeout` — the engine's guard refuses it — so the server owns how long a statement waits for a lock.
 */
export function signallingJobs(session: Session, onJob: () => void): Session {
  return {
    database: session.database,
    get inTransaction() {
      return session.inTransaction;
    },
    describe: (sql) => session.describe(sql),
    execute: (sql, args, opts) =>
      session.execute(sql, args, {
        ...opts,
        onProgress: (p) => {
          onJob();
          opts?.onProgress?.(p);
        },
      }),
    readBounded: (sql, args) => session.readBounded(sql, args),
    releaseRead: () => session.releaseRead(),
    close: () => session.close(),
  };
}
