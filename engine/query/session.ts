import path from "node:path";
import Database from "better-sqlite3";
import { type DatabaseRow, getDatabaseRow } from "../catalog.js";
import type { EngineContext } from "../context.js";
import { requireDatabaseRow } from "../databases.js";
import {
  blocked,
  failedPrecondition,
  fromSqliteError,
  invalidArgument,
  notFound,
  permissionDenied,
  type TenantDbError,
} from "../errors.js";
import { blockedOnChild, childRefusal, refusal } from "../guard.js";
import type { ProgressListener } from "../jobs/runner.js";
import { UNFINISHED_SQL } from "../jobs/states.js";
import { usePersistentJournal } from "../journal.js";
import { migrate } from "../migrations.js";
import { readsOnly, type Statement, splitStatements } from "../sql/statements.js";
import { canAttach, canRead, canWrite } from "../tokens/permissions.js";
import type { Principal } from "./principal.js";
import { type QueryResult, type SqlArgs, toBindable } from "./values.js";

/** SQLite's own ceiling (SQLITE_MAX_ATTACHED), and Turso's documented one. */
export const MAX_ATTACHED = 10;

export interface Session {
  readonly database: string;
  readonly inTransaction: boolean;
  /** What a single statement takes and returns, without running it (Hrana's `describe`). */
  describe(sql: string): StatementDescription;
  /** Runs one or more statements; `args` bind to a single statement. One result per statement. */
  execute(sql: string, args?: SqlArgs, opts?: ExecuteOptions): Promise<QueryResult[]>;
  close(): void;
}

export interface StatementDescription {
  params: (string | null)[];
  columns: { name: string; type: string | null }[];
  isReadonly: boolean;
  isExplain: boolean;
}

export interface ExecuteOptions {
  /** Progress of a migration when the statements reach a schema database. */
  onProgress?: ProgressListener;
}

/**
 * A connection to one database with the engine's rules around it: token rights, the guard, fences,
 * block_reads/block_writes, ATTACH by name only, and statements on a schema database turned into jobs.
 */
export interface SessionOptions {
  /**
   * How long a statement waits for another connection's lock before failing with CONFLICT. SQLite waits
   * synchronously, blocking the thread: a server wants this short and retries on its own terms; the CLI can
   * afford the default 10 s.
   */
  busyTimeoutMs?: number;
  /**
   * A statement whose rows would take more than about this many bytes fails with RESPONSE_TOO_LARGE as
   * soon as it gets there, rather than after materializing them all: what a server needs so that no
   * query can exhaust its memory. Unlimited when unset.
   */
  maxResultBytes?: number;
}

