/**
 * Binds arguments into a statement's text as SQL literals. A migration job applies the same statements to
 * every database of a fleet, resumes them after a crash and keeps them in its history, so a parameterised
 * statement (a migration tool's `INSERT INTO __drizzle_migrations … VALUES (?, ?)`) is recorded with its
 * values written in: the text is then the whole statement, its checksum covers the values, and every
 * database applies exactly the same thing.
 *
 * Parameters are numbered as SQLite numbers them (sqlite3ExprAssignVarNumber): `?` takes the next number,
 * `?NNN` takes NNN, and a name takes the next number the first time it appears and the same one after.
 */

import { invalidArgument } from "../errors.js";
import type { SqlArgs, SqlValue } from "../query/values.js";
import type { Token } from "./tokenize.js";

export function bindLiterals(sql: string, tokens: readonly Token[], args: SqlArgs): string {
  const named = !Array.isArray(args);
  const numbers = new Map<string, number>();
  let highest = 0;
  const used = new Set<number>();
  let out = "";
  let at = 0;
  for (const token of tokens) {
    if (token.kind !== "variable") continue;
    let value: SqlValue | undefined;
    if (token.text === "?" || /^\?\d+$/.test(token.text)) {
      if (named)
        throw invalidArgument(`parameter ${token.text} is positional, but named arguments were given`);
      const n = token.text === "?" ? highest + 1 : Number(token.text.slice(1));
      highest = Math.max(highest, n);
      used.add(n);
      value = (args as SqlValue[])[n - 1];
      if (value === undefined) throw invalidArgument(`no value given for parameter ?${n}`);
    } else {
      let n = numbers.get(token.text);
      if (n === undefined) {
        n = ++highest;
        numbers.set(token.text, n);
      }
      used.add(n);
      value = named ? namedValue(args as Record<string, SqlValue>, token.text) : (args as SqlValue[])[n - 1];
      if (value === undefined) throw invalidArgument(`no value given for parameter ${token.text}`);
    }
    out += sql.slice(at, token.start) + literalOf(value);
    at = token.end;
  }
  if (Array.isArray(args) && args.length > highest) {
    throw invalidArgument(`${args.length} arguments were given for ${highest} parameter(s)`);
  }
  return out + sql.slice(at);
}

/** Named arguments may be keyed with their prefix (`:id`, as Hrana sends them) or without it (`id`). */
function namedValue(args: Record<string, SqlValue>, name: string): SqlValue | undefined {
  return Object.hasOwn(args, name) ? args[name] : args[name.slice(1)];
}

/** A literal SQLite reads back as exactly the value that binding it would have stored. */
export function literalOf(value: SqlValue | boolean): string {
  if (value === null) return "NULL";
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "bigint") return value < 0n ? `(${value})` : `${value}`;
  if (typeof value === "number") return realLiteral(value);
  if (typeof value === "string") {
    // A NUL cannot stand inside SQL text; the bytes, cast back to text, carry it.
    if (value.includes("\0")) return `CAST(X'${Buffer.from(value, "utf8").toString("hex")}' AS TEXT)`;
    return `'${value.replaceAll("'", "''")}'`;
  }
  if (value instanceof Uint8Array) return `X'${Buffer.from(value).toString("hex")}'`;
  throw invalidArgument(`cannot bind a value of type ${typeof value}`);
}

/** Numbers bind as REAL (sqlite3_bind_double), so the literal must read as a REAL too: `1` is `1.0`. */
function realLiteral(n: number): string {
  if (Number.isNaN(n)) return "NULL"; // SQLite stores a bound NaN as NULL
  if (!Number.isFinite(n)) return n > 0 ? "9e999" : "(-9e999)";
  const text = String(n); // the shortest text that reads back as exactly n
  const real = /[.eE]/.test(text) ? text : `${text}.0`;
  return n < 0 || Object.is(n, -0) ? `(${Object.is(n, -0) ? "-0.0" : real})` : real;
}
