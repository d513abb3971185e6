import { invalidArgument, type Session } from "../../engine/index.js";

/**
 * The server owns `busy_timeout`: SQLite waits for a lock synchronously, so a client that raised it
 * would hold an executor (and every stream on it) for as long as it liked. Statements that name it are
 * refused; lock waits are short inside the executor and retried by the server on its own terms.
 */
export function withServerBusyTimeout(session: Session, onJob: () => void): Session {
  return {
    database: session.database,
    get inTransaction() {
      return session.inTransaction;
    },
    describe: (sql) => session.describe(refuseBusyTimeout(sql)),
    execute: (sql, args, opts) =>
      session.execute(refuseBusyTimeout(sql), args, {
        ...opts,
        onProgress: (p) => {
          onJob();
          opts?.onProgress?.(p);
        },
      }),
    close: () => session.close(),
  };
}

function refuseBusyTimeout(sql: string): string {
  if (typeof sql === "string" && /busy_timeout/i.test(sql)) {
    throw invalidArgument(
      "busy_timeout is set by the server, not by clients: a statement waits briefly for a lock and the server retries autocommit work itself",
    );
  }
  return sql;
}
