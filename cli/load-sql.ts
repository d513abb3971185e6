import fs from "node:fs";
import Database from "better-sqlite3";
import { invalidArgument } from "../engine/errors.js";
import type { Engine } from "../engine/index.js";
import { splitStatements } from "../engine/sql/statements.js";
import { dumpSql } from "./dump-sql.js";

/**
 * Runs a dump (or any SQL script) into a database, all or nothing: one transaction on a plain database,
 * one migration job on a schema database. The dump's own BEGIN/COMMIT and foreign-key pragma are dropped
 * because the load brings its own transaction. Returns how many statements ran.
 */
export async function loadSql(engine: Engine, name: string, sql: string): Promise<number> {
  const statements = splitStatements(sql).filter(
    (s) => s.kind !== "transaction" && !(s.kind === "pragma" && s.pragma.name === "foreign_keys"),
  );
  if (statements.length === 0) return 0;
  const body = statements.map((s) => s.sql).join(";\n");
  const session = engine.openSession(name);
  try {
    if (engine.getDatabase(name).type === "schema") {
      await session.execute(body);
      return statements.length;
    }
    await session.execute("BEGIN");
    try {
      await session.execute(body);
      await session.execute("COMMIT");
    } catch (e) {
      if (session.inTransaction) await session.execute("ROLLBACK");
      throw e;
    }
    return statements.length;
  } finally {
    session.close();
  }
}

/** A dump of a database of the data directory, read through a session (its rules apply). */
export async function dumpDatabase(
  engine: Engine,
  name: string,
  emit: (line: string) => void,
  table?: string,
) {
  const session = engine.openSession(name);
  try {
    await dumpSql(async (sql) => (await session.execute(sql))[0]?.rows ?? [], emit, table);
  } finally {
    session.close();
  }
}

/** The SQL text of a file to import: a .sql script as is, a SQLite database file dumped first. */
export async function readImportFile(file: string): Promise<string> {
  let header: Buffer;
  try {
    const fd = fs.openSync(file, "r");
    header = Buffer.alloc(16);
    fs.readSync(fd, header, 0, 16, 0);
    fs.closeSync(fd);
  } catch (e) {
    throw invalidArgument(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (header.toString("latin1") !== "SQLite format 3\0") return fs.readFileSync(file, "utf8");
  const source = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const lines: string[] = [];
    await dumpSql(
      (sql) => source.prepare(sql).raw(true).safeIntegers(true).all() as never,
      (l) => lines.push(l),
    );
    return lines.join("\n");
  } catch (e) {
    throw invalidArgument(`cannot read ${file} as a SQLite database: ${(e as Error).message}`);
  } finally {
    source.close();
  }
}
