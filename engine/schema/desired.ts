import path from "node:path";
import Database from "better-sqlite3";
import type { DatabaseRow } from "../catalog.js";
import type { EngineContext } from "../context.js";
import { invalidArgument } from "../errors.js";
import { splitStatements } from "../sql/statements.js";
import { STAMP_TABLE } from "../stamp.js";
import { keyOf, type Schema } from "./model.js";
import { readSchema } from "./read.js";
import { loadSchema } from "./rename.js";

/**
 * Reads a desired schema: CREATE TABLE, INDEX, VIEW and TRIGGER statements only, checked by SQLite itself
 * (loaded into an in-memory database, as Atlas's "dev database" does) and read back as structure.
 */
export function readDesiredSchema(sql: string): Schema {
  if (typeof sql !== "string") throw invalidArgument("a schema must be SQL text");
  const statements = splitStatements(sql);
  for (const [i, s] of statements.entries()) {
    const where = `schema statement ${i + 1}`;
    if (s.kind !== "ddl" || s.ddl.action !== "create" || s.ddl.object === "virtual table") {
      throw invalidArgument(
        `${where}: a schema holds CREATE TABLE, CREATE INDEX, CREATE VIEW and CREATE TRIGGER statements only`,
      );
    }
    if (s.ddl.temporary || (s.ddl.schema !== undefined && s.ddl.schema.toLowerCase() !== "main"))
      throw invalidArgument(
        `${where}: a schema's objects live in the database itself, not in "${s.ddl.schema ?? "temp"}"`,
      );
    const name = s.ddl.name.toLowerCase();
    if (name.startsWith("sqlite_") || name === STAMP_TABLE)
      throw invalidArgument(`${where}: the name "${s.ddl.name}" is reserved`);
  }
  const db = loadSchema([]);
  for (const [i, s] of statements.entries()) {
    try {
      db.exec(s.sql);
    } catch (e) {
      db.close();
      throw invalidArgument(`schema statement ${i + 1}: ${(e as Error).message}`);
    }
  }
  try {
    const schema = readSchema(db);
    checkForeignKeys(schema);
    return schema;
  } finally {
    db.close();
  }
}

/** SQLite accepts a REFERENCES to nothing and fails only when rows arrive ("foreign key mismatch"). */
function checkForeignKeys(schema: Schema): void {
  for (const t of schema.tables.values()) {
    for (const fk of t.foreignKeys) {
      const parent = schema.tables.get(keyOf(fk.table));
      const missing = parent
        ? fk.to.find((c) => !parent.columns.some((p) => keyOf(p.name) === keyOf(c)))
        : undefined;
      if (!parent || missing !== undefined || (fk.to.length === 0 && !parent.columns.some((c) => c.pk > 0))) {
        throw invalidArgument(
          `the schema's foreign keys are inconsistent: "${t.name}" references ${fk.table}(${fk.to.join(", ")}), which does not exist`,
        );
      }
    }
  }
}

/** Checks a desired schema without a data directory: INVALID_ARGUMENT naming the statement, or nothing. */
export function validateSchema(sql: string): void {
  readDesiredSchema(sql);
}

/** The schema of a database of the data directory, read from its file. */
export function readDatabaseSchema(ctx: EngineContext, row: DatabaseRow): Schema {
  const db = openReadOnly(ctx, row.path);
  try {
    return readSchema(db);
  } finally {
    db.close();
  }
}

export function openReadOnly(ctx: EngineContext, relativePath: string): Database.Database {
  return new Database(path.join(ctx.layout.root, relativePath), {
    readonly: true,
    fileMustExist: true,
    timeout: 30_000,
  });
}
