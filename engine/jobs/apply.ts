import Database from "better-sqlite3";
import { readStamp, writeStamp } from "../stamp.js";
import type { ItemResult, WorkItem, WorkOp } from "./protocol.js";

/**
 * Applies a migration to one database in one transaction. The dry run rolls back; the run commits the
 * statements together with the new stamp, so a database either carries version N with its changes or
 * neither — and a resumed job can tell, from the file alone, that there is nothing left to do.
 */
export function applyToDatabase(
  item: WorkItem,
  op: WorkOp,
  job: { jobId: number; fromVersion: number; version: number; statements: string[]; failRunOn?: string[] },
): ItemResult {
  let db: Database.Database | undefined;
  try {
    db = new Database(item.path, { fileMustExist: true, timeout: 30_000 });
    // FK actions must not fire while a migration rebuilds a table (DROP TABLE runs an implicit DELETE that
    // cascades); and the pragma is a no-op inside a transaction, so it goes first. Violations are checked
    // before commit instead.
    db.pragma("foreign_keys = OFF");
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
      const violationsBefore = foreignKeyViolations(db);
      for (const [i, sql] of job.statements.entries()) {
        try {
          const stmt = db.prepare(sql);
          if (stmt.reader) stmt.all();
          else stmt.run();
        } catch (e) {
          return fail(item, `statement ${i + 1} (${abbreviate(sql)}): ${(e as Error).message}`);
        }
      }
      if (foreignKeyViolations(db) > violationsBefore) {
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
  // Cheap when no table declares a foreign key, which is the common case.
  const hasFk = db
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%REFERENCES%' LIMIT 1")
    .get();
  if (!hasFk) return 0;
  return db.prepare("PRAGMA foreign_key_check").all().length;
}

function fail(item: WorkItem, error: string): ItemResult {
  return { seq: item.seq, ok: false, error };
}

function abbreviate(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}