export function openSession(
  ctx: EngineContext,
  name: string,
  principal: Principal,
  opts: SessionOptions = {},
): Session {
  const row = requireDatabaseRow(ctx, name);
  authorize(principal, row, "read");
  const conn = new Database(path.join(ctx.layout.root, row.path), {
    fileMustExist: true,
    timeout: opts.busyTimeoutMs ?? 10_000,
  });
  conn.defaultSafeIntegers(true);
  // Set at the session's first write of its own (see write): reads never need it, and setting it at open
  // would cost every session a lock cycle.
  let persistentJournal = false;
  const attached = new Map<string, string>(); // alias (folded) -> database name
  let closed = false;
  const collect = (stmt: Database.Statement, args: SqlArgs | undefined) =>
    collectRows(stmt, args, opts.maxResultBytes);

  const session: Session = {
    database: name,
    get inTransaction() {
      return conn.inTransaction;
    },
    describe(sql) {
      const [s, ...rest] = splitStatements(sql);
      if (!s || rest.length > 0) throw invalidArgument("describe takes exactly one statement");
      const refused = refusal(s);
      if (refused) throw refused;
      try {
        const stmt = conn.prepare(s.sql);
        const columns = stmt.reader ? stmt.columns().map((c) => ({ name: c.name, type: c.type })) : [];
        const params = s.tokens
          .filter((t) => t.kind === "variable")
          .map((t) => (t.text.length > 1 && !/^\?\d+$/.test(t.text) ? t.text : null));
        return {
          params,
          columns,
          isReadonly: stmt.readonly,
          isExplain: s.tokens[0]?.text.toUpperCase() === "EXPLAIN",
        };
      } catch (e) {
        throw fromSqliteError(e);
      }
    },
    async execute(sql, args, opts) {
      if (closed) throw failedPrecondition("the session is closed");
      if (typeof sql !== "string") throw invalidArgument("SQL must be a string");
      const statements = splitStatements(sql);
      if (args !== undefined && statements.length !== 1) {
        throw invalidArgument("arguments can only be bound to a single statement");
      }
      const current = currentRow(ctx, row);
      // Every refusal is decided before anything runs: a batch with one refused statement runs none.
      for (const s of statements) {
        const refused =
          refusal(s) ?? (current.type === "child" ? childRefusal(s, name, current.parent_name ?? "") : null);
        if (refused) throw refused;
        if (s.kind === "attach" && principal.kind === "token") checkAttachTarget(ctx, principal, current, s);
      }
      if (current.block_reads) throw blocked(`reads are blocked on "${name}" (block_reads is set)`);

      if (current.type === "schema" && statements.some((s) => s.kind === "transaction")) {
        throw failedPrecondition(
          `interactive transactions are not allowed on schema database "${name}": each change runs as a migration job`,
        );
      }
      if (current.type === "schema" && statements.some((s) => !isRead(s))) {
        return runAsMigration(ctx, principal, current, conn, statements, sql, args, opts);
      }
      const results: QueryResult[] = [];
      for (const s of statements) results.push(runStatement(s, args));
      return results;
    },
    close() {
      if (closed) return;
      closed = true;
      if (conn.inTransaction) conn.exec("ROLLBACK");
      conn.close();
    },
  };

  function runStatement(s: Statement, args: SqlArgs | undefined): QueryResult {
    if (s.kind === "attach") return attach(s);
    if (s.kind === "detach") {
      const result = exec(s, args);
      attached.delete(s.detach.toLowerCase());
      return result;
    }
    let stmt: Database.Statement;
    try {
      stmt = conn.prepare(s.sql);
    } catch (e) {
      throw fromSqliteError(e);
    }
    // sqlite3_stmt_readonly is the authority on reads; the tokenizer decided only what to refuse.
    if (stmt.readonly) return collect(stmt, args);
    return write(s, stmt, args);
  }

  /**
   * Writes run inside a transaction of ours (or a savepoint inside the caller's), so that after the
   * statement we can still refuse it: a fence that appeared meanwhile, a child whose schema moved, or a
   * write that reached an attached (read-only) database.
   */
  function write(s: Statement, stmt: Database.Statement, args: SqlArgs | undefined): QueryResult {
    authorize(principal, row, "write");
    if (s.kind === "transaction") return collect(stmt, args);
    if (attached.size > 0 && writesAttached(s)) {
      throw permissionDenied("attached databases are read-only; write to the session's own database only");
    }
    const nested = conn.inTransaction;
    try {
      conn.exec(nested ? "SAVEPOINT tenantdb_guard" : "BEGIN IMMEDIATE");
    } catch (e) {
      throw fromSqliteError(e); // busy: another connection is writing
    }
    const undo = () => conn.exec(nested ? "ROLLBACK TO tenantdb_guard; RELEASE tenantdb_guard" : "ROLLBACK");
    try {
      // Inside our own BEGIN IMMEDIATE nothing is written yet, so the journal mode may still change and
      // needs no lock of its own. A write inside the caller's transaction commits in the default mode.
      if (!nested && !persistentJournal) {
        usePersistentJournal(conn);
        persistentJournal = true;
      }
      const fence = writeFence(ctx, row);
      if (fence) throw fence;
      const before = row.type === "child" ? schemaVersion() : 0;
      const result = collect(stmt, args);
      if (row.type === "child" && schemaVersion() !== before)
        throw blockedOnChild(name, row.parent_name ?? "");
      conn.exec(nested ? "RELEASE tenantdb_guard" : "COMMIT");
      return result;
    } catch (e) {
      if (conn.inTransaction) undo();
      throw fromSqliteError(e);
    }
  }

  /** A read, for routing on a schema database: pragmas like table_info(t) read despite their argument. */
  function isRead(s: Statement): boolean {
    if (readsOnly(s)) return true;
    if (s.kind !== "pragma") return false;
    try {
      return conn.prepare(s.sql).readonly;
    } catch {
      return false;
    }
  }

  function schemaVersion(): bigint {
    return conn.pragma("schema_version", { simple: true }) as bigint;
  }

  /** Whether the statement would open a write transaction on an attached schema (index 2 and up). */
  function writesAttached(s: Statement): boolean {
    const program = conn.prepare(`EXPLAIN ${s.sql}`).raw(true).all() as unknown[][];
    return program.some(
      (op) =>
        (op[1] === "Transaction" && Number(op[2]) >= 2 && Number(op[3]) > 0) ||
        (op[1] === "OpenWrite" && Number(op[4]) >= 2),
    );
  }

  function attach(s: Extract<Statement, { kind: "attach" }>): QueryResult {
    const target = s.attach.target;
    if (target.type !== "identifier") throw refusal(s) as TenantDbError;
    const alias = s.attach.alias;
    if (!alias) throw invalidArgument(`ATTACH needs an alias: ATTACH "${target.name}" AS ${target.name}`);
    if (attached.size >= MAX_ATTACHED) {
      throw failedPrecondition(
        `too many attached databases: at most ${MAX_ATTACHED} per connection; DETACH one first`,
      );
    }
    const current = currentRow(ctx, row);
    const targetRow = checkAttachTarget(ctx, principal, current, s);
    try {
      conn.prepare("ATTACH DATABASE ? AS ?").run(path.join(ctx.layout.root, targetRow.path), alias);
    } catch (e) {
      throw fromSqliteError(e);
    }
    attached.set(alias.toLowerCase(), targetRow.name);
    return emptyResult();
  }

  function exec(s: Statement, args: SqlArgs | undefined): QueryResult {
    try {
      return collect(conn.prepare(s.sql), args);
    } catch (e) {
      throw fromSqliteError(e);
    }
  }

  return session;
}

