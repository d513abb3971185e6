import type { SqlValue } from "../engine/query/values.js";

/** Runs one read and returns its rows: a session's execute, or a plain SQLite file opened read-only. */
export type ReadQuery = (sql: string) => Promise<SqlValue[][]> | SqlValue[][];

/**
 * A database as SQL text, in the order sqlite3's .dump uses: each table's CREATE and its rows, then indexes,
 * triggers and views. The engine's stamp table and SQLite's internal tables stay out: they are rebuilt by
 * whatever loads the dump. With `table`, only that table and what hangs off it.
 */
export async function dumpSql(query: ReadQuery, emit: (line: string) => void, table?: string): Promise<void> {
  const filter = table === undefined ? "" : ` AND tbl_name = ${quoteText(table)}`;
  const objects = (await query(
    `SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name != '_tenantdb_'${filter} ORDER BY type != 'table', rowid`,
  )) as [string, string, string][];
  emit("PRAGMA foreign_keys=OFF;");
  emit("BEGIN TRANSACTION;");
  for (const [type, name, sql] of objects) {
    emit(`${sql};`);
    if (type !== "table" || /^CREATE\s+VIRTUAL\s/i.test(sql)) continue;
    const columns = (
      (await query(
        `SELECT name FROM pragma_table_xinfo(${quoteText(name)}) WHERE hidden = 0 ORDER BY cid`,
      )) as [string][]
    ).map(([c]) => quoteIdentifier(c));
    const list = columns.join(",");
    for (const row of await query(`SELECT ${list} FROM ${quoteIdentifier(name)}`)) {
      emit(`INSERT INTO ${quoteIdentifier(name)}(${list}) VALUES(${row.map(sqlLiteral).join(",")});`);
    }
  }
  emit("COMMIT;");
}

export function sqlLiteral(v: SqlValue): string {
  if (v === null) return "NULL";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NULL";
    if (!Number.isFinite(v)) return v > 0 ? "1e999" : "-1e999";
    // A real stays a real when read back: 1.0, not 1.
    return Number.isInteger(v) ? v.toFixed(1) : String(v);
  }
  if (v instanceof Uint8Array) return `X'${Buffer.from(v).toString("hex")}'`;
  return quoteText(v);
}

export function quoteText(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export function quoteIdentifier(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}
