import fs from "node:fs";
import { performance } from "node:perf_hooks";
import type { Engine, QueryResult, Session } from "../engine/index.js";
import { argsOf } from "./hrana/execute.js";
import type { PlainExecute } from "./hrana/protocol.js";
import { colsJson, encodeResultJson } from "./hrana/values.js";
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
  /**
   * The results, as JSON, of a pipeline of `stmt` and `close` on a new stream (see plainExecuteOf), or
   * undefined when an executor must run it.
   */
  answer(caller: Caller, stmt: PlainExecute): string | undefined;
  close(): void;
}

/**
 * A read that took this long on the server's thread sends its database's reads to executors... (A
 * bounded read of a small row takes microseconds; a busy machine can stall anything for a few ms.)
 */
const SLOW_MS = 50;
/** ...for this long. */
const DEMOTED_MS = 60_000;
/** Most databases' demotions (and suspicions) kept: past it, the oldest are forgotten. */
const MAX_DEMOTED = 10_000;

export interface InlineReadOptions {
  maxResponseBytes: number;
  sessions: number;
  /** A read slower than this (default SLOW_MS) is suspect; see answer(). */
  slowMs?: number;
  /** The wall clock reads are timed by (tests stand in a stalled one). */
  now?: () => number;
}

export function createInlineReads(engine: Engine, opts: InlineReadOptions): InlineReads {
  const slowMs = opts.slowMs ?? SLOW_MS;
  const now = opts.now ?? (() => performance.now());
  // By database and token. Reads here are synchronous, so a session is never in use twice at once: it
  // stays in the map while used (oldest opened, first closed).
  const sessions = new Map<string, Session>();
  const demoted = new Map<string, number>();
  // Reads (by database and SQL) whose last run here was slow by the wall clock. A wall clock counts the
  // time a loaded machine ran something else, and one preempted read must not cost a healthy database a
  // minute of slower reads: the read's next run is timed by this thread's own CPU, and only a read slow
  // there too demotes its database.
  const suspects = new Set<string>();

  function open(caller: Caller): Session | undefined {
    try {
      return engine.openSession(caller.database, caller.principal, {
        // A lock held elsewhere means an executor's turn, never a wait on this thread.
        busyTimeoutMs: 0,
        maxResultBytes: opts.maxResponseBytes,
        catalogChecks: "turn",
        readTransactions: "held",
      });
    } catch {
      return undefined;
    }
  }

  // A caller's key, kept for it: the token cache hands out the same caller for a token until it drops it.
  const keys = new WeakMap<Caller, string>();
  function sessionKey(caller: Caller): string {
    let key = keys.get(caller);
    if (key === undefined) {
      key = `${caller.database}\0${caller.credential}`;
      keys.set(caller, key);
    }
    return key;
  }

  // A session hands the same columns array to every run of a read it keeps prepared (a new one when the
  // schema changes): the columns' JSON is made once per array.
  const cols = new WeakMap<readonly string[], string>();
  function colsOf(result: QueryResult): string {
    let json = cols.get(result.columns);
    if (json === undefined) {
      json = colsJson(result);
      cols.set(result.columns, json);
    }
    return json;
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
    answer(caller, stmt) {
      if (caller.isSchema) return undefined;
      const args = argsOf(stmt);
      if (demoted.size > 0 && isDemoted(caller.database, Date.now())) return undefined;
      const key = sessionKey(caller);
      let session = sessions.get(key);
      if (!session) {
        session = open(caller);
        if (!session) return undefined;
        if (sessions.size >= opts.sessions) {
          const [oldest, old] = sessions.entries().next().value as [string, Session];
          sessions.delete(oldest);
          old.close();
        }
        sessions.set(key, session);
      }
      const read = () => `${caller.database}\0${stmt.sql}`;
      const onProbation = suspects.size > 0 && suspects.delete(read());
      const cpuBefore = onProbation ? threadCpuMs() : 0;
      const started = now();
      const result = session.readBounded(stmt.sql, args);
      const ms = now() - started;
      const json =
        result &&
        `[{"type":"ok","response":{"type":"execute","result":${encodeResultJson(result, stmt.wantRows, ms, colsOf(result))}}},{"type":"ok","response":{"type":"close"}}]`;
      // What the read cost this thread, its encoding included (a large value's is most of it).
      if (onProbation) {
        if (threadCpuMs() - cpuBefore > slowMs) demote(caller.database, Date.now());
      } else if (now() - started > slowMs) {
        if (suspects.size >= MAX_DEMOTED) suspects.delete(suspects.keys().next().value as string);
        suspects.add(read());
      }
      if (!json) return undefined;
      return json.length > opts.maxResponseBytes ? undefined : json;
    },
    close() {
      for (const session of sessions.values()) session.close();
      sessions.clear();
    },
  };
}

/**
 * Milliseconds this thread has run on a CPU: Linux counts it per thread (schedstat's first field, in
 * nanoseconds); elsewhere the process's CPU time stands in (job worker threads busy beside us inflate it).
 */
function threadCpuMs(): number {
  try {
    return Number(fs.readFileSync("/proc/thread-self/schedstat", "latin1").split(" ")[0]) / 1e6;
  } catch {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  }
}
