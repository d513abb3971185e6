import fs from "node:fs";
import path from "node:path";
import { threadId } from "node:worker_threads";
import Database from "better-sqlite3";
import { storageFailure } from "../errors.js";
import { usePersistentJournal } from "../journal.js";
import { readStamp, stampSql } from "../stamp.js";
import { countWrite, type ItemResult, type WorkItem, type WorkRequest } from "./protocol.js";
import { hasSchemaPage } from "./schema-page.js";
import { imageReader, SMALL_FILE, writeUndo } from "./undo.js";

/** What a worker is told about the job: the request without its routing fields. */
export type JobSpec = Omit<WorkRequest, "id" | "op" | "items">;

/**
 * How a database is opened for its part of a job:
 * - `dry_run`: the journal lives in memory and cache spill is off, so SQLite never writes the file before
 *   a commit that never comes: a process killed mid-dry-run leaves the file untouched and no journal
 *   beside it. It also makes the dry run several times cheaper. But every changed page is then held
 *   twice in memory (the page and its original), so only files up to a quarter of the job's
 *   `dryRunMemory` take it, and they may grow by another quarter at most (max_page_count); a dry run
 *   that outgrows that starts again as:
 * - `dry_run_on_disk`: the database's persistent journal, a cache of a quarter of `dryRunMemory` and
 *   cache spill on, so memory stays bounded whatever the tenant's size. A process killed mid-way may
 *   leave pages written and the journal hot (synced before any page is, as in a commit); whoever opens
 *   the file next plays it back, and so does the job's recovery (runner.ts `abandonDryRun`).
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
type Mode = "dry_run" | "dry_run_on_disk" | "journal" | "undo";

/** Default of the engine's `dryRunMemory` option: the most one dry run holds in memory, roughly. */
export const DEFAULT_DRY_RUN_MEMORY = 16 * 1024 * 1024;

/** A dry run kept in memory ran into its growth limit: it starts again on disk. */
interface Outgrown extends ItemResult {
  outgrown: true;
}

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

/**
 * The dry run of one database: apply, then roll back. A child carrying its parent's schema is spared
 * that when the verdict depends on the schema alone and the parent's dry run proves it.
 */
export function dryRun(item: WorkItem, job: JobSpec): ItemResult {
  if (job.parentSchema && hasSchemaPage(item.path, job.parentSchema)) return { seq: item.seq, ok: true };
  const inMemory = fileSize(item.path) <= dryRunMemory(job) / 4;
  let applied = applyUncommitted(item, inMemory ? "dry_run" : "dry_run_on_disk", job);
  if ("outgrown" in applied) applied = applyUncommitted(item, "dry_run_on_disk", job);
  if (!("db" in applied)) return applied;
  applied.db.close(); // closing rolls back
  return { seq: item.seq, ok: true };
}

function dryRunMemory(job: JobSpec): number {
  return job.dryRunMemory ?? DEFAULT_DRY_RUN_MEMORY;
}

/**
 * The run phase for a batch of databases. Small ones go through the undo log together: their images are
 * written and synced once for the batch, then each commits and is fsynced. Larger ones commit through
 * SQLite's journal one by one.
 */
export function runBatch(items: WorkItem[], job: JobSpec): ItemResult[] {
  const results = new Map<number, ItemResult>();
  const pending: Applied[] = [];
  const readImage = imageReader();
  for (const item of items) {
    if (fileSize(item.path) > SMALL_FILE) {
      results.set(item.seq, runThroughJournal(item, job));
      continue;
    }
    const applied = applyUncommitted(item, "undo", job, readImage);
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
    countWrite(job.writeFault, `the commit of ${item.name}`);
    commitPatiently(applied.db);
    return { seq: item.seq, ok: true };
  } catch (e) {
    return fail(item, (e as Error).message, e);
  } finally {
    applied.db.close();
  }
}

function commitThroughUndo(pending: Applied[], job: JobSpec): ItemResult[] {
  try {
    if (!job.undoDir) throw new Error("the run phase needs an undo directory");
    countWrite(job.writeFault, "the undo log");
    writeUndo(
      path.join(job.undoDir, `${process.pid}-${threadId}.log`),
      pending.map((p) => ({ seq: p.item.seq, data: p.image as Buffer })),
    );
  } catch (e) {
    for (const p of pending) p.db.close();
    return pending.map((p) => fail(p.item, `writing the undo log: ${(e as Error).message}`, e));
  }
  return pending.map(({ item, db }) => {
    try {
      countWrite(job.writeFault, `the commit of ${item.name}`);
      commitPatiently(db);
      db.close();
      if (job.tearOn === item.name) tearAndDie(item.path);
      if (job.exitWorkerOn === item.name) process.exit(1); // in a worker, this ends the thread alone
      countWrite(job.writeFault, `the fsync of ${item.name}`);
      fsyncFile(item.path);
      return { seq: item.seq, ok: true };
    } catch (e) {
      // The file may be torn; its image is in the undo log, and resuming the job restores it.
      if (db.open) db.close();
      return fail(item, (e as Error).message, e);
    }
  });
}

