import { RequestError } from "./errors.js";
import type { BatchCond, BatchStep, ProtocolVersion } from "./protocol.js";

/**
 * Batch step conditions. A step runs only if its condition holds over the outcomes of earlier steps:
 * `ok`/`error` of a step, `not`/`and`/`or`, and (Hrana 3) whether the connection is in autocommit.
 */

/** What a condition can look at: which earlier steps succeeded or failed, and the transaction state. */
export interface Outcomes {
  /** Per step: "ok", "error", or undefined when it did not run. */
  readonly steps: readonly ("ok" | "error" | undefined)[];
  isAutocommit(): boolean;
}

/**
 * Refuses a batch whose conditions cannot be evaluated, before any step runs: a condition may only name
 * an earlier step, and `is_autocommit` needs Hrana 3.
 */
export function checkConditions(steps: readonly BatchStep[], version: ProtocolVersion): void {
  steps.forEach((step, i) => {
    if (step.condition) check(step.condition, i, version);
  });
}

function check(cond: BatchCond, at: number, version: ProtocolVersion): void {
  switch (cond.type) {
    case "ok":
    case "error":
      if (cond.step >= at) {
        throw new RequestError(
          "BATCH_COND_INVALID",
          `the condition of step ${at} refers to step ${cond.step}; a condition may only refer to earlier steps`,
        );
      }
      return;
    case "not":
      check(cond.cond, at, version);
      return;
    case "and":
    case "or":
      for (const c of cond.conds) check(c, at, version);
      return;
    case "is_autocommit":
      if (version < 3) {
        throw new RequestError(
          "PROTOCOL_VERSION",
          "The `is_autocommit` condition is only supported in protocol version 3 and higher",
        );
      }
      return;
  }
}

export function holds(cond: BatchCond, outcomes: Outcomes): boolean {
  switch (cond.type) {
    case "ok":
    case "error":
      return outcomes.steps[cond.step] === cond.type;
    case "not":
      return !holds(cond.cond, outcomes);
    case "and":
      return cond.conds.every((c) => holds(c, outcomes));
    case "or":
      return cond.conds.some((c) => holds(c, outcomes));
    case "is_autocommit":
      return outcomes.isAutocommit();
  }
}
