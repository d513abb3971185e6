import path from "node:path";
import Database from "better-sqlite3";
import { catalogVersion, type DatabaseRow, getDatabaseRow } from "../catalog.js";
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
import { usePersistentJournal } from "../journal.js";
import { readsOnly, type Statement, splitStatements, writesBehindSqlite } from "../sql/statements.js";
import { isKeyword } from "../sql/tokenize.js";
import { canAttach, canRead, canWrite } from "../tokens/permissions.js";
import {
  type AttachedDatabase,
  attachedReadOnly,
  attachSignature,
  catalogRowOfFile,
  listAttached,
  writesAttached,
} from "./attached.js";
import { isBoundedRead } from "./bounded.js";
import { awaitFenceLift, isMigrationFence, writeFence } from "./fence.js";
import type { Principal } from "./principal.js";
import { executeOnSchemaDatabase, type SchemaSession } from "./schema-transaction.js";
import { findDatabaseByNameOrId } from "./targets.js";
import { type QueryResult, type SqlArgs, toBindable } from "./values.js";

/** SQLite's own ceiling (SQLITE_MAX_ATTACHED), and Turso's documented one. */
export const MAX_ATTACHED = 10;

/**
 * How long readBounded's `held` transaction may go on: what a writer elsewhere waits for it, at most. Its
 * lock cycle (with a persistent journal, an open, a read and a close of the journal besides the locks)
 * costs a small read about ten times the read itself; held a few milliseconds, that is paid once per
 * burst of reads rather than once per turn.
 */
const HELD_READ_MS = 5;
/**
 * A held transaction ends once this long goes by without a read. Not "a turn without a read": a server
 * with a few busy connections turns its event loop between their requests with nothing to read (its
 * answers are on their way back), and ended the transaction there, paying its lock cycle every few reads.
 */
const HELD_IDLE_MS = 1;

export interface Session {
  readonly database: string;
  readonly inTransaction: boolean;
  /** What a single statement takes and returns, without running it (Hrana's `describe`). */
  describe(sql: string): StatementDescription;
  /** Runs one or more statements; `args` bind to a single statement. One result per statement. */
  execute(sql: string, args?: SqlArgs, opts?: ExecuteOptions): Promise<QueryResult[]>;
  /**
   * Runs one read whose own bytecode proves it bounded (bounded.ts), at once and synchronously, when
   * nothing about it needs the rest of the session's path (attachments, a transaction, a schema database,
   * block_reads, a refusal, a lock held elsewhere). Otherwise runs nothing and returns undefined, and
   * `execute` is the way. What a server may answer on its own thread.
   */
  readBounded(sql: string, args?: SqlArgs): QueryResult | undefined;
  /** Ends the read transaction readBounded keeps (`readTransactions`), so that no writer waits for it. */
  releaseRead(): void;
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
  /**
   * `turn`: other connections' commits to the catalog (config, fences, a database destroyed) are looked
   * for once per turn of the event loop rather than before every statement — what a process serving
   * requests wants, where the statements of one turn were all asked for before it began. Commits through
   * this engine's own connection are still seen at the very next statement. Default `statement`.
   */
  catalogChecks?: "statement" | "turn";
  /**
   * `held`: readBounded's reads share one read transaction, which goes on while they keep coming, for up
   * to HELD_READ_MS; it ends once HELD_IDLE_MS goes by without a read, past HELD_READ_MS, or at
   * `releaseRead()`. One lock and one look at the schema for a burst of reads, which are concurrent
   * anyway; a writer elsewhere waits at most that long. Default `statement`.
   */
  readTransactions?: "statement" | "held";
}

/**
 * The held read transactions (`readTransactions: "held"`) of an engine's sessions, by database name. Each
 * ends on a timer of the thread that holds it, so whoever writes there ends them first (endHeldReads):
 * a write through the same engine, which would otherwise wait for them inside SQLite's busy handler,
 * blocking that very thread; a server, before its executors write there.
 */
const heldReads = new WeakMap<EngineContext, Map<string, Set<() => void>>>();

function hold(ctx: EngineContext, database: string, end: () => void): void {
  let byDatabase = heldReads.get(ctx);
  if (!byDatabase) {
    byDatabase = new Map();
    heldReads.set(ctx, byDatabase);
  }
  const held = byDatabase.get(database);
  if (held) held.add(end);
  else byDatabase.set(database, new Set([end]));
}

