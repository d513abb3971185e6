import type { ProgressListener, QueryResult, SqlArgs } from "../../engine/index.js";

/** What the shell needs of an engine session: one in this process, or one held by a child process. */
export interface ShellSession {
  readonly database: string;
  readonly inTransaction: boolean;
  execute(sql: string, args?: SqlArgs, opts?: { onProgress?: ProgressListener }): Promise<QueryResult[]>;
  close(): void;
}
