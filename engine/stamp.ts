import type Database from "better-sqlite3";

/**
 * The reserved table inside every schema database and child: the schema version the file carries and the
 * job that put it there. It is written in the same transaction as a migration, so a file's own contents
 * say whether a job reached it — the catalog's copy is only a summary.
 */
export const STAMP_TABLE = "_tenantdb_";

export interface Stamp {
  version: number;
  jobId: number | null;
}

export function createStampTable(db: Database.Database): void {
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${STAMP_TABLE} (key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;
     INSERT OR IGNORE INTO ${STAMP_TABLE} (key, value) VALUES ('schema_version', 0);`,
  );
}

export function readStamp(db: Database.Database): Stamp {
  const rows = db.prepare(`SELECT key, value FROM ${STAMP_TABLE}`).raw(true).all() as [string, unknown][];
  const map = new Map(rows.map(([k, v]) => [k, v === null ? null : Number(v)]));
  return { version: map.get("schema_version") ?? 0, jobId: map.get("job_id") ?? null };
}

/** The stamp's write as SQL text, so a job runs it in one exec with its COMMIT. */
export function stampSql(stamp: Stamp): string {
  const literal = (n: number | null) => {
    if (n === null) return "NULL";
    if (!Number.isSafeInteger(n)) throw new Error(`a stamp holds integers, not ${n}`);
    return String(n);
  };
  return `INSERT OR REPLACE INTO ${STAMP_TABLE} (key, value) VALUES ('schema_version', ${literal(stamp.version)}), ('job_id', ${literal(stamp.jobId)})`;
}
