import path from "node:path";
import type Database from "better-sqlite3";
import { type Catalog, catalogStatement } from "../catalog.js";
import { permissionDenied, type TenantDbError } from "../errors.js";

/**
 * What a connection has attached, as SQLite reports it (`PRAGMA database_list`), and what a statement
 * would write there, as its own bytecode says (EXPLAIN). Nothing here keeps a list of its own: a shadow
 * map of aliases drifts from SQLite (it once folded `"K"`, the Kelvin sign, to `k`, which SQLite does not).
 */

export interface AttachedDatabase {
  /** SQLite's schema index: 2 and up for attached databases. */
  seq: number;
  alias: string;
  file: string;
}

export function listAttached(conn: Database.Database): AttachedDatabase[] {
  const rows = conn.prepare("PRAGMA database_list").raw(true).all() as [number | bigint, string, string][];
  return rows
    .filter(([seq]) => Number(seq) >= 2)
    .map(([seq, alias, file]) => ({ seq: Number(seq), alias, file }));
}

/** Identifies an attach set: verdicts on bytecode hold only while schema indexes mean the same files. */
export function attachSignature(attached: readonly AttachedDatabase[]): string {
  return attached.map((a) => `${a.seq}\0${a.alias}\0${a.file}`).join("\n");
}

// Opcodes that write the database their schema index names (p1, or p3 for OpenWrite).
const WRITING_OPCODES: Record<string, (p1: number, p2: number, p3: number) => number | null> = {
  Transaction: (p1, p2) => (p2 > 0 ? p1 : null),
  OpenWrite: (_p1, _p2, p3) => p3,
  Vacuum: (p1) => p1,
  IncrVacuum: (p1) => p1,
  JournalMode: (p1) => p1,
  SetCookie: (p1) => p1,
  CreateBtree: (p1) => p1,
  Destroy: (_p1, _p2, p3) => p3,
  Clear: (_p1, p2) => p2,
};

/**
 * Whether the statement's program would write an attached database (schema index 2 and up). `temp` (1)
 * is the connection's own scratch space, kept in memory, and may be written. Nested statements that
 * virtual tables or pragma functions run are not in this program: the guard refuses those by name, and
 * the session verifies every attached database's schema afterwards.
 */
export function writesAttached(conn: Database.Database, sql: string): boolean {
  const program = conn.prepare(`EXPLAIN ${sql}`).raw(true).all() as unknown[][];
  return program.some((op) => {
    const schemaOf = WRITING_OPCODES[String(op[1])];
    return schemaOf !== undefined && (schemaOf(Number(op[2]), Number(op[3]), Number(op[4])) ?? 0) >= 2;
  });
}

export function attachedReadOnly(): TenantDbError {
  return permissionDenied("attached databases are read-only; write to the session's own database only");
}

export interface AttachedRow {
  id: number;
  name: string;
  uuid: string;
  path: string;
  group_id: number;
  group_name: string;
  allow_attach: number;
}

/**
 * The catalog row of an attached file, found from the file itself (database files are named `<id>-<name>.db`)
 * and confirmed by its path: a database destroyed since has no row, one created again has another path.
 */
export function catalogRowOfFile(catalog: Catalog, root: string, file: string): AttachedRow | undefined {
  const id = /^(\d+)-/.exec(path.basename(file))?.[1];
  if (id === undefined) return undefined;
  const stmt = catalogStatement(
    catalog,
    `SELECT d.id, d.name, d.uuid, d.path, d.group_id, g.name AS group_name, d.allow_attach
     FROM databases d JOIN groups g ON g.id = d.group_id WHERE d.id = ?`,
  );
  const row = stmt.get(Number(id)) as AttachedRow | undefined;
  return row && path.join(root, row.path) === file ? row : undefined;
}
