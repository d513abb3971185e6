import { readsOnly, splitStatements } from "../../engine/sql/statements.js";
import type { StreamRequest, StreamResult } from "../hrana/protocol.js";

/**
 * Why the server may run a pipeline again, if it may: its first request met another connection's lock
 * (`lock`) or a migration's fence (`fence`, waited out in ../fence-wait.ts) having changed nothing —
 * one statement, or a batch framed by BEGIN, which rolled back — on a stream it opened and closed itself.
 */
export type RetryReason = "lock" | "fence" | false;

/** A migration's fence, as engine/query/fence.ts words it (Hrana errors carry a code and a message). */
export const FENCE_MESSAGE = /schema migration in progress: job \d+, [\d,]+ of [\d,]+ databases migrated/;

export function retryReason(requests: StreamRequest[], results: StreamResult[]): RetryReason {
  if (metFirst(requests, results, (e) => e.code === "SQLITE_BUSY")) return "lock";
  if (metFirst(requests, results, (e) => e.code === "BLOCKED" && FENCE_MESSAGE.test(e.message)))
    return "fence";
  return false;
}

function metFirst(
  requests: StreamRequest[],
  results: StreamResult[],
  met: (e: { code: string; message: string }) => boolean,
): boolean {
  const [first] = requests;
  const [result] = results;
  if (!first || !result) return false;
  if (first.type === "execute") {
    return result.type === "error" && met(result.error) && !/;\s*\S/.test(first.stmt.sql?.trim() ?? ";x");
  }
  if (first.type === "batch" && result.type === "ok" && result.response.type === "batch") {
    const opensTransaction = /^\s*BEGIN\b/i.test(first.batch.steps[0]?.stmt.sql ?? "");
    return opensTransaction && result.response.result.step_errors.some((e) => e !== null && met(e));
  }
  return false;
}

/**
 * The same question for a request on a stream the client keeps (its baton), in autocommit before and
 * after the request: the server may run it again only if it wrote nothing. One single-statement execute
 * that met the lock or the fence; or one batch whose first failing step met them, in which every step
 * that succeeded is a read, BEGIN or ROLLBACK (a write either failed, and so changed nothing, or did not
 * run). That is what `@tursodatabase/serverless` sends: each of its requests is a batch on a kept stream
 * over /v3/cursor, ending with a read that asks whether the stream is in autocommit.
 */
export function keptStreamRetryReason(requests: StreamRequest[], results: StreamResult[]): RetryReason {
  const [first] = requests;
  const [result] = results;
  if (requests.length !== 1 || !first || !result) return false;
  if (first.type === "execute") return retryReason(requests, results);
  if (first.type !== "batch" || result.type !== "ok" || result.response.type !== "batch") return false;
  const { step_results, step_errors } = result.response.result;
  for (const [i, r] of step_results.entries()) {
    if (r !== null && !writesNothing(first.batch.steps[i]?.stmt.sql)) return false;
  }
  const cause = step_errors.find((e) => e !== null && e !== undefined);
  if (!cause) return false;
  if (cause.code === "SQLITE_BUSY") return "lock";
  if (cause.code === "BLOCKED" && FENCE_MESSAGE.test(cause.message)) return "fence";
  return false;
}

function writesNothing(sql: string | undefined): boolean {
  const statements = splitStatements(sql ?? "");
  const [s] = statements;
  if (statements.length !== 1 || !s) return false;
  if (s.kind === "transaction") return s.transaction === "begin" || s.transaction === "rollback";
  return readsOnly(s);
}
