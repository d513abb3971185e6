import { performance } from "node:perf_hooks";
import { type Statement, splitStatements } from "../../engine/sql/statements.js";
import { checkConditions, holds, type Outcomes } from "./conditions.js";
import { toHranaError } from "./errors.js";
import { executeStmt, resolveSql } from "./execute.js";
import type { Batch, BatchStep, HranaError, ProtocolVersion, StmtResult } from "./protocol.js";
import type { SessionStream as Stream } from "./session-stream.js";
import { encodeResult } from "./values.js";

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
  const plan = stream.isSchema ? migrationPlan(stream, steps) : null;
  // On a schema database there is no real transaction: BEGIN…COMMIT frames a migration instead.
  let framed = false;
  const outcomes: Outcomes = {
    steps: outcome,
    isAutocommit: () => (plan ? !framed : !stream.session.inTransaction),
  };
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
    if (plan && (i === plan.begin || i === plan.commit || i === plan.rollback)) {
      framed = i === plan.begin;
      record(i, emptyResult(), undefined);
      continue;
    }
    if (plan?.joined && i === plan.begin + 1) {
      // The whole body at once: one session call, so one migration job, all or none on every database.
      const body = steps.slice(i, plan.commit);
      try {
        const started = performance.now();
        const results = await stream.run((session) => session.execute(plan.joined as string));
        const ms = performance.now() - started;
        body.forEach((s, k) => {
          const r = results[k];
          record(i + k, r ? encodeResult(r, s.stmt.wantRows, ms) : emptyResult(), undefined);
        });
      } catch (e) {
        record(i, null, e);
      }
      i = plan.commit - 1;
      continue;
    }
    try {
      record(i, await executeStmt(stream, step.stmt), undefined);
    } catch (e) {
      record(i, null, e);
    }
  }
  return result;
}

/**
 * Where a batch on a schema database is a migration in a transaction frame — `[BEGIN, statements…,
 * COMMIT, ROLLBACK?]` with anything outside the frame, the shape `@libsql/client`'s `batch()` and
 * `migrate()` send — the frame's steps and, when no statement takes arguments, the body as one SQL text.
 * Any other shape is run step by step, and its BEGIN is refused by the engine as on the CLI.
 */
interface MigrationPlan {
  begin: number;
  commit: number;
  rollback: number | null;
  joined: string | null;
}

function migrationPlan(stream: Stream, steps: readonly BatchStep[]): MigrationPlan | null {
  const statements: Statement[] = [];
  for (const step of steps) {
    let parsed: Statement[];
    try {
      parsed = splitStatements(resolveSql(stream, step.stmt));
    } catch {
      return null; // an unknown sql_id: run step by step, and let that step report it
    }
    const [only, ...more] = parsed;
    if (!only || more.length > 0) return null;
    statements.push(only);
  }
  const frame = statements.flatMap((s, i) =>
    s.kind === "transaction" ? [{ i, action: s.transaction }] : [],
  );
  const [begin, commit, rollback, ...more] = frame;
  if (more.length > 0 || begin?.action !== "begin" || commit?.action !== "commit") return null;
  if (rollback && (rollback.action !== "rollback" || rollback.i !== commit.i + 1)) return null;
  const body = steps.slice(begin.i + 1, commit.i);
  const bare =
    body.length > 0 && body.every((s) => s.stmt.args.length === 0 && s.stmt.namedArgs.length === 0);
  return {
    begin: begin.i,
    commit: commit.i,
    rollback: rollback?.i ?? null,
    joined: bare
      ? statements
          .slice(begin.i + 1, commit.i)
          .map((s) => s.sql)
          .join(";\n")
      : null,
  };
}

function emptyResult(): StmtResult {
  return {
    cols: [],
    rows: [],
    affected_row_count: 0,
    last_insert_rowid: null,
    rows_read: 0,
    rows_written: 0,
    query_duration_ms: 0,
  };
}