function unhold(ctx: EngineContext, database: string, end: () => void): void {
  const byDatabase = heldReads.get(ctx);
  const held = byDatabase?.get(database);
  if (!held?.delete(end) || held.size > 0) return;
  byDatabase?.delete(database);
}

/** Ends the read transactions this engine's sessions hold on a database. */
export function endHeldReads(ctx: EngineContext, database: string): void {
  const held = heldReads.get(ctx)?.get(database);
  if (held) for (const end of [...held]) end();
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
  const readOnly = !mayWrite(principal, row);
  try {
    // Sorts, temp tables and statement journals in memory: SQLite would otherwise put them in /var/tmp,
    // outside the data directory (tenants cannot change it back: see guard.ts).
    conn.pragma("temp_store = MEMORY");
    // A principal that may not write gets a connection SQLite itself keeps from writing, so that a write
    // nested where the guard cannot see it (a virtual table's command, a pragma function) fails inside SQLite.
    if (readOnly) conn.pragma("query_only = 1");
  } catch (e) {
    conn.close();
    throw fromSqliteError(e, name);
  }
  const checks = sessionChecks(conn);
  const rowNow = currentRowReader(ctx, row, opts.catalogChecks ?? "statement");
  // Set at the session's first write of its own (see write): reads never need it, and setting it at open
  // would cost every session a lock cycle.
  let persistentJournal = false;
  // Whether an ATTACH of ours may still be in effect. Only ever set by attach() (a tenant's ATTACH never
  // reaches SQLite any other way) and cleared when database_list shows none: it only spares a database_list
  // per statement when nothing was attached, never stands in for it.
  let mayHaveAttached = false;
  // SQL -> writes an attached database, for one attach set and one schema of main and temp: a statement's
  // program includes the triggers on what it writes, so a temp trigger created since (`AFTER INSERT ON
  // main.t BEGIN DELETE FROM aux.t; END`) makes the same SQL another program.
  const verdicts = new Map<string, boolean>();
  let verdictsFor = "";
  const reads = new Map<string, BoundedRead | null>(); // see boundedCandidate
  let reading: { version: number; since: number; readSinceCheck: boolean } | undefined; // see beginRead
  let closed = false;
  const collect = (stmt: Database.Statement, args: SqlArgs | undefined) =>
    collectRows(stmt, args, opts.maxResultBytes, name);

  const session: Session = {
    database: name,
    get inTransaction() {
      return conn.inTransaction;
    },
    describe(sql) {
      if (closed) throw failedPrecondition("the session is closed");
      const [s, ...rest] = splitStatements(sql);
      if (!s || rest.length > 0) throw invalidArgument("describe takes exactly one statement");
      const refused = refusal(s);
      if (refused) throw refused;
      const current = rowNow();
      if (current.block_reads) throw blocked(`reads are blocked on "${name}" (block_reads is set)`);
      try {
        const stmt = conn.prepare(s.sql);
        const columns = stmt.reader ? stmt.columns().map((c) => ({ name: c.name, type: c.type })) : [];
        const params = s.tokens
          .filter((t) => t.kind === "variable")
          .map((t) => (t.text.length > 1 && !/^\?\d+$/.test(t.text) ? t.text : null));
        return {
          params,
          columns,
          isReadonly: stmt.readonly && !writesBehindSqlite(s),
          isExplain: s.tokens[0]?.text.toUpperCase() === "EXPLAIN",
        };
      } catch (e) {
        throw fromSqliteError(e, name);
      }
    },
    async execute(sql, args, opts) {
      if (closed) throw failedPrecondition("the session is closed");
      // A held read of this engine's, on this thread, would make SQLite's busy wait here wait for itself.
      endRead();
      endHeldReads(ctx, name);
      if (typeof sql !== "string") throw invalidArgument("SQL must be a string");
      const statements = splitStatements(sql);
      if (args !== undefined && statements.length !== 1) {
        throw invalidArgument("arguments can only be bound to a single statement");
      }
      const current = rowNow();
      // Every refusal is decided before anything runs: a batch with one refused statement runs none.
      for (const s of statements) {
        const refused =
          refusal(s) ?? (current.type === "child" ? childRefusal(s, name, current.parent_name ?? "") : null);
        if (refused) throw refused;
        if (s.kind === "attach" && principal.kind === "token") checkAttachTarget(ctx, principal, current, s);
      }
      if (current.block_reads) throw blocked(`reads are blocked on "${name}" (block_reads is set)`);

      if (current.type === "schema") {
        schema.row = current;
        return executeOnSchemaDatabase(schema, statements, args, opts);
      }
      const results: QueryResult[] = [];
      for (const s of statements) results.push(await runWaitingOutFences(s, args));
      return results;
    },
    readBounded(sql, args) {
      if (closed || mayHaveAttached || typeof sql !== "string") return undefined;
      if (conn.inTransaction && !reading) return undefined;
      const read = boundedCandidate(sql);
      if (!read) return undefined;
      try {
        const current = rowNow();
        if (current.block_reads || current.type === "schema") return undefined;
        if (!provenBounded(read, beginRead(), args)) return undefined;
        return runBoundedRead(read, args);
      } catch {
        endRead();
        return undefined; // a lock held elsewhere, an error: execute() answers it, with its waits and words
      } finally {
        if (opts.readTransactions === undefined || opts.readTransactions === "statement") endRead();
      }
    },
    releaseRead() {
      endRead();
    },
    close() {
      if (closed) return;
      closed = true;
      endRead();
      if (conn.inTransaction) conn.exec("ROLLBACK");
      conn.close();
    },
  };

  /** A single SELECT that refuses nothing, parsed and prepared once; null when it never can be bounded. */
  function boundedCandidate(sql: string): BoundedRead | null {
    const known = reads.get(sql);
    if (known !== undefined) return known;
    const all = splitStatements(sql);
    const s = all[0];
    let read: BoundedRead | null = null;
    if (all.length === 1 && s?.kind === "select" && !refusal(s) && !writesBehindSqlite(s)) {
      let stmt: Database.Statement;
      try {
        stmt = conn.prepare(s.sql);
      } catch {
        return null; // not kept: the table may exist next time
      }
      if (stmt.reader && stmt.readonly) {
        read = { sql: s.sql, stmt: stmt.raw(true), version: -1, ok: false, columns: [], columnTypes: [] };
      }
    }
    if (reads.size >= MAX_VERDICTS) reads.clear();
    reads.set(sql, read);
    return read;
  }

  /**
   * readBounded's read transaction: begun by the first read, and ended after it, or (`held`) once reads
   * stop for a moment, so that reads share one lock and one look at the schema. Gives the schema version
   * the transaction sees.
   */
  function beginRead(): number {
    if (reading) {
      reading.readSinceCheck = true;
      return reading.version;
    }
    checks.begin.run();
    let version: number;
    try {
      version = Number(checks.schemaVersion()); // takes the read lock: busy when a writer is committing
    } catch (e) {
      undo(false); // else the session stays inside a BEGIN that no read would ever end
      throw e;
    }
    reading = { version, since: performance.now(), readSinceCheck: false };
    if (opts.readTransactions === "held") {
      setTimeout(holdOrEnd, HELD_IDLE_MS).unref();
      hold(ctx, name, endRead);
    }
    return reading.version;
  }

  /** Every HELD_IDLE_MS: ends the held transaction if nothing read meanwhile, or it is old enough. */
  function holdOrEnd(): void {
    if (!reading) return;
    if (!reading.readSinceCheck || performance.now() - reading.since > HELD_READ_MS) {
      endRead();
      return;
    }
    reading.readSinceCheck = false;
    setTimeout(holdOrEnd, HELD_IDLE_MS).unref();
  }

  function endRead(): void {
    if (!reading) return;
    reading = undefined;
    unhold(ctx, name, endRead);
    try {
      if (conn.inTransaction) checks.commit.run();
    } catch {
      undo(false);
    }
  }

  /**
   * Whether the read's program, against the schema the current transaction sees, is proven bounded; the
   * verdict is kept for that schema version. A connection that still holds an older schema in memory
   * compiles EXPLAIN against it: one statement that reads the schema table makes SQLite notice and
   * reload, and the proof is tried again.
   */
  function provenBounded(read: BoundedRead, version: number, args: SqlArgs | undefined): boolean {
    if (read.version === version) return read.ok;
    const bound = toBindable(args);
    let ok = isBoundedRead(conn, read.sql, bound, version);
    if (!ok) {
      checks.loadSchema();
      ok = isBoundedRead(conn, read.sql, bound, version);
    }
    const columns = read.stmt.columns();
    read.columns = columns.map((c) => c.name);
    read.columnTypes = columns.map((c) => c.type);
    read.version = version;
    read.ok = ok;
    return ok;
  }

  /**
   * A proven read runs its body once, so it returns at most a row per ResultRow instruction: fetched
   * whole, and measured after (a huge value is for execute() to refuse, in its words).
   */
  function runBoundedRead(read: BoundedRead, args: SqlArgs | undefined): QueryResult | undefined {
    const bound = toBindable(args);
    const rows = (bound === undefined ? read.stmt.all() : read.stmt.all(bound)) as QueryResult["rows"];
    if (opts.maxResultBytes !== undefined) {
      let bytes = 0;
      for (const row of rows) bytes += rowBytes(row);
      if (bytes > opts.maxResultBytes) return undefined;
    }
    return {
      columns: read.columns,
      columnTypes: read.columnTypes,
      rows,
      rowsAffected: 0,
      lastInsertRowid: null,
    };
  }

  /**
   * A statement that met a migration's fence outside a transaction changed nothing (guarded rolled it
   * back), so it waits for the fence to lift, without any lock, and runs again, up to the engine's bound.
   * Inside a transaction it fails at once: it may hold the lock the job's worker needs.
   */
  async function runWaitingOutFences(s: Statement, args: SqlArgs | undefined): Promise<QueryResult> {
    const autocommit = !conn.inTransaction;
    const startedAt = Date.now();
    for (;;) {
      try {
        return runStatement(s, args);
      } catch (e) {
        if (!autocommit || conn.inTransaction || !isMigrationFence(e)) throw e;
        const gaveUp = await awaitFenceLift(ctx, row, startedAt);
        if (gaveUp) throw gaveUp;
      }
    }
  }

  function runStatement(s: Statement, args: SqlArgs | undefined): QueryResult {
    if (s.kind === "attach") return attach(s);
    if (s.kind === "detach") return exec(s, args);
    let stmt: Database.Statement;
    try {
      stmt = conn.prepare(s.sql);
    } catch (e) {
      throw fromSqliteError(e, name);
    }
    if (s.kind === "transaction") {
      if (!stmt.readonly) authorize(principal, row, "write");
      return collect(stmt, args);
    }
    // sqlite3_stmt_readonly is the authority on reads, but for writes nested where it cannot see them.
    const writes = !stmt.readonly || writesBehindSqlite(s);
    if (writes) authorize(principal, row, "write");
    const attached = currentAttachments(s, writes);
    // A pragma SQLite calls read-only sets the connection up (foreign_keys, defer_foreign_keys, ...), and
    // some are no-ops inside a transaction: it runs as it is, since its program writes nothing.
    if (s.kind === "pragma" && !writes) return collect(stmt, args);
    // A read on a connection SQLite keeps from writing anything, in any database attached or temporary,
    // changes nothing the checks around a statement could catch: it runs as it is. The flag is read back
    // first (a connection flag: no lock, no I/O), so it is SQLite's word, never our bookkeeping.
    if (!writes && readOnly && checks.queryOnly()) return collect(stmt, args);
    return guarded(stmt, args, writes, attached);
  }

  /**
   * What is attached now, per SQLite, after checking that each attachment still stands (its database
   * still exists and still allows attach, `db config attach disallow` included) and that the statement's
   * bytecode writes none of them.
   */
  function currentAttachments(s: Statement, writes: boolean): AttachedDatabase[] {
    if (!mayHaveAttached) return [];
    const attached = listAttached(conn);
    if (attached.length === 0) {
      mayHaveAttached = false;
      return attached;
    }
    for (const a of attached) {
      const why = attachmentLapsed(a);
      if (why) {
        // Detached when SQLite allows it (outside a transaction), so the session can go on without it.
        const detached = !conn.inTransaction && tryDetach(a.alias);
        throw permissionDenied(
          `${why}${detached ? `; it was detached` : `; DETACH "${a.alias.replaceAll('"', '""')}" to go on`}`,
        );
      }
    }
    if (writes && writesBehindSqlite(s)) {
      throw permissionDenied(
        "this statement writes through a function or pragma whose writes cannot be checked while databases are attached; DETACH them first",
      );
    }
    if (isKeyword(s.tokens[0], "EXPLAIN")) return attached; // compiles, never runs
    const signature = `${attachSignature(attached)}\n${checks.schemaVersion()}\n${checks.tempSchemaVersion()}`;
    if (signature !== verdictsFor) {
      verdicts.clear();
      verdictsFor = signature;
    }
    let writesThem = verdicts.get(s.sql);
    if (writesThem === undefined) {
      try {
        writesThem = writesAttached(conn, s.sql);
      } catch (e) {
        throw fromSqliteError(e, name);
      }
      if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
      verdicts.set(s.sql, writesThem);
    }
    if (writesThem) throw attachedReadOnly();
    return attached;
  }

  function attachmentLapsed(a: AttachedDatabase): string | null {
    const target = catalogRowOfFile(ctx.catalog, ctx.layout.root, a.file);
    const shown = `"${a.alias}"`;
    if (!target) return `the database attached as ${shown} no longer exists`;
    if (!target.allow_attach)
      return `database "${target.name}" (attached as ${shown}) no longer allows attach`;
    if (target.group_id !== row.group_id) return `database "${target.name}" is not in this group`;
    if (
      principal.kind === "token" &&
      !canAttach(principal.permissions, { database: target.name, group: target.group_name, id: target.uuid })
    ) {
      return `this token does not allow attaching "${target.name}"`;
    }
    return null;
  }

  function tryDetach(alias: string): boolean {
    try {
      conn.prepare("DETACH DATABASE ?").run(alias);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Runs one statement inside a transaction of ours (or a savepoint inside the caller's), reads included,
   * so that after it we can still refuse it: a fence that appeared meanwhile, a schema that moved where it
   * must not (a child's, a schema database's outside a job, an attached database's), or a statement judged
   * a read that changed anything at all. Whatever moved is rolled back.
   */
  function guarded(
    stmt: Database.Statement,
    args: SqlArgs | undefined,
    writes: boolean,
    attached: AttachedDatabase[],
  ): QueryResult {
    const nested = conn.inTransaction;
    // A fenced database is usually locked by the job's worker right now: a writer outside a transaction
    // learns of the fence before queueing for that lock (SQLite's busy handler sleeps in steps of up to
    // 100 ms), and waits for it to lift instead. The check under the lock, below, is the one that counts.
    if (writes && !nested) {
      const fence = writeFence(ctx, row);
      if (fence) throw fence;
    }
    try {
      // BEGIN IMMEDIATE would reserve every attached database too, blocking their writers (and the
      // session itself, when one database is attached twice): with attachments, only what is written is.
      const begin = writes && attached.length === 0 ? checks.beginImmediate : checks.begin;
      (nested ? checks.savepoint : begin).run();
    } catch (e) {
      throw fromSqliteError(e, name); // busy: another connection is writing
    }
    try {
      // Inside our own BEGIN IMMEDIATE nothing is written yet, so the journal mode may still change and
      // needs no lock of its own. A write inside the caller's transaction commits in the default mode.
      if (writes && !nested && !persistentJournal) {
        usePersistentJournal(conn);
        persistentJournal = true;
      }
      if (writes) {
        const fence = writeFence(ctx, row, { inTransaction: nested });
        if (fence) throw fence;
      }
      const before = checks.snapshot(attached);
      const result = collect(stmt, args);
      const after = checks.snapshot(attached);
      const moved = movedWhereItMustNot(before, after, writes, nested);
      if (moved) throw moved;
      (nested ? checks.release : checks.commit).run();
      return result;
    } catch (e) {
      undo(nested);
      throw fromSqliteError(e, name);
    }
  }

  function movedWhereItMustNot(
    before: Snapshot,
    after: Snapshot,
    writes: boolean,
    nested: boolean,
  ): TenantDbError | null {
    if (after.schemas.some((v, i) => i > 0 && v !== before.schemas[i])) return attachedReadOnly();
    if (after.schemas[0] !== before.schemas[0]) {
      if (row.type === "child") return blockedOnChild(name, row.parent_name ?? "");
      // On a schema database a transaction is only ever one of schema-transaction.ts's, always rolled back
      // (its changes reach files only as a job): the schema may move inside it.
      if (row.type === "schema" && !nested) {
        return blocked(
          `"${name}" is a schema database: its schema changes only through migrations, never as a side effect`,
        );
      }
      if (!writes) return readThatWrote();
    }
    if (!writes && after.changes !== before.changes) return readThatWrote();
    return null;
  }

  function undo(nested: boolean): void {
    if (!conn.inTransaction) return; // SQLite already rolled back (an error with ON CONFLICT ROLLBACK)
    try {
      if (nested) {
        checks.rollbackToSavepoint.run();
        checks.release.run();
      } else checks.rollback.run();
    } catch {
      // The savepoint is gone with a transaction SQLite rolled back itself: nothing of ours is left.
    }
  }

  /** A read, for routing on a schema database: pragmas like table_info(t) read despite their argument. */
  function isRead(s: Statement): boolean {
    if (readsOnly(s)) return true;
    if (s.kind !== "pragma" || writesBehindSqlite(s)) return false;
    try {
      return conn.prepare(s.sql).readonly;
    } catch {
      return false;
    }
  }

  function attach(s: Extract<Statement, { kind: "attach" }>): QueryResult {
    const alias = s.attach.alias;
    if (!alias) throw invalidArgument(`ATTACH needs an alias: ATTACH "catalog" AS catalog`);
    if (listAttached(conn).length >= MAX_ATTACHED) {
      throw failedPrecondition(
        `too many attached databases: at most ${MAX_ATTACHED} per connection; DETACH one first`,
      );
    }
    const current = rowNow();
    const targetRow = checkAttachTarget(ctx, principal, current, s);
    if (targetRow.id === row.id) {
      // A second handle on the session's own file would hold locks its writes must wait for.
      throw failedPrecondition(`"${row.name}" is this session's own database: query it as main`);
    }
    mayHaveAttached = true;
    try {
      conn.prepare("ATTACH DATABASE ? AS ?").run(path.join(ctx.layout.root, targetRow.path), alias);
    } catch (e) {
      throw fromSqliteError(e, name);
    }
    return emptyResult();
  }

  function exec(s: Statement, args: SqlArgs | undefined): QueryResult {
    try {
      return collect(conn.prepare(s.sql), args);
    } catch (e) {
      throw fromSqliteError(e, name);
    }
  }

  const schema: SchemaSession = {
    ctx,
    row,
    conn,
    pending: null,
    isRead,
    run: runStatement,
    authorizeWrite: () => authorize(principal, row, "write"),
  };

  return session;
}

/** A read readBounded may run: its statement, and the verdict on its program for one schema version. */
interface BoundedRead {
  sql: string;
  stmt: Database.Statement;
  version: number;
  ok: boolean;
  /** The result's columns under that schema version (`SELECT *` follows the schema). */
  columns: string[];
  columnTypes: (string | null)[];
}

/** How many bytecode verdicts a session keeps per attach set: enough for an app's statements. */
const MAX_VERDICTS = 512;

interface Snapshot {
  /** schema_version of main, then of each attached database in database_list order. */
  schemas: bigint[];
  /** total_changes(): rows changed by this connection, nested statements included. */
  changes: bigint;
}

/** The statements the session runs around every statement of the tenant's, each prepared at first use. */
function sessionChecks(conn: Database.Database) {
  const prepared = new Map<string, Database.Statement>();
  const stmt = (sql: string) => {
    let found = prepared.get(sql);
    if (!found) {
      found = conn.prepare(sql);
      prepared.set(sql, found);
    }
    return found;
  };
  const versionOf = (schema: string) =>
    stmt(`PRAGMA "${schema.replaceAll('"', '""')}".schema_version`)
      .pluck()
      .get() as bigint;
  return {
    get begin() {
      return stmt("BEGIN");
    },
    get beginImmediate() {
      return stmt("BEGIN IMMEDIATE");
    },
    get commit() {
      return stmt("COMMIT");
    },
    get rollback() {
      return stmt("ROLLBACK");
    },
    get savepoint() {
      return stmt("SAVEPOINT tenantdb_guard");
    },
    get release() {
      return stmt("RELEASE tenantdb_guard");
    },
    schemaVersion(): bigint {
      return versionOf("main");
    },
    tempSchemaVersion(): bigint {
      return versionOf("temp");
    },
    /** Makes SQLite compare its schema in memory with the file's, and reload it if older. */
    loadSchema(): void {
      stmt("SELECT 1 FROM main.sqlite_schema LIMIT 0").all();
    },
    /** Whether SQLite keeps this connection from writing (`query_only`). */
    queryOnly(): boolean {
      return Number(stmt("PRAGMA query_only").pluck().get()) === 1;
    },
    get rollbackToSavepoint() {
      return stmt("ROLLBACK TO tenantdb_guard");
    },
    snapshot(attached: readonly AttachedDatabase[]): Snapshot {
      const schemas = [versionOf("main")];
      for (const a of attached) schemas.push(versionOf(a.alias));
      if (prepared.size > 4 * MAX_ATTACHED) prepared.clear();
      return { schemas, changes: stmt("SELECT total_changes()").pluck().get() as bigint };
    },
  };
}

function readThatWrote(): TenantDbError {
  return permissionDenied(
    "this statement reads, yet it changed the database (through a function, a pragma or a virtual table); it was rolled back",
  );
}

/**
 * The database's row as it is now (config and fences may change while a session is open), read again
 * only when the catalog may have changed since the last read: a commit by any other connection (its
 * `data_version`) or a row changed through the engine's own (its `total_changes()`). One pragma per
 * statement instead of the joined row: what a server running thousands of small reads needs.
 */
function currentRowReader(
  ctx: EngineContext,
  opened: DatabaseRow,
  checks: "statement" | "turn",
): () => DatabaseRow {
  let seen = "";
  let cached: DatabaseRow | undefined;
  return () => {
    const version = catalogVersion(ctx.catalog, checks);
    if (cached && version === seen) return cached;
    cached = currentRow(ctx, opened);
    seen = version;
    return cached;
  };
}

/** The database's row as it is now: config and fences may change while a session is open. */
function currentRow(ctx: EngineContext, opened: DatabaseRow): DatabaseRow {
  const row = getDatabaseRow(ctx.catalog, opened.name);
  if (!row || row.id !== opened.id) throw notFound(`database "${opened.name}" no longer exists`);
  return row;
}

function mayWrite(principal: Principal, row: DatabaseRow): boolean {
  return (
    principal.kind === "owner" ||
    canWrite(principal.permissions, { database: row.name, group: row.group_name, id: row.uuid })
  );
}

function authorize(principal: Principal, row: DatabaseRow, right: "read" | "write"): void {
  if (principal.kind === "owner") return;
  const target = { database: row.name, group: row.group_name, id: row.uuid };
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
  const ref = target.type === "identifier" ? target.name : target.type === "string" ? target.value : null;
  if (ref === null) throw refusal(s) as TenantDbError;
  const targetRow = findDatabaseByNameOrId(ctx, ref);
  if (!targetRow) throw notFound(`cannot attach "${ref}": no such database (give a database name or id)`);
  const shown = targetRow.name;
  if (targetRow.group_id !== current.group_id) {
    throw permissionDenied(
      `cannot attach "${shown}": it is in group "${targetRow.group_name}", not "${current.group_name}"`,
    );
  }
  if (!targetRow.allow_attach) {
    throw permissionDenied(
      `database "${shown}" doesn't allow attach; enable it with \`tenantdb db config attach allow ${shown}\``,
    );
  }
  if (
    principal.kind === "token" &&
    !canAttach(principal.permissions, {
      database: targetRow.name,
      group: targetRow.group_name,
      id: targetRow.uuid,
    })
  ) {
    throw permissionDenied(
      `this token does not allow attaching "${shown}" (database id ${targetRow.uuid}); create one with --attach ${shown}`,
    );
  }
  return targetRow;
}

function collectRows(
  stmt: Database.Statement,
  args: SqlArgs | undefined,
  maxBytes: number | undefined,
  database: string,
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
    throw fromSqliteError(e, database);
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
    bytes += rowBytes(row);
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

/** What a row costs on the wire (valueBytes): how results are held to the size limit, streamed or whole. */
function rowBytes(row: QueryResult["rows"][number]): number {
  let bytes = 0;
  for (const v of row) bytes += valueBytes(v);
  return bytes;
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
