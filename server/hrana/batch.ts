import { checkConditions, holds, type Outcomes } from "./conditions.js";
import { toHranaError } from "./errors.js";
import { executeStmt } from "./execute.js";
import type { Batch, BatchStep, HranaError, ProtocolVersion, StmtResult } from "./protocol.js";
import type { SessionStream as Stream } from "./session-stream.js";

/**
 * Hrana batches: steps run in order, each only if its condition holds over the earlier steps' outcomes.
 * A step's failure is recorded in its slot and the batch goes on; the conditions decide what follows.
 */

export interface BatchResult {
  step_results: (StmtResult | null)[];
  step_errors: (HranaError | null)[];
}

export async function runBatch(
  stream: Stream,
  batch: Batch,
  version: ProtocolVersion,
  /** Sees every step failure, so the caller can log the unexpected ones. */
  report: (e: unknown) => void,
): Promise<BatchResult> {
  const steps = batch.steps;
  checkConditions(steps, version);
  const result: BatchResult = { step_results: steps.map(() => null), step_errors: steps.map(() => null) };
  const outcome: ("ok" | "error" | undefined)[] = steps.map(() => undefined);
  // On a schema database BEGIN…COMMIT is a migration job, but the session keeps it open as a transaction,
  // so the conditions read the same way everywhere.
  const outcomes: Outcomes = { steps: outcome, isAutocommit: () => !stream.session.inTransaction };
  const record = (i: number, r: StmtResult | null, e: unknown) => {
    if (e === undefined) {
      result.step_results[i] = r;
      outcome[i] = "ok";
    } else {
      result.step_errors[i] = toHranaError(e);
      outcome[i] = "error";
      report(e);
    }
  };

  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as BatchStep;
    if (step.condition && !holds(step.condition, outcomes)) continue;
    try {
      record(i, await executeStmt(stream, step.stmt), undefined);
    } catch (e) {
      record(i, null, e);
    }
  }
  return result;
}
