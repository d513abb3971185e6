import Database from "better-sqlite3";
import { splitStatements } from "../sql/statements.js";
import { isOperator, tokenize } from "../sql/tokenize.js";
import type { Rename } from "./diff.js";
import { keyOf, type Schema } from "./model.js";
import { readSchema } from "./read.js";
import { meaningfulTokens, parseCreateTable, quoteName } from "./text.js";

const HINT = /renamed\s+from\s+(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|([^\s,;)*]+))/i;

/**
 * The renames the desired DDL declares in comments: `-- renamed from old_name` before a CREATE TABLE (or
 * in its head) renames the table; on a column's line, after its definition, it renames the column.
 * `options` adds renames by name: `{ "new_table": "old_table", "table.new_column": "old_column" }`.
 */
export function declaredRenames(desiredSql: string, options: Record<string, string> = {}): Rename[] {
  const out: Rename[] = [];
  const comments = tokenize(desiredSql).filter((t) => t.kind === "comment");
  const hintIn = (from: number, to: number) => {
    for (const c of comments) {
      if (c.start < from || c.end > to) continue;
      const m = HINT.exec(c.text);
      if (m) return (m[1]?.replace(/""/g, '"') ?? m[2] ?? m[3] ?? m[4]) as string;
    }
    return undefined;
  };
  let previousEnd = 0;
  for (const s of splitStatements(desiredSql)) {
    const ddl = s.kind === "ddl" ? s.ddl : undefined;
    if (ddl?.action === "create" && ddl.object === "table") {
      const open = meaningfulTokens(s.sql).find((t) => isOperator(t, "("));
      const tableHint = hintIn(previousEnd, s.start + (open?.start ?? 0));
      if (tableHint) out.push({ table: ddl.name, from: tableHint });
      for (const col of parseCreateTable(s.sql).columns) {
        const hint = hintIn(s.start + col.start, s.start + col.end);
        if (hint) out.push({ table: ddl.name, column: col.name, from: hint });
      }
    }
    previousEnd = s.end;
  }
  for (const [to, from] of Object.entries(options)) {
    const dot = to.indexOf(".");
    out.push(dot < 0 ? { table: to, from } : { table: to.slice(0, dot), column: to.slice(dot + 1), from });
  }
  return out;
}

/**
 * The declared renames that apply to `current` on the way to `desired`: the old name exists and the new one
 * does not yet (once applied, a hint left in the file is simply satisfied, so applying twice is no change).
 */
export function applicableRenames(current: Schema, desired: Schema, declared: Rename[]): Rename[] {
  const out: Rename[] = [];
  const tableNow = new Map<string, string>(); // new table name → current name
  for (const r of declared.filter((d) => d.column === undefined)) {
    const from = current.tables.get(keyOf(r.from));
    const to = desired.tables.get(keyOf(r.table));
    if (from && to && !current.tables.has(keyOf(r.table)) && !desired.tables.has(keyOf(r.from))) {
      out.push({ table: to.name, from: from.name });
      tableNow.set(keyOf(to.name), from.name);
    }
  }
  for (const r of declared) {
    if (r.column === undefined) continue;
    const want = desired.tables.get(keyOf(r.table));
    const have = current.tables.get(keyOf(tableNow.get(keyOf(r.table)) ?? r.table));
    const hasColumn = (cols: { name: string }[] | undefined, name: string) =>
      cols?.some((c) => keyOf(c.name) === keyOf(name)) ?? false;
    if (
      want &&
      have &&
      hasColumn(have.columns, r.from) &&
      !hasColumn(have.columns, r.column) &&
      hasColumn(want.columns, r.column) &&
      !hasColumn(want.columns, r.from)
    ) {
      out.push({ table: want.name, column: r.column, from: r.from });
    }
  }
  return out;
}

/** The ALTER statements of renames; table renames first, so column renames name the new table. */
export function renameStatements(renames: Rename[]): string[] {
  const tables = renames.filter((r) => r.column === undefined);
  const columns = renames.filter((r) => r.column !== undefined);
  return [
    ...tables.map((r) => `ALTER TABLE ${quoteName(r.from)} RENAME TO ${quoteName(r.table)}`),
    ...columns.map(
      (r) =>
        `ALTER TABLE ${quoteName(r.table)} RENAME COLUMN ${quoteName(r.from)} TO ${quoteName(r.column as string)}`,
    ),
  ];
}

/** Loads a schema into a new in-memory database: SQLite checks it and can then be asked about it. */
export function loadSchema(statements: string[]): Database.Database {
  const db = new Database(":memory:");
  try {
    for (const sql of statements) db.exec(sql);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Every CREATE of a schema, in an order SQLite accepts. */
export function schemaStatements(schema: Schema): string[] {
  return [
    ...[...schema.tables.values()].map((t) => t.sql),
    ...[...schema.indexes.values()].map((i) => i.sql),
    ...[...schema.views.values()].map((v) => v.sql),
    ...[...schema.triggers.values()].map((t) => t.sql),
  ];
}

/** `current` as SQLite makes it after the renames: what the rest of the plan is diffed from. */
export function afterRenames(current: Schema, renames: Rename[]): Schema {
  if (renames.length === 0) return current;
  const db = loadSchema(schemaStatements(current));
  try {
    for (const sql of renameStatements(renames)) db.exec(sql);
    return readSchema(db);
  } finally {
    db.close();
  }
}
