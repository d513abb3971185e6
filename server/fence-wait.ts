import { setTimeout as sleep } from "node:timers/promises";
import type { PipelineOutcome } from "./executor/pool.js";
import { FENCE_MESSAGE } from "./executor/retry.js";
import type { ClientGone } from "./http.js";

/**
 * Writes that meet a migration's fence (engine/query/fence.ts) wait for it here, in the server, never in
 * an executor: an executor serves many tenants, so its engine fails a fenced write at once (fenceWaitMs 0),
 * and the server runs the pipeline again after an async sleep until the fence lifts or the server's
 * fenceWaitMs passes. Only pipelines that changed nothing are run again: the executor says so
 * (`retryable: "fence"`, executor/retry.ts), as for a busy lock.
 */

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
  if (outcome.kind !== "done" || outcome.retryable !== "fence") return null;
  const waited = Date.now() - startedAt;
  // Fences of additive jobs last a batch (milliseconds): poll often at first, then every 20 ms.
  const delay = Math.min(20, 2 + waited / 50);
  if (waited + delay > fenceWaitMs || signal.aborted) {
    if (waited < 100) return outcome;
    const seconds = (waited / 1000).toFixed(1);
    return {
      ...outcome,
      results: outcome.results.replace(new RegExp(FENCE_MESSAGE, "g"), `$&; waited ${seconds} s`),
    };
  }
  await sleep(delay);
  return "again";
}
