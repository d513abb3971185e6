import fs from "node:fs";
import path from "node:path";
import { threadId } from "node:worker_threads";
import Database from "better-sqlite3";
import { usePersistentJournal } from "../journal.js";
import { readStamp, stampSql } from "../stamp.js";
import type { ItemResult, WorkItem, WorkRequest } from "./protocol.js";
import { SMALL_FILE, writeUndo } from "./undo.js";

/** What a worker is told about the job: the request without its routing fields. */
export type JobSpec = Omit<WorkRequest, "id" | "op" | "items">;

/**
 * How a database is opened for its part of a job:
 * - `dry_run`: the journal lives in memory and cache spill is off, so SQLite never writes the file before
 *   a commit that never comes: a process killed mid-dry-run leaves the file untouched and no journal
 *   beside it. It also makes the dry run several times cheaper.
 * - `journal`: the run, through the database's persistent journal (see journal.ts), synchronous=NORMAL
 *   unless the engine asks for FULL. Both are durable: the journal is synced before the database is
 *   written, the database before the journal's header is zeroed, and the zeroed header too. NORMAL skips
 *   only FULL's second sync of the journal header, which guards against a torn journal on filesystems
 *   that do not order a file's data before its size.
 * - `undo`: the run of a small database, whose durability comes from the undo log (see undo.ts): no
 *   journal file, no syncs from SQLite, nothing written before COMMIT.
 *
 * (Preparing each database on a copy and committing by rename was measured too: creating and fsyncing a
 * new file costs more on ext4 than the rollback journal's syncs of an existing one.)
 */
type Mode = "dry_run" | "journal" | "undo";

/**
 * A database in the middle of its transaction: the statements and the stamp are applied, nothing is
 * committed. A database either carries version N with its changes or neither — and a resumed job can
 * tell, from the file alone, that there is nothing left to do.
 */
interface Applied {
  item: WorkItem;
  db: Database.Database;
  /** For the undo log: the file as it was when the transaction began, before any statement ran. */
  image?: Buffer;
}

/** The dry run of one database: apply, then roll back. */
export function dryRun(item: WorkItem, job: JobSpec): ItemResult {
  const applied = applyUncommitted(item, "dry_run", job);
  if (!("db" in applied)) return applied;
  applied.db.close(); // closing rolls back
  return { seq: item.seq, ok: true };
}

/**
 * The run phase for a batch of databases. Small ones go through the undo log together: their images are
 * written and synced once for the batch, then each commits and is fsynced. Larger ones commit through
 * SQLite's journal one by one.
 */
export function runBatch(items: WorkItem[], job: JobSpec): ItemResult[] {
  const results = new Map<number, ItemResult>();
  const pending: Applied[] = [];
  for (const item of items) {
    if (fileSize(item.path) > SMALL_FILE) {
      results.set(item.seq, runThroughJournal(item, job));
      continue;
    }
    const applied = applyUncommitted(item, "undo", job);
    if ("db" in applied) pending.push(applied);
    else results.set(item.seq, applied);
  }
  if (pending.length > 0) for (const r of commitThroughUndo(pending, job)) results.set(r.seq, r);
  return items.map((item) => results.get(item.seq) as ItemResult);
}

function runThroughJournal(item: WorkItem, job: JobSpec): ItemResult {
  const applied = applyUncommitted(item, "journal", job);
  if (!("db" in applied)) return applied;
  try {
    commitPatiently(applied.db);
    return { seq: item.seq, ok: true };
  } catch (e) {
    return fail(item, (e as Error).message);
  } finally {
    applied.db.close();
  }
}

function commitThroughUndo(pending: Applied[], job: JobSpec): ItemResult[] {
  try {
    if (!job.undoDir) throw new Error("the run phase needs an undo directory");
    writeUndo(
      path.join(job.undoDir, `${process.pid}-${threadId}.log`),
      pending.map((p) => ({ seq: p.item.seq, data: p.image as Buffer })),
    );
  } catch (e) {
    for (const p of pending) p.db.close();
    return pending.map((p) => fail(p.item, `writing the undo log: ${(e as Error).message}`));
  }
  return pending.map(({ item, db }) => {
    try {
      commitPatiently(db);
      db.close();
      if (job.tearOn === item.name) tearAndDie(item.path);
      fsyncFile(item.path);
      return { seq: item.seq, ok: true };
    } catch (e) {
      // The file may be torn; its image is in the undo log, and resuming the job restores it.
      if (db.open) db.close();
      return fail(item, (e as Error).message);
    }
  });
}

/**
 * Opens a database, begins, checks its stamp and applies the statements and the new stamp. Returns the
 * open database mid-transaction, or the item's result when there is nothing more to do (already at the
 * version, or failed — rolled back and closed).
 */
