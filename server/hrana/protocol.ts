import type { SqlValue } from "../../engine/index.js";
import { badRequest } from "../http-errors.js";
import { decodeValue } from "./values.js";

/**
 * Hrana over HTTP, JSON encoding (libsql `docs/HRANA_3_SPEC.md`, `HTTP_V2_SPEC.md`): the request and
 * response shapes, and a strict reader for requests. A body that does not fit the protocol is refused
 * whole with a 400, as sqld's deserializer does; unknown fields are ignored.
 */

export type ProtocolVersion = 2 | 3;

export interface PipelineRequest {
  baton: string | null;
  requests: StreamRequest[];
}

export type StreamRequest =
  | { type: "close" }
  | { type: "execute"; stmt: Stmt }
  | { type: "batch"; batch: Batch }
  | { type: "sequence"; sql: SqlRef }
  | { type: "describe"; sql: SqlRef }
  | { type: "store_sql"; sqlId: number; sql: string }
  | { type: "close_sql"; sqlId: number }
  | { type: "get_autocommit" };

/** A statement's text, given inline or as the id of SQL stored on the stream. Both or neither is an error. */
export interface SqlRef {
  sql?: string;
  sqlId?: number;
}

export interface Stmt extends SqlRef {
  args: SqlValue[];
  namedArgs: { name: string; value: SqlValue }[];
  wantRows: boolean;
}

export interface Batch {
  steps: BatchStep[];
}

export interface BatchStep {
  condition?: BatchCond;
  stmt: Stmt;
}

export type BatchCond =
  | { type: "ok" | "error"; step: number }
  | { type: "not"; cond: BatchCond }
  | { type: "and" | "or"; conds: BatchCond[] }
  | { type: "is_autocommit" };

export type WireValue =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

export interface StmtResult {
  cols: { name: string; decltype: string | null }[];
  rows: WireValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  rows_read: number;
  rows_written: number;
  query_duration_ms: number;
}

export interface HranaError {
  message: string;
  code: string;
}

export type StreamResponse =
  | { type: "close" }
  | { type: "execute"; result: StmtResult }
  | {
      type: "batch";
      result: { step_results: (StmtResult | null)[]; step_errors: (HranaError | null)[] };
    }
  | { type: "sequence" }
  | {
      type: "describe";
      result: {
        params: { name: string | null }[];
        cols: { name: string; decltype: string | null }[];
        is_explain: boolean;
        is_readonly: boolean;
      };
    }
  | { type: "store_sql" }
  | { type: "close_sql" }
  | { type: "get_autocommit"; is_autocommit: boolean };

export type StreamResult = { type: "ok"; response: StreamResponse } | { type: "error"; error: HranaError };

export interface PipelineResponse {
  baton: string | null;
  base_url: string | null;
  results: StreamResult[];
}

// ── reading requests ──────────────────────────────────────────────────────────────────────────────────

type Obj = Record<string, unknown>;

const invalid = (where: string, what: string) =>
  badRequest(`invalid Hrana request: ${where} ${what}`, "HRANA_PROTO_ERROR");

export function readPipelineRequest(body: unknown): PipelineRequest {
  const o = object(body, "the body");
  const baton = o.baton;
  if (baton !== undefined && baton !== null && typeof baton !== "string") {
    throw invalid("baton", "must be a string or null");
  }
  if (!Array.isArray(o.requests)) throw invalid("requests", "must be a list");
  return {
    baton: baton ?? null,
    requests: o.requests.map((r, i) => readStreamRequest(r, `requests[${i}]`)),
  };
}

/** A statement with its SQL inline, positional arguments at most. */
export type PlainExecute = Stmt & { sql: string };

/**
 * The plain `execute` of a pipeline of just it and `close` (what `@libsql/client`'s `execute()` sends),
 * or undefined for any other pipeline.
 */
export function plainExecuteOf(requests: unknown[]): PlainExecute | undefined {
  if (requests.length !== 2 || !isObject(requests[1]) || requests[1].type !== "close") return undefined;
  return readPlainExecute(requests[0]);
}

/**
 * The statement of a plain `execute` request — SQL inline, positional arguments, no `sql_id` or named
 * arguments — read exactly as readPipelineRequest reads it, without composing the paths its errors would
 * name; undefined for anything else, which readPipelineRequest then reads (or refuses) in full. What the
 * server answers on its own thread is read this way.
 */
