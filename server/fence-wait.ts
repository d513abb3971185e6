import { setTimeout as sleep } from "node:timers/promises";
import type { PipelineOutcome } from "./executor/pool.js";
import type { StreamRequest, StreamResult } from "./hrana/protocol.js";
import type { ClientGone } from "./http.js";

/**
 * Writes that meet a migration's fence (engine/query/fence.ts) wait for it here, in the server, never in
 * an executor: an executor serves many tenants, so its engine fails a fenced write at once (fenceWaitMs 0),
 * and the server runs the pipeline again after an async sleep until the fence lifts or the server's
 * fenceWaitMs passes. Only pipelines that changed nothing are run again: the executor says so
 * (`retryable`), as for a busy lock.
 */

const FENCE = /schema migration in progress: job \d+, [\d,]+ of [\d,]+ databases migrated/;

/**
 * Whether the pipeline's first request met a fence having changed nothing: one statement refused by the
 * fence, or a batch framed by BEGIN (which rolled back) where a step was.
 */
export function metFenceFirst(requests: StreamRequest[], results: StreamResult[]): boolean {
  const [first] = requests;
  const [result] = results;
  if (!first || !result) return false;
  if (first.type === "execute") {
    return result.type === "error" && isFence(result.error) && !/;\s*\S/.test(first.stmt.sql?.trim() ?? ";x");
  }
  if (first.type === "batch" && result.type === "ok" && result.response.type === "batch") {
    const opensTransaction = /^\s*BEGIN\b/i.test(first.batch.steps[0]?.stmt.sql ?? "");
    return opensTransaction && result.response.result.step_errors.some((e) => e !== null && isFence(e));
  }
  return false;
}

function isFence(e: { code: string; message: string }): boolean {
  return e.code === "BLOCKED" && FENCE.test(e.message);
}

/**
 * For a pipeline the executor answered fenced: "again" after a short sleep while the bound allows, or the
 * outcome to answer with once it has passed (its message saying how long the write waited). Null for any
 * other outcome.
 */
export async function retryAfterFence(
  outcome: PipelineOutcome,
  startedAt: number,
  fenceWaitMs: number,
  signal: ClientGone,
): Promise<"again" | PipelineOutcome | null> {
  if (outcome.kind !== "done" || !outcome.retryable || !FENCE.test(outcome.results)) return null;
  const waited = Date.now() - startedAt;
  // Fences of additive jobs last a batch (milliseconds): poll often at first, then every 20 ms.
  const delay = Math.min(20, 2 + waited / 50);
  if (waited + delay > fenceWaitMs || signal.aborted) {
    if (waited < 100) return outcome;
    const seconds = (waited / 1000).toFixed(1);
    return {
      ...outcome,
      results: outcome.results.replace(new RegExp(FENCE, "g"), `$&; waited ${seconds} s`),
    };
  }
  await sleep(delay);
  return "again";
}
