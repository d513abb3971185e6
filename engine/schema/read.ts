import type Database from "better-sqlite3";
import { STAMP_TABLE } from "../stamp.js";
import {
  type Column,
  type Definition,
  type ForeignKey,
  type Index,
  keyOf,
  type Schema,
  type Table,
} from "./model.js";
import { canonicalSql, parseCreateIndex, parseCreateTable, quoteName } from "./text.js";

/**
 * Reads a database's schema with SQLite's own pragmas (`table_xinfo`, `index_list`/`index_xinfo`,
 * `foreign_key_list`, `table_list`) and `sqlite_schema`. SQLite's internal tables and the engine's stamp
 * are not part of a user's schema.
 */
export function readSchema(db: Database.Database): Schema {
  const objects = db
    .prepare(
      `SELECT type, name, tbl_name AS tableName, sql FROM main.sqlite_schema
       WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND tbl_name != ? AND sql IS NOT NULL ORDER BY rowid`,
    )
    .all(STAMP_TABLE) as { type: string; name: string; tableName: string; sql: string }[];
  const schema: Schema = { tables: new Map(), indexes: new Map(), views: new Map(), triggers: new Map() };
  for (const o of objects) {
    if (o.type === "table") schema.tables.set(keyOf(o.name), readTable(db, o.name, o.sql));
    else if (o.type === "index") schema.indexes.set(keyOf(o.name), readIndex(db, o.name, o.tableName, o.sql));
    else {
      const def: Definition = {
        name: o.name,
        table: o.tableName,
        canonical: canonicalSql(o.sql),
        sql: o.sql,
      };
      (o.type === "view" ? schema.views : schema.triggers).set(keyOf(o.name), def);
    }
  }
  return schema;
}

interface XInfo {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  hidden: number;
}

function readTable(db: Database.Database, name: string, sql: string): Table {
  const q = quoteName(name);
  const clauses = parseCreateTable(sql);
  const byName = new Map(clauses.columns.map((c) => [keyOf(c.name), c]));
  const columns: Column[] = (db.prepare(`PRAGMA main.table_xinfo(${q})`).all() as XInfo[]).map((c) => {
    const parsed = byName.get(keyOf(c.name));
    return {
      name: c.name,
      type: canonicalType(c.type),
      notNull: c.notnull === 1,
      default: c.dflt_value === null ? null : canonicalSql(c.dflt_value),
      pk: c.pk,
      collation: parsed?.collation ?? null,
      generated:
        c.hidden === 2 || c.hidden === 3 ? { expr: parsed?.generated ?? "", stored: c.hidden === 3 } : null,
      source: parsed?.source ?? quoteName(c.name),
    };
  });
  const list = db.prepare("PRAGMA main.table_list").all() as { name: string; wr: number; strict: number }[];
  const info = list.find((t) => t.name === name);
  const uniques = (db.prepare(`PRAGMA main.index_list(${q})`).all() as { name: string; origin: string }[])
    .filter((i) => i.origin === "u")
    .map((i) => indexKey(db, i.name))
    .sort();
  return {
    name,
    columns,
    autoincrement: clauses.columns.some((c) => c.autoincrement),
    withoutRowid: info?.wr === 1,
    strict: info?.strict === 1,
    uniques,
    checks: [...clauses.checks, ...clauses.columns.flatMap((c) => c.checks)].sort(),
    foreignKeys: readForeignKeys(db, q),
    sql,
  };
}

/** `varchar ( 10 )` and `VARCHAR(10)` are one type. */
function canonicalType(type: string): string {
  return type
    .trim()
    .toUpperCase()
    .replace(/\s+/g, " ")
    .replace(/\s*\(\s*/g, "(")
    .replace(/\s*,\s*/g, ",")
    .replace(/\s*\)/g, ")");
}

/** The key columns of an index made by a UNIQUE constraint, with their collation and order. */
function indexKey(db: Database.Database, index: string): string {
  const cols = db.prepare(`PRAGMA main.index_xinfo(${quoteName(index)})`).all() as {
    name: string | null;
    key: number;
    desc: number;
    coll: string;
  }[];
  return cols
    .filter((c) => c.key === 1)
    .map(
      (c) =>
        `${c.name}${c.coll.toUpperCase() !== "BINARY" ? ` COLLATE ${c.coll.toUpperCase()}` : ""}${c.desc ? " DESC" : ""}`,
    )
    .join(", ");
}

function readForeignKeys(db: Database.Database, quotedTable: string): ForeignKey[] {
  const rows = db.prepare(`PRAGMA main.foreign_key_list(${quotedTable})`).all() as {
    id: number;
    seq: number;
    table: string;
    from: string;
    to: string | null;
    on_update: string;
    on_delete: string;
  }[];
  const byId = new Map<number, ForeignKey>();
  for (const r of rows.sort((a, b) => a.id - b.id || a.seq - b.seq)) {
    let fk = byId.get(r.id);
    if (!fk) {
      fk = { columns: [], table: r.table, to: [], onUpdate: r.on_update, onDelete: r.on_delete };
      byId.set(r.id, fk);
    }
    fk.columns.push(r.from);
    if (r.to !== null) fk.to.push(r.to);
  }
  return [...byId.values()];
}

function readIndex(db: Database.Database, name: string, table: string, sql: string): Index {
  const unique = db.prepare(`PRAGMA main.index_list(${quoteName(table)})`).all() as {
    name: string;
    unique: number;
  }[];
  const { key, where } = parseCreateIndex(sql);
  return { name, table, unique: unique.find((i) => i.name === name)?.unique === 1, key, where, sql };
}
