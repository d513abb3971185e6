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
