import type { Principal } from "../../engine/index.js";
import type { RetryReason } from "./retry.js";

/**
 * Messages between the server and its executor processes (child processes that run SQLite; see pool.ts
 * for why processes and not threads). Each executor runs one pipeline at a time; control messages
 * (close, ping) are answered between pipelines.
 */

export interface ExecutorSettings {
  dataDir: string;
  /** How long a statement waits inside SQLite for another connection's lock before SQLITE_BUSY. */
  busyTimeoutMs: number;
  /** Bytes a pipeline's results may take; a statement past it fails with RESPONSE_TOO_LARGE. */
  maxResponseBytes: number;
  /** Idle autocommit sessions kept open per executor, for reuse by the same token on the same database. */
  sessionCacheSize: number;
}

/** What an executor needs to open a stream's session; sent with the stream's first pipeline. */
export interface StreamSpec {
  database: string;
  isSchema: boolean;
  principal: Principal;
  /** Sessions are reused only by requests with the same key (database and token). */
  cacheKey: string;
}

/** Platform API work that reads tenants' files (see tasks.ts); answered like a pipeline, with a JSON body. */
export type ExecutorTask =
  | {
      kind: "planSchema";
      database: string;
      schema: string;
      renames?: Record<string, string>;
      dryRun?: boolean;
    }
  | {
      kind: "applySchema";
      database: string;
      schema: string;
      renames?: Record<string, string>;
      allowDestructive?: boolean;
      expectChecksum?: string;
    };

export type ToExecutor =
  | { kind: "init"; settings: ExecutorSettings }
  | { kind: "task"; id: number; task: ExecutorTask }
  | {
      kind: "pipeline";
      id: number;
      stream: number;
      open?: StreamSpec;
      /** The Hrana requests, as the client sent them (validated by the executor). */
      requests: unknown;
      version: 2 | 3;
    }
  | { kind: "close"; stream: number }
  | { kind: "ping"; id: number }
  | { kind: "shutdown" }
  /** Several of the above in one message: one hop between processes for a burst of requests. */
  | { kind: "batch"; messages: ToExecutor[] };

export interface WireFailure {
  status: number;
  code: string;
  message: string;
}

export type FromExecutor =
  | {
      kind: "done";
      id: number;
      /** The `results` array, already JSON: encoded once, here. */
      results: string;
      closed: boolean;
      inTransaction: boolean;
      /** Why the server may run the pipeline again a little later, if it may (see retry.ts). */
      retryable: RetryReason;
    }
  | { kind: "failed"; id: number; error: WireFailure; closed: boolean }
  | { kind: "pong"; id: number }
  /**
   * The pipeline started a migration job, which runs on the engine's own threads and may take long: it
   * is no runaway statement, and the executor is free for other work meanwhile.
   */
  | { kind: "background"; id: number }
  /** The engine is open: statement clocks start from here, not from a slow process start. */
  | { kind: "ready" }
  | { kind: "unexpected"; message: string }
  | { kind: "batch"; messages: FromExecutor[] };
