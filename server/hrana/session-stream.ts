import type { Session } from "../../engine/index.js";

/**
 * A Hrana stream as an executor holds it: the engine session its statements run on and the SQL stored
 * with `store_sql`. Batons, quotas and lifetimes are the server's business (streams.ts); this is only
 * what running a pipeline needs.
 */
export interface SessionStream {
  readonly sqls: Map<number, string>;
  /** A schema database: its changes run as migration jobs. */
  readonly isSchema: boolean;
  readonly session: Session;
  readonly closed: boolean;
  run<T>(statement: (session: Session) => Promise<T>): Promise<T>;
  /** Ends the stream (a `close` request); the session's open transaction, if any, rolls back. */
  close(): void;
}
