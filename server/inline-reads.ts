import { performance } from "node:perf_hooks";
import type { Engine, Session } from "../engine/index.js";
import { SessionCache } from "./executor/sessions.js";
import { argsOf } from "./hrana/execute.js";
import { readPipelineRequest, type StreamRequest } from "./hrana/protocol.js";
import { encodeResult } from "./hrana/values.js";
import type { Caller } from "./token-cache.js";

/**
 * Reads answered on the server's own thread, without the hop to an executor: what `@libsql/client`'s
 * `execute()` sends most — one statement and `close` on a new stream — when the statement is a read that
 * SQLite's own bytecode proves bounded (engine/query/bounded.ts), on a database the session's full path
 * has no business with (see Session.readBounded). Anything else, and any error, goes the usual way,
 * where it is answered in full: nothing here ever answers differently from an executor, only sooner.
 *
 * What a bounded program cannot see is the size of a value it copies: a database whose reads take long
 * here anyway (huge blobs) has its reads sent to executors for a while.
 */

export interface InlineReads {
  /** The pipeline's results as JSON, or undefined when an executor must run it. */
  answer(caller: Caller, requests: unknown[]): string | undefined;
  close(): void;
}

/**
 * A read that took this long on the server's thread sends its database's reads to executors... (A
 * bounded read of a small row takes microseconds; a busy machine can stall anything for a few ms.)
 */
const SLOW_MS = 50;
/** ...for this long. */
const DEMOTED_MS = 60_000;
/** Most databases' demotions kept: past it, the oldest are forgotten. */
const MAX_DEMOTED = 10_000;

export function createInlineReads(
  engine: Engine,
  opts: { maxResponseBytes: number; sessions: number },
): InlineReads {
  const sessions = new SessionCache(opts.sessions);
  const demoted = new Map<string, number>();

  function open(caller: Caller): Session | undefined {
    try {
      return engine.openSession(caller.database, caller.principal, {
        // A lock held elsewhere means an executor's turn, never a wait on this thread.
        busyTimeoutMs: 0,
        maxResultBytes: opts.maxResponseBytes,
        catalogChecks: "turn",
        readTransactions: "turn",
      });
    } catch {
      return undefined;
    }
  }

  function isDemoted(database: string, now: number): boolean {
    const until = demoted.get(database);
    if (until === undefined) return false;
    if (until > now) return true;
    demoted.delete(database);
    return false;
  }

  function demote(database: string, now: number): void {
    demoted.delete(database);
    if (demoted.size >= MAX_DEMOTED) demoted.delete(demoted.keys().next().value as string);
    demoted.set(database, now + DEMOTED_MS);
  }

  return {
    answer(caller, requests) {
      if (caller.isSchema || !isExecuteThenClose(requests)) return undefined;
      let stmt: Extract<StreamRequest, { type: "execute" }>["stmt"];
      let args: ReturnType<typeof argsOf>;
      try {
        const first = readPipelineRequest({ requests }).requests[0] as Extract<
          StreamRequest,
          { type: "execute" }
        >;
        stmt = first.stmt;
        args = argsOf(stmt);
      } catch {
        return undefined;
      }
      if (stmt.sql === undefined) return undefined;
      if (isDemoted(caller.database, Date.now())) return undefined;
      const key = `${caller.database}\0${caller.credential}`;
      const session = sessions.take(key) ?? open(caller);
      if (!session) return undefined;
      const started = performance.now();
      const result = session.readBounded(stmt.sql, args);
      const ms = performance.now() - started;
      sessions.give(key, session);
      if (ms > SLOW_MS) demote(caller.database, Date.now());
      if (!result) return undefined;
      const json = `[{"type":"ok","response":{"type":"execute","result":${JSON.stringify(encodeResult(result, stmt.wantRows, ms))}}},{"type":"ok","response":{"type":"close"}}]`;
      return json.length > opts.maxResponseBytes ? undefined : json;
    },
    close: () => sessions.closeAll(),
  };
}

function isExecuteThenClose(requests: unknown[]): boolean {
  return (
    requests.length === 2 &&
    (requests[0] as { type?: unknown } | null)?.type === "execute" &&
    (requests[1] as { type?: unknown } | null)?.type === "close"
  );
}
