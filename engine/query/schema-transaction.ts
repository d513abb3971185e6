import type Database from "better-sqlite3";
import type { DatabaseRow } from "../catalog.js";
import type { EngineContext } from "../context.js";
import { fromSqliteError, invalidArgument } from "../errors.js";
import type { ProgressListener } from "../jobs/runner.js";
import { migrate, validateMigration } from "../migrations.js";
import { bindLiterals } from "../sql/literals.js";
import type { Statement } from "../sql/statements.js";
import type { QueryResult, SqlArgs } from "./values.js";

/**
 * On a schema database, a transaction is one migration job. `BEGIN` opens a pending migration: a real
 * transaction on the parent's connection, so that reads inside it see what it changed (a migration tool
 * reads back its own history table), while every change is also collected. `COMMIT` rolls that
 * transaction back and runs what was collected as one job over the parent and every child, all or none;
 * `ROLLBACK`, or a session closed with the transaction open, discards it. The parent's file therefore only
 * ever changes through jobs. Outside a transaction each change is a job of its own, as before.
 *
 * Parameterised statements are recorded with their values written in as literals (see sql/literals.ts).
 */

export interface SchemaSession {
  ctx: EngineContext;
  row: DatabaseRow;
  conn: Database.Database;
  /** What was collected since BEGIN, or null outside a transaction. */
  pending: Pending | null;
  /** Whether a statement only reads (so it runs, and is not a change to collect). */
  isRead(s: Statement): boolean;
  /** Runs a statement on the parent's connection with the session's usual rules, returning its result. */
  run(s: Statement, args: SqlArgs | undefined): QueryResult;
  /** Refuses a principal that may not change this database. */
  authorizeWrite(): void;
}

interface Pending {
  statements: string[];
  /** Whether every change so far was DDL: then a schema that did not move means nothing to do. */
  onlyDdl: boolean;
  schemaVersion: bigint;
}

export async function executeOnSchemaDatabase(
  session: SchemaSession,
  statements: Statement[],
  args: SqlArgs | undefined,
  opts: { onProgress?: ProgressListener } | undefined,
): Promise<QueryResult[]> {
  // Outside a transaction, statements that change the schema database run as one job, as they always did.
  if (session.pending === null && !statements.some((s) => s.kind === "transaction")) {
    if (statements.every((s) => session.isRead(s))) return statements.map((s) => session.run(s, args));
    session.authorizeWrite();
    if (statements.every((s) => s.kind === "ddl")) {
      const noop = changesNothing(session, statements, args);
      if (noop) return noop;
    }
    await migrate(session.ctx, session.row.name, migrationText(statements, args), {
      onProgress: opts?.onProgress,
    });
    return statements.map(emptyResult);
  }
  const results: QueryResult[] = [];
  for (const s of statements) results.push(await step(session, s, args, opts));
  return results;
}

async function step(
  session: SchemaSession,
  s: Statement,
  args: SqlArgs | undefined,
  opts: { onProgress?: ProgressListener } | undefined,
): Promise<QueryResult> {
  const { conn } = session;
  if (s.kind === "transaction") {
    switch (s.transaction) {
      case "begin":
        if (session.pending !== null)
          throw invalidArgument("cannot start a transaction within a transaction");
        exec(conn, "BEGIN");
        session.pending = { statements: [], onlyDdl: true, schemaVersion: schemaVersion(conn) };
        return emptyResult();
      case "commit": {
        const collected = session.pending;
        if (collected === null) throw invalidArgument("cannot commit - no transaction is active");
        session.pending = null;
        const unchanged = collected.onlyDdl && schemaVersion(conn) === collected.schemaVersion;
        exec(conn, "ROLLBACK");
        if (collected.statements.length > 0 && !unchanged) {
          await migrate(session.ctx, session.row.name, collected.statements.join(";\n"), {
            onProgress: opts?.onProgress,
          });
        }
        return emptyResult();
      }
      case "rollback":
        // A ROLLBACK after a COMMIT that failed finds nothing open: migration tools send one in their
        // error path, and it must not hide the COMMIT's own error behind "no transaction is active".
        if (session.pending !== null) {
          session.pending = null;
          exec(conn, "ROLLBACK");
        }
        return emptyResult();
      default:
        throw invalidArgument(
          `savepoints are not supported on schema database "${session.row.name}": a transaction there is one migration job, all or none`,
        );
    }
  }
  if (session.pending === null)
    return (await executeOnSchemaDatabase(session, [s], args, opts))[0] as QueryResult;
  if (session.isRead(s)) return session.run(s, args);
  session.authorizeWrite();
  const text = migrationText([s], args);
  validateMigration(text);
  const result = session.run(s, args);
  session.pending.statements.push(text);
  if (s.kind !== "ddl") session.pending.onlyDdl = false;
  return result;
}

/**
 * The results of DDL that leaves the schema as it is (`CREATE TABLE IF NOT EXISTS` of a table that exists,
 * as every migration tool sends for its history table on each run), found by running it on the parent in
 * a transaction rolled back; null when it does change something. Children share the parent's schema, so
 * DDL that changes nothing there changes nothing anywhere, and needs no job.
 */
function changesNothing(
  session: SchemaSession,
  statements: Statement[],
  args: SqlArgs | undefined,
): QueryResult[] | null {
  const { conn } = session;
  exec(conn, "BEGIN");
  try {
    const before = schemaVersion(conn);
    const results = statements.map((s) => session.run(s, args));
    return schemaVersion(conn) === before ? results : null;
  } catch {
    return null; // let the job report the failure, with every database it fails on
  } finally {
    if (conn.inTransaction) exec(conn, "ROLLBACK");
  }
}

function schemaVersion(conn: Database.Database): bigint {
  return BigInt(conn.pragma("schema_version", { simple: true }) as number | bigint);
}

/** The statements as one migration's text, their arguments written in. */
function migrationText(statements: Statement[], args: SqlArgs | undefined): string {
  if (args === undefined) return statements.map((s) => s.sql).join(";\n");
  const [only] = statements;
  if (!only || statements.length > 1)
    throw invalidArgument("arguments can only be bound to a single statement");
  return bindLiterals(only.sql, only.tokens, args);
}

function exec(conn: Database.Database, sql: string): void {
  try {
    conn.exec(sql);
  } catch (e) {
    throw fromSqliteError(e);
  }
}

function emptyResult(): QueryResult {
  return { columns: [], columnTypes: [], rows: [], rowsAffected: 0, lastInsertRowid: null };
}