function runAsMigration(
  ctx: EngineContext,
  principal: Principal,
  row: DatabaseRow,
  conn: Database.Database,
  statements: Statement[],
  sql: string,
  args: SqlArgs | undefined,
  opts: ExecuteOptions | undefined,
): Promise<QueryResult[]> {
  authorize(principal, row, "write");
  if (args !== undefined)
    throw invalidArgument("statements that change a schema database cannot take arguments");
  if (conn.inTransaction)
    throw failedPrecondition(`interactive transactions are not allowed on schema database "${row.name}"`);
  return migrate(ctx, row.name, sql, { onProgress: opts?.onProgress }).then(() =>
    statements.map(emptyResult),
  );
}

/** The database's row as it is now: config and fences may change while a session is open. */
function currentRow(ctx: EngineContext, opened: DatabaseRow): DatabaseRow {
  const row = getDatabaseRow(ctx.catalog, opened.name);
  if (!row || row.id !== opened.id) throw notFound(`database "${opened.name}" no longer exists`);
  return row;
}

/**
 * Why writes to this database must wait, if they must: block_writes, or a migration job of its schema
 * database (or of itself, for a parent) that has not finished.
 */
export function writeFence(ctx: EngineContext, row: DatabaseRow): TenantDbError | null {
  const state = ctx.catalog
    .prepare(
      `SELECT d.block_writes AS blockWrites,
              (SELECT id FROM jobs WHERE database_id = coalesce(d.parent_id, d.id) AND state IN ${UNFINISHED_SQL}) AS job
       FROM databases d WHERE d.id = ?`,
    )
    .get(row.id) as { blockWrites: number; job: number | null } | undefined;
  if (!state) return notFound(`database "${row.name}" no longer exists`);
  if (state.job !== null) return blocked(`schema migration in progress (job ${state.job})`);
  if (state.blockWrites) return blocked(`writes are blocked on "${row.name}" (block_writes is set)`);
  return null;
}