function applyUncommitted(item: WorkItem, mode: Mode, job: JobSpec): Applied | ItemResult {
  let db: Database.Database | undefined;
  try {
    db = new Database(item.path, { fileMustExist: true, timeout: 30_000 });
    begin(db, mode, job);
    const stamp = readStamp(db);
    if (mode !== "dry_run" && stamp.version >= job.version)
      return close(db, { seq: item.seq, ok: true, skipped: true });
    if (stamp.version !== job.fromVersion) {
      return close(
        db,
        fail(item, `database is at schema version ${stamp.version}, expected ${job.fromVersion}`),
      );
    }
    // Taken under the write lock, after SQLite played back any hot journal: the committed state. Cache
    // spill is off, so no statement writes the file before COMMIT, by which time the image is durable.
    const image = mode === "undo" ? fs.readFileSync(item.path) : undefined;
    const violationsBefore = job.foreignKeys ? foreignKeyViolations(db) : 0;
    for (const [i, sql] of job.statements.entries()) {
      try {
        db.exec(sql);
      } catch (e) {
        return close(db, fail(item, `statement ${i + 1} (${abbreviate(sql)}): ${(e as Error).message}`));
      }
    }
    if (job.foreignKeys && foreignKeyViolations(db) > violationsBefore) {
      return close(db, fail(item, "the migration leaves rows that violate a FOREIGN KEY constraint"));
    }
    if (mode === "dry_run") return { item, db };
    if (job.failRunOn?.includes(item.name)) return close(db, fail(item, "disk I/O error (injected)"));
    db.exec(stampSql({ version: job.version, jobId: job.jobId }));
    return { item, db, image };
  } catch (e) {
    return close(db, fail(item, (e as Error).message));
  }
}

/**
 * BEGIN, then the journal settings. SQLite lets a rollback journal mode change until the transaction
 * writes its first page, and setting it before BEGIN costs one more lock cycle (with its hot-journal
 * probe) per database — a database is opened twice per job, so that is measurable.
 */
function begin(db: Database.Database, mode: Mode, job: JobSpec): void {
  // These take no lock, and none may change inside a transaction. FK actions must not fire while a
  // migration rebuilds a table (DROP TABLE runs an implicit DELETE that cascades); violations are checked
  // before commit instead.
  const before: string[] = [];
  if (job.foreignKeys) before.push("PRAGMA foreign_keys = OFF");
  if (mode === "journal" && job.sync === "normal") before.push("PRAGMA synchronous = NORMAL");
  if (mode === "undo") before.push("PRAGMA synchronous = OFF");
  db.exec([...before, "BEGIN IMMEDIATE"].join("; "));
  if (mode === "journal") {
    usePersistentJournal(db);
    return;
  }
  const journal = db.prepare("PRAGMA journal_mode = MEMORY").pluck().get();
  if (journal !== "memory") throw new Error(`needed an in-memory journal, and SQLite kept ${journal}`);
  db.exec("PRAGMA cache_spill = OFF");
}

/**
 * How many times a run-phase COMMIT that meets readers is tried again. Past the commit point a reader may
 * delay a database but must not fail it: SQLite keeps the transaction open when COMMIT is busy, so the
 * same COMMIT can simply be retried, each try waiting out the busy timeout (30 s). Servers expire long
 * read transactions well within that.
 */
const COMMIT_TRIES = 4;

function commitPatiently(db: Database.Database): void {
  for (let attempt = 1; ; attempt++) {
    try {
      db.exec("COMMIT");
      return;
    } catch (e) {
      const busy = (e as { code?: string }).code === "SQLITE_BUSY";
      if (!busy || attempt >= COMMIT_TRIES || !db.inTransaction) throw e;
    }
  }
}

function close(db: Database.Database | undefined, result: ItemResult): ItemResult {
  db?.close(); // rolls back whatever is open
  return result;
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0; // opening it reports the problem
  }
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Test hook: a crash in the middle of writing a committed database's pages back. */
function tearAndDie(file: string): never {
  const fd = fs.openSync(file, "r+");
  fs.writeSync(fd, Buffer.alloc(4096, 0xee), 0, 4096, 0);
  fs.closeSync(fd);
  process.kill(process.pid, "SIGKILL");
  throw new Error("unreachable");
}

function foreignKeyViolations(db: Database.Database): number {
  return db.prepare("PRAGMA foreign_key_check").all().length;
}

/**
 * Whether foreign keys can matter to a job: some table of the schema declares one, or the migration does.
 * Every database of a job shares the parent's schema, so this is asked once per job, not once per child.
 */
export function involvesForeignKeys(parentFile: string, statements: string[]): boolean {
  if (statements.some((s) => /\breferences\b/i.test(s))) return true;
  const db = new Database(parentFile, { readonly: true, fileMustExist: true, timeout: 30_000 });
  try {
    return (
      db.prepare("SELECT 1 FROM sqlite_schema WHERE sql LIKE '%REFERENCES%' LIMIT 1").get() !== undefined
    );
  } finally {
    db.close();
  }
}

function fail(item: WorkItem, error: string): ItemResult {
  return { seq: item.seq, ok: false, error };
}

function abbreviate(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}