export function readPlainExecute(request: unknown): PlainExecute | undefined {
  if (!isObject(request) || request.type !== "execute") return undefined;
  const o = request.stmt;
  if (!isObject(o) || typeof o.sql !== "string" || (o.sql_id !== undefined && o.sql_id !== null)) {
    return undefined;
  }
  const args = o.args ?? [];
  const named = o.named_args ?? [];
  const wantRows = o.want_rows ?? true;
  if (!Array.isArray(args) || !Array.isArray(named) || named.length > 0 || typeof wantRows !== "boolean") {
    return undefined;
  }
  try {
    return { sql: o.sql, args: args.map(decodeValue), namedArgs: [], wantRows };
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Obj =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function readStreamRequest(value: unknown, where: string): StreamRequest {
  const o = object(value, where);
  switch (o.type) {
    case "close":
    case "get_autocommit":
      return { type: o.type };
    case "execute":
      return { type: "execute", stmt: readStmt(o.stmt, `${where}.stmt`) };
    case "batch":
      return { type: "batch", batch: readBatch(o.batch, `${where}.batch`) };
    case "sequence":
    case "describe":
      return { type: o.type, sql: readSqlRef(o, where) };
    case "store_sql":
      return {
        type: "store_sql",
        sqlId: sqlId(o.sql_id, `${where}.sql_id`),
        sql: text(o.sql, `${where}.sql`),
      };
    case "close_sql":
      return { type: "close_sql", sqlId: sqlId(o.sql_id, `${where}.sql_id`) };
    default:
      throw invalid(`${where}.type`, `${JSON.stringify(o.type)} is not a known request type`);
  }
}

function readSqlRef(o: Obj, where: string): SqlRef {
  const ref: SqlRef = {};
  if (o.sql !== undefined && o.sql !== null) ref.sql = text(o.sql, `${where}.sql`);
  if (o.sql_id !== undefined && o.sql_id !== null) ref.sqlId = sqlId(o.sql_id, `${where}.sql_id`);
  return ref;
}

function readStmt(value: unknown, where: string): Stmt {
  const o = object(value, where);
  const args = o.args ?? [];
  if (!Array.isArray(args)) throw invalid(`${where}.args`, "must be a list");
  const named = o.named_args ?? [];
  if (!Array.isArray(named)) throw invalid(`${where}.named_args`, "must be a list");
  const wantRows = o.want_rows ?? true;
  if (typeof wantRows !== "boolean") throw invalid(`${where}.want_rows`, "must be true or false");
  return {
    ...readSqlRef(o, where),
    args: args.map((a, i) => value_(a, `${where}.args[${i}]`)),
    namedArgs: named.map((n, i) => {
      const arg = object(n, `${where}.named_args[${i}]`);
      return {
        name: text(arg.name, `${where}.named_args[${i}].name`),
        value: value_(arg.value, `${where}.named_args[${i}].value`),
      };
    }),
    wantRows,
  };
}

function readBatch(value: unknown, where: string): Batch {
  const o = object(value, where);
  if (!Array.isArray(o.steps)) throw invalid(`${where}.steps`, "must be a list");
  return {
    steps: o.steps.map((s, i) => {
      const step = object(s, `${where}.steps[${i}]`);
      const condition =
        step.condition === undefined || step.condition === null
          ? undefined
          : readCond(step.condition, `${where}.steps[${i}].condition`);
      return { condition, stmt: readStmt(step.stmt, `${where}.steps[${i}].stmt`) };
    }),
  };
}

function readCond(value: unknown, where: string): BatchCond {
  const o = object(value, where);
  switch (o.type) {
    case "ok":
    case "error": {
      const step = o.step;
      if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
        throw invalid(`${where}.step`, "must be a step index");
      }
      return { type: o.type, step };
    }
    case "not":
      return { type: "not", cond: readCond(o.cond, `${where}.cond`) };
    case "and":
    case "or":
      if (!Array.isArray(o.conds)) throw invalid(`${where}.conds`, "must be a list");
      return { type: o.type, conds: o.conds.map((c, i) => readCond(c, `${where}.conds[${i}]`)) };
    case "is_autocommit":
      return { type: "is_autocommit" };
    default:
      throw invalid(`${where}.type`, `${JSON.stringify(o.type)} is not a known condition type`);
  }
}

function value_(value: unknown, where: string): SqlValue {
  try {
    return decodeValue(value);
  } catch (e) {
    throw invalid(where, (e as Error).message);
  }
}

function object(value: unknown, where: string): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(where, "must be an object");
  }
  return value as Obj;
}

function text(value: unknown, where: string): string {
  if (typeof value !== "string") throw invalid(where, "must be a string");
  return value;
}

function sqlId(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw invalid(where, "must be a 32-bit integer");
  }
  return value;
}
