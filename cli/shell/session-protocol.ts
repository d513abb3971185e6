import type { JobProgress, QueryResult, SqlArgs } from "../../engine/index.js";

/**
 * Messages between the interactive shell and the process that holds its engine session (see
 * session-process.ts for why a process). One request at a time; a request's progress, then its answer.
 */

export interface SessionSpec {
  dataDir: string;
  database: string;
  /** The token the shell acts with; sent over the channel, never on a command line `ps` shows. */
  token?: string;
  /** ATTACH and DETACH statements to run after opening, in order: the session's attachments so far. */
  replay: string[];
}

export type ToSession =
  | { kind: "open"; spec: SessionSpec }
  | { kind: "execute"; sql: string; args?: SqlArgs }
  /** Finish or abandon the database's unfinished migration job, left by a killed process. */
  | { kind: "settle" };

export interface WireError {
  /** An engine error code, or absent for an unexpected error. */
  code?: string;
  message: string;
  details?: Record<string, unknown>;
  stack?: string;
}

/** What became of a settled job: `done` finished everywhere, anything else changed nothing. */
export interface SettledJob {
  state: string;
  version: number;
}

export type FromSession =
  | { kind: "progress"; progress: JobProgress }
  /** `cpu` (here and in `done`): the process's CPU time so far, for `.timer`. */
  | { kind: "opened"; replayFailures: string[]; cpu: NodeJS.CpuUsage }
  | { kind: "done"; results: QueryResult[]; inTransaction: boolean; cpu: NodeJS.CpuUsage }
  | { kind: "settled"; job: SettledJob | null }
  | { kind: "failed"; error: WireError; inTransaction: boolean };
