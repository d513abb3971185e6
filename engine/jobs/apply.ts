import Database from "better-sqlite3";
import { readStamp, writeStamp } from "../stamp.js";
import type { ItemResult, WorkItem, WorkOp, WorkRequest } from "./protocol.js";

/**
 * Applies a migration to one database in one transaction. The dry run rolls back; the run commits the
 * statements together with the new stamp, so a database either carries version N with its changes or
 * neither — and a resumed job can tell, from the file alone, that there is nothing left to do.
 *
 * The run commits with synchronous=NORMAL unless the engine asks for FULL. In rollback-journal mode both
 * are durable — the database file is synced before the journal is deleted — and NORMAL skips only FULL's
 * second sync of the journal header, which guards against a torn journal on filesystems that do not order
 * a file's data before its size (ext4, xfs and btrfs do). Measured here, that one sync is ~25% of a
 * migration's run time. Turso's own databases run WAL with NORMAL, which gives up durability of the last
 * commits; this gives up nothing on a modern filesystem.
 *
 * (Preparing each database on a copy and committing by rename was measured too: creating and fsyncing a
 * new file costs more on ext4 than the rollback journal's syncs of an existing one.)
 */
/** What a worker is told about the job: the request without its routing fields. */
export type JobSpec = Omit<WorkRequest, "id" | "op" | "items">;

export function applyToDatabase(item: WorkItem, op: WorkOp, job: JobSpec): ItemResult {
  let db: Database.Database | undefined;
  try {
    db = new Database(item.path, { fileMustExist: true, timeout: 30_000 });
    // FK actions must not fire while a migration rebuilds a table (DROP TABLE runs an implicit DELETE that
    // cascades), and the pragma is a no-op inside a transaction, so it goes first. Violations are checked
    // before commit instead.
    if (job.foreignKeys) db.pragma("foreign_keys = OFF");
    if (op === "run" && job.sync === "normal") db.pragma("synchronous = NORMAL");
    if (op === "dry_run") {
      // A dry run always rolls back, so its journal can live in memory, and with cache spill off SQLite
      // never writes the file before a commit that never comes: a process killed mid-dry-run leaves the
      // file untouched and no journal beside it. It also makes the dry run several times cheaper.
      db.pragma("journal_mode = MEMORY");
      db.pragma("cache_spill = OFF");
    }
    db.exec("BEGIN IMMEDIATE");
    try {
      const stamp = readStamp(db);
      if (op === "run" && stamp.version >= job.version) return { seq: item.seq, ok: true, skipped: true };
      if (stamp.version !== job.fromVersion) {
        return fail(item, `database is at schema version ${stamp.version}, expected ${job.fromVersion}`);
      }
      const violationsBefore = job.foreignKeys ? foreignKeyViolations(db) : 0;
      for (const [i, sql] of job.statements.entries()) {
        try {
          db.exec(sql);
        } catch (e) {
          return fail(item, `statement ${i + 1} (${abbreviate(sql)}): ${(e as Error).message}`);
        }
      }
      if (job.foreignKeys && foreignKeyViolations(db) > violationsBefore) {
        return fail(item, "the migration leaves rows that violate a FOREIGN KEY constraint");
      }
      if (op === "dry_run") return { seq: item.seq, ok: true };
      if (job.failRunOn?.includes(item.name)) return fail(item, "disk I/O error (injected)");
      writeStamp(db, { version: job.version, jobId: job.jobId });
      db.exec("COMMIT");
      return { seq: item.seq, ok: true };
    } finally {
      if (db.inTransaction) db.exec("ROLLBACK");
    }
  } catch (e) {
    return fail(item, (e as Error).message);
  } finally {
    db?.close();
  }
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