/**
 * Opens a database, begins, checks its stamp and applies the statements and the new stamp. Returns the
 * open database mid-transaction, or the item's result when there is nothing more to do (already at the
 * version, or failed — rolled back and closed).
 */
function applyUncommitted(
  item: WorkItem,
  mode: Mode,
  job: JobSpec,
  readImage?: (file: string) => Buffer,
): Applied | ItemResult | Outgrown {
  let db: Database.Database | undefined;
  try {
    db = new Database(item.path, { fileMustExist: true, timeout: 30_000 });
    begin(db, mode, job);
    const stamp = readStamp(db);
    const dry = mode === "dry_run" || mode === "dry_run_on_disk";
    if (!dry && stamp.version >= job.version) return close(db, { seq: item.seq, ok: true, skipped: true });
    if (stamp.version !== job.fromVersion) {
      return close(
        db,
        fail(item, `database is at schema version ${stamp.version}, expected ${job.fromVersion}`),
      );
    }
    // Taken under the write lock, after SQLite played back any hot journal: the committed state. Cache
    // spill is off, so no statement writes the file before COMMIT, by which time the image is durable.
    const image = mode === "undo" ? (readImage ?? fs.readFileSync)(item.path) : undefined;
    const violationsBefore = job.foreignKeys ? foreignKeyViolations(db) : 0;
    for (const [i, sql] of job.statements.entries()) {
      try {
        db.exec(sql);
      } catch (e) {
        // Nothing is written in memory mode, so "full" can only be the growth limit set in begin().
        if (mode === "dry_run" && (e as { code?: string }).code === "SQLITE_FULL") {
          const outgrown: Outgrown = { seq: item.seq, ok: false, outgrown: true };
          close(db, outgrown);
          return outgrown;
        }
        return close(db, fail(item, `statement ${i + 1} (${abbreviate(sql)}): ${(e as Error).message}`, e));
      }
    }
    if (job.foreignKeys && foreignKeyViolations(db) > violationsBefore) {
      return close(db, fail(item, "the migration leaves rows that violate a FOREIGN KEY constraint"));
    }
    if (dry) return { item, db };
    if (job.failRunOn?.includes(item.name))
      return close(db, fail(item, "disk I/O error (injected)", { code: "SQLITE_IOERR_WRITE" }));
    db.exec(stampSql({ version: job.version, jobId: job.jobId }));
    return { item, db, image };
  } catch (e) {
    return close(db, fail(item, (e as Error).message, e));
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
  // A dry run on disk spills pages before it ends: its journal must be synced before, as for a commit.
  if ((mode === "journal" && job.sync === "normal") || mode === "dry_run_on_disk")
    before.push("PRAGMA synchronous = NORMAL");
  if (mode === "undo") before.push("PRAGMA synchronous = OFF");
  // Clean pages stay within this; dirty ones too wherever SQLite may spill them (journal, dry run on disk).
  before.push(`PRAGMA cache_size = -${Math.ceil(dryRunMemory(job) / 4 / 1024)}`);
  db.exec([...before, "BEGIN IMMEDIATE"].join("; "));
  if (mode === "journal" || mode === "dry_run_on_disk") {
    usePersistentJournal(db);
    return;
  }
  const journal = db.prepare("PRAGMA journal_mode = MEMORY").pluck().get();
  if (journal !== "memory") throw new Error(`needed an in-memory journal, and SQLite kept ${journal}`);
  db.exec("PRAGMA cache_spill = OFF");
  if (mode === "dry_run") {
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + Math.ceil(dryRunMemory(job) / 4 / pageSize)}`);
  }
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

/** A failed item; `cause` says whether it was the storage (disk full, I/O error) rather than the SQL. */
function fail(item: WorkItem, error: string, cause?: unknown): ItemResult {
  const storage = cause === undefined ? undefined : storageFailure(cause);
  return { seq: item.seq, ok: false, error, ...(storage ? { storage } : {}) };
}

function abbreviate(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}
