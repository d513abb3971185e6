import { describe, expect, it } from "vitest";
import { keptStreamRetryReason } from "../../server/executor/retry.js";
import type {
  BatchStep,
  HranaError,
  StmtResult,
  StreamRequest,
  StreamResult,
} from "../../server/hrana/protocol.js";
import { pick, rngFor } from "../helpers.js";

// The server runs a request again on a stream the client keeps only when the request wrote nothing. These
// batches are generated with each step's nature known by construction (not by the classifier under test):
// whatever the verdict, a batch in which a write, a COMMIT or a RELEASE succeeded is never run again.

const STEPS: { sql: string; writes: boolean }[] = [
  { sql: "SELECT 1", writes: false },
  { sql: "SELECT count(*) FROM users WHERE id = ?", writes: false },
  { sql: "PRAGMA table_info(users)", writes: false },
  { sql: "BEGIN", writes: false },
  { sql: "BEGIN IMMEDIATE", writes: false },
  { sql: "ROLLBACK", writes: false },
  { sql: "INSERT INTO users (name) VALUES (?)", writes: true },
  { sql: "UPDATE users SET name = 'x'", writes: true },
  { sql: "DELETE FROM users", writes: true },
  { sql: "COMMIT", writes: true },
  { sql: "END", writes: true },
  { sql: "RELEASE s", writes: true },
  { sql: "SAVEPOINT s", writes: true },
  { sql: "SELECT 1; DELETE FROM users", writes: true },
  { sql: "WITH x AS (SELECT 1) INSERT INTO users (name) SELECT 'y' FROM x", writes: true },
  { sql: "PRAGMA user_version = 3", writes: true },
  { sql: "SELECT * FROM t WHERE x MATCH 'optimize'", writes: false },
];

const FENCE: HranaError = {
  code: "BLOCKED",
  message: "Operation was blocked: schema migration in progress: job 7, 3 of 5 databases migrated",
};
const BUSY: HranaError = { code: "SQLITE_BUSY", message: "database is locked" };
const OTHER: HranaError = { code: "SQLITE_CONSTRAINT", message: "UNIQUE constraint failed" };

const ok: StmtResult = {
  cols: [],
  rows: [],
  affected_row_count: 0,
  last_insert_rowid: null,
  rows_read: 0,
  rows_written: 0,
  query_duration_ms: 0,
};

function batch(steps: string[]): StreamRequest {
  return {
    type: "batch",
    batch: {
      steps: steps.map((sql): BatchStep => ({ stmt: { sql, args: [], namedArgs: [], wantRows: true } })),
    },
  };
}

function outcome(results: (StmtResult | null)[], errors: (HranaError | null)[]): StreamResult[] {
  return [
    { type: "ok", response: { type: "batch", result: { step_results: results, step_errors: errors } } },
  ];
}

describe("running a kept stream's request again", () => {
  it("never runs again a batch in which something that writes succeeded (generated)", () => {
    const rng = rngFor(20261130);
    let retried = 0;
    for (let n = 0; n < 5000; n++) {
      const steps = Array.from({ length: 1 + Math.floor(rng() * 5) }, () => pick(rng, STEPS));
      const fates = steps.map(() => pick(rng, ["ok", "ok", "fence", "busy", "other", "skipped"] as const));
      const results = fates.map((f) => (f === "ok" ? ok : null));
      const errors = fates.map((f) =>
        f === "fence" ? FENCE : f === "busy" ? BUSY : f === "other" ? OTHER : null,
      );
      const verdict = keptStreamRetryReason([batch(steps.map((s) => s.sql))], outcome(results, errors));
      const wrote = steps.some((s, i) => s.writes && fates[i] === "ok");
      const firstError = fates.find((f) => f === "fence" || f === "busy" || f === "other");
      if (wrote || firstError === undefined || firstError === "other") {
        expect(verdict, JSON.stringify({ steps, fates })).toBe(false);
      } else {
        expect(verdict).toBe(firstError === "fence" ? "fence" : "lock");
        retried++;
      }
    }
    // The rule is not so strict that it never applies.
    expect(retried).toBeGreaterThan(100);
  });

  it("runs again what @tursodatabase/serverless sends when its write meets the fence: the write, then the probe", () => {
    const probe = "SELECT 1";
    expect(
      keptStreamRetryReason(
        [batch(["INSERT INTO users (name) VALUES (?)", probe])],
        outcome([null, ok], [FENCE, null]),
      ),
    ).toBe("fence");
    // Its batch() with a mode: BEGIN, the writes chained on ok, COMMIT, ROLLBACK, the probe.
    const withMode = [
      batch([
        "BEGIN IMMEDIATE",
        "INSERT INTO users (name) VALUES ('a')",
        "UPDATE users SET name = 'b'",
        "COMMIT",
        "ROLLBACK",
        probe,
      ]),
    ];
    expect(
      keptStreamRetryReason(
        withMode,
        outcome([ok, null, null, null, ok, ok], [null, FENCE, null, null, null, null]),
      ),
    ).toBe("fence");
    // The same batch whose first write went through before the second met a lock: never again.
    expect(
      keptStreamRetryReason(
        withMode,
        outcome([ok, ok, null, null, ok, ok], [null, null, BUSY, null, null, null]),
      ),
    ).toBe(false);
  });
});
