import { performance } from "node:perf_hooks";
import type { SqlArgs } from "../../engine/index.js";
import { RequestError } from "./errors.js";
import type { SqlRef, Stmt, StmtResult } from "./protocol.js";
import type { SessionStream as Stream } from "./session-stream.js";
import { encodeResult } from "./values.js";

/** Running one Hrana statement on a stream: its SQL (inline or stored), its arguments, its result. */

/** sqld's limits on `store_sql`, which `@libsql/client`'s SQL cache is written to respect. */
export const MAX_STORED_SQLS = 50;
export const MAX_STORED_SQL_LENGTH = 5000;

/**
 * Runs a statement and returns its result. Unlike sqld, SQL holding several statements is accepted: they
 * run in order, as in `tenantdb db shell`, and the last one's result is returned. That is how
 * `ATTACH "catalog" AS catalog; SELECT …` runs in one `client.execute()` — SQLite refuses ATTACH inside the
 * transactions that `@libsql/client`'s `batch()` and `transaction()` always open.
 */
export async function executeStmt(stream: Stream, stmt: Stmt): Promise<StmtResult> {
  const sql = resolveSql(stream, stmt);
  const args = argsOf(stmt);
  const started = performance.now();
  const results = await stream.run((session) => session.execute(sql, args));
  const last = results.at(-1);
  if (!last) throw new RequestError("SQL_NO_STATEMENT", "SQL string does not contain any statement");
  return encodeResult(last, stmt.wantRows, performance.now() - started);
}

/** The SQL text a request refers to: given inline, or stored earlier on this stream. */
export function resolveSql(stream: Stream, ref: SqlRef): string {
  if ((ref.sql === undefined) === (ref.sqlId === undefined)) {
    throw new RequestError("SQL_INVALID", "Either `sql` or `sql_id` are required, but not both");
  }
  if (ref.sql !== undefined) return ref.sql;
  const stored = stream.sqls.get(ref.sqlId as number);
  if (stored === undefined) {
    throw new RequestError("SQL_NOT_FOUND", `SQL text with id ${ref.sqlId} was not stored on this stream`);
  }
  return stored;
}

export function storeSql(stream: Stream, sqlId: number, sql: string): void {
  if (stream.sqls.has(sqlId)) {
    throw new RequestError(
      "SQL_STORE_DUPLICATE",
      `SQL text with id ${sqlId} is already stored; close it first`,
    );
  }
  if (stream.sqls.size >= MAX_STORED_SQLS) {
    throw new RequestError(
      "SQL_STORE_TOO_MANY",
      `a stream can store at most ${MAX_STORED_SQLS} SQL texts; close some with close_sql`,
    );
  }
  if (sql.length > MAX_STORED_SQL_LENGTH) {
    throw new RequestError(
      "SQL_STORE_TOO_LARGE",
      `stored SQL text is limited to ${MAX_STORED_SQL_LENGTH} characters; send longer SQL inline`,
    );
  }
  stream.sqls.set(sqlId, sql);
}

/** Hrana's positional or named arguments as the engine takes them; none at all is `undefined`. */
export function argsOf(stmt: Stmt): SqlArgs | undefined {
  if (stmt.args.length > 0 && stmt.namedArgs.length > 0) {
    throw new RequestError(
      "ARGS_BOTH_POSITIONAL_AND_NAMED",
      "a statement takes positional or named arguments, not both",
    );
  }
  if (stmt.args.length > 0) return stmt.args;
  if (stmt.namedArgs.length > 0) return Object.fromEntries(stmt.namedArgs.map((a) => [a.name, a.value]));
  return undefined;
}