function authorize(principal: Principal, row: DatabaseRow, right: "read" | "write"): void {
  if (principal.kind === "owner") return;
  const target = { database: row.name, group: row.group_name };
  const ok =
    right === "read" ? canRead(principal.permissions, target) : canWrite(principal.permissions, target);
  if (!ok) {
    throw permissionDenied(
      right === "read"
        ? `this token does not grant access to database "${row.name}"`
        : `this token is read-only for database "${row.name}"`,
    );
  }
}

function checkAttachTarget(
  ctx: EngineContext,
  principal: Principal,
  current: DatabaseRow,
  s: Extract<Statement, { kind: "attach" }>,
): DatabaseRow {
  const target = s.attach.target;
  if (target.type !== "identifier") throw refusal(s) as TenantDbError;
  const targetRow = getDatabaseRow(ctx.catalog, target.name);
  if (!targetRow) throw notFound(`cannot attach "${target.name}": no such database`);
  if (targetRow.group_id !== current.group_id) {
    throw permissionDenied(
      `cannot attach "${target.name}": it is in group "${targetRow.group_name}", not "${current.group_name}"`,
    );
  }
  if (!targetRow.allow_attach) {
    throw permissionDenied(
      `database "${target.name}" doesn't allow attach; enable it with \`tenantdb db config attach allow ${target.name}\``,
    );
  }
  if (
    principal.kind === "token" &&
    !canAttach(principal.permissions, { database: targetRow.name, group: targetRow.group_name })
  ) {
    throw permissionDenied(
      `this token does not allow attaching "${target.name}"; create one with --attach ${target.name}`,
    );
  }
  return targetRow;
}

function collectRows(
  stmt: Database.Statement,
  args: SqlArgs | undefined,
  maxBytes: number | undefined,
): QueryResult {
  const bound = toBindable(args);
  try {
    if (stmt.reader) {
      const columns = stmt.columns();
      const rows =
        maxBytes === undefined
          ? ((bound === undefined ? stmt.raw(true).all() : stmt.raw(true).all(bound)) as QueryResult["rows"])
          : boundedRows(stmt, bound, maxBytes);
      return {
        columns: columns.map((c) => c.name),
        columnTypes: columns.map((c) => c.type),
        rows,
        rowsAffected: 0,
        lastInsertRowid: null,
      };
    }
    const info = bound === undefined ? stmt.run() : stmt.run(bound);
    return {
      columns: [],
      columnTypes: [],
      rows: [],
      rowsAffected: Number(info.changes),
      lastInsertRowid: info.changes > 0 ? BigInt(info.lastInsertRowid) : null,
    };
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith("SQLITE_READONLY")) {
      throw permissionDenied(`attempt to write a read-only database: ${(e as Error).message}`);
    }
    throw fromSqliteError(e);
  }
}

/** Rows one at a time, counting their size as they come, so an oversized result stops early. */
function boundedRows(stmt: Database.Statement, bound: unknown, maxBytes: number): QueryResult["rows"] {
  const rows: QueryResult["rows"] = [];
  let bytes = 0;
  const iter = (bound === undefined ? stmt.raw(true).iterate() : stmt.raw(true).iterate(bound)) as Iterable<
    QueryResult["rows"][number]
  >;
  for (const row of iter) {
    for (const v of row) bytes += valueBytes(v);
    if (bytes > maxBytes) {
      throw failedPrecondition(
        `the result is larger than the limit of ${maxBytes} bytes; select fewer rows or columns (LIMIT, paging)`,
        { limit: "RESPONSE_TOO_LARGE" },
      );
    }
    rows.push(row);
  }
  return rows;
}

/** Roughly what a value costs on the wire, envelope included; blobs travel as base64. */
function valueBytes(v: QueryResult["rows"][number][number]): number {
  if (typeof v === "string") return 32 + v.length;
  if (v instanceof Uint8Array) return 32 + Math.ceil((v.byteLength * 4) / 3);
  return 32;
}

function emptyResult(): QueryResult {
  return { columns: [], columnTypes: [], rows: [], rowsAffected: 0, lastInsertRowid: null };
}
