import path from "node:path";
import Database from "better-sqlite3";
import type { Engine } from "../../engine/index.js";
import { describeDiff } from "../../engine/schema/ddl.js";
import { readDesiredSchema } from "../../engine/schema/desired.js";
import { diffSchemas } from "../../engine/schema/diff.js";
import { readSchema } from "../../engine/schema/read.js";
import { tempEngine } from "../helpers.js";

/** Shared by the schema suites: a schema database with children holding rows, read from the files. */

export const CHILDREN = ["tenant-a", "tenant-b", "tenant-c"];

type Seed = (child: string, i: number) => string | undefined;

/** Schema database "app" with CHILDREN, in an engine of its own. */
export async function fleetWith(current: string, seed: Seed) {
  const engine = await tempEngine();
  engine.createGroup("default");
  await fleetIn(engine, "app", current, seed, CHILDREN);
  return engine;
}

/** A schema database and three children in a shared engine; returns the children's names. */
export async function fleetIn(
  engine: Engine,
  parent: string,
  current: string,
  seed: Seed,
  children?: string[],
) {
  const names = children ?? ["a", "b", "c"].map((x) => `${parent}-${x}`);
  await engine.createDatabase(parent, { type: "schema" });
  await engine.migrate(parent, current);
  await engine.createChildren(parent, names);
  for (const [i, child] of names.entries()) {
    const sql = seed(child, i);
    if (sql) await engine.execute(child, sql);
  }
  return names;
}

export function fileOf(engine: { dir: string; getDatabase(n: string): { path: string } }, name: string) {
  const p = engine.getDatabase(name).path;
  return path.isAbsolute(p) ? p : path.join(engine.dir, p);
}

/** Opens the database's file itself, never through the engine. */
export function onFile<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file, { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Rows of every user table, keyed by table, as JSON text per row (rowid included where there is one). */
export function rowsOf(file: string): Record<string, string[]> {
  return onFile(file, (db) => {
    const out: Record<string, string[]> = {};
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '_tenantdb_'",
      )
      .pluck()
      .all() as string[];
    for (const t of tables)
      out[t] = (db.prepare(`SELECT * FROM "${t}"`).all() as object[]).map((r) => JSON.stringify(r));
    return out;
  });
}

export function checks(file: string): { foreignKeys: unknown[]; integrity: string[] } {
  return onFile(file, (db) => ({
    foreignKeys: db.prepare("PRAGMA foreign_key_check").all(),
    integrity: db.prepare("PRAGMA integrity_check").pluck().all() as string[],
  }));
}

/** How the file's schema differs from the desired DDL, structurally; empty when equal. */
export function differencesFrom(file: string, desired: string): string[] {
  const want = readDesiredSchema(desired);
  const have = onFile(file, (db) => readSchema(db));
  return describeDiff(diffSchemas(have, want));
}

/**
 * What SQLite's own pragmas say of every table and index, and which views and triggers exist: read with
 * nothing of the engine's, so a shortcoming of its schema reader cannot hide a difference.
 */
export function pragmaShape(db: Database.Database): Record<string, unknown> {
  const all = (sql: string, ...args: unknown[]) => db.prepare(sql).all(...args) as Record<string, unknown>[];
  const objects = all(
    "SELECT type, lower(name) AS name, lower(tbl_name) AS tbl FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' AND name != '_tenantdb_' ORDER BY type, lower(name)",
  );
  const shape: Record<string, unknown> = { objects };
  for (const { name } of objects.filter((o) => o.type === "table")) {
    const t = String(name);
    const indexes = all("SELECT * FROM pragma_index_list(?) ORDER BY name", t).map((i) => ({
      // An automatic index is named after its table, which a rebuild renames: its columns identify it.
      name: String(i.origin) === "c" ? String(i.name).toLowerCase() : String(i.origin),
      unique: i.unique,
      partial: i.partial,
      columns: all("SELECT seqno, cid, name, desc, coll, key FROM pragma_index_xinfo(?)", String(i.name)),
    }));
    shape[t] = {
      columns: all(
        'SELECT cid, lower(name) AS name, upper(type) AS type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)',
        t,
      ),
      indexes: indexes.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      foreignKeys: all(
        'SELECT id, seq, lower("table") AS "table", "from", "to", on_update, on_delete, "match" FROM pragma_foreign_key_list(?)',
        t,
      ),
      withoutRowid: all("SELECT wr FROM pragma_table_list WHERE name = ?", t),
    };
  }
  return shape;
}

/** The desired DDL loaded into a database of its own, its pragma shape read back (see pragmaShape). */
export function desiredShape(desired: string): Record<string, unknown> {
  const db = new Database(":memory:");
  try {
    db.exec(desired);
    return pragmaShape(db);
  } finally {
    db.close();
  }
}
