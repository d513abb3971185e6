import { invalidArgument } from "../errors.js";

/** Values as they leave SQLite: integers as bigint (exact), reals as number, text, blobs, NULL. */
export type SqlValue = null | bigint | number | string | Uint8Array;

export type SqlArgs = SqlValue[] | Record<string, SqlValue>;

export interface QueryResult {
  columns: string[];
  /** Declared column types, where SQLite knows them. */
  columnTypes: (string | null)[];
  rows: SqlValue[][];
  rowsAffected: number;
  lastInsertRowid: bigint | null;
}

/** better-sqlite3 binds named parameters from an object without their prefix (`:id` → `{ id }`). */
export function toBindable(args: SqlArgs | undefined): unknown {
  if (args === undefined) return undefined;
  if (Array.isArray(args)) return args.map(checkValue);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) out[key.replace(/^[:@$]/, "")] = checkValue(value);
  return out;
}

function checkValue(v: unknown): unknown {
  if (v === null || typeof v === "bigint" || typeof v === "number" || typeof v === "string") return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === "boolean") return v ? 1 : 0;
  throw invalidArgument(`cannot bind a value of type ${typeof v}`);
}

/** A JSON-safe form for the CLI: integers that fit stay numbers, larger ones become strings. */
export function toJsonValue(v: SqlValue): unknown {
  if (typeof v === "bigint") {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  if (v instanceof Uint8Array) return { base64: Buffer.from(v).toString("base64") };
  return v;
}
