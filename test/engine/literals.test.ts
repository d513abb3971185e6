import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { SqlValue } from "../../engine/index.js";
import { bindLiterals } from "../../engine/sql/literals.js";
import { splitStatements } from "../../engine/sql/statements.js";
import { rngFor } from "../helpers.js";

/**
 * A parameterised statement recorded in a migration has its values written in as literals; SQLite must
 * read each literal back as exactly the value binding it stores: same type, same bytes, same number.
 */

const EDGES: SqlValue[] = [
  null,
  0n,
  -1n,
  9223372036854775807n,
  -9223372036854775808n,
  0,
  -0,
  1,
  -1.5,
  0.1,
  1e21,
  -1e-300,
  5e-324,
  Number.MAX_VALUE,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  "",
  "it's",
  "''; DROP TABLE t; --",
  "a\0b",
  "Ｋ😀\u212a",
  "?1 :x",
  new Uint8Array([]),
  new Uint8Array([0, 1, 255]),
];

function randomValue(next: () => number): SqlValue {
  const pick = Math.floor(next() * 5);
  if (pick === 0) return BigInt(Math.floor((next() - 0.5) * 2 ** 53)) * BigInt(Math.floor(next() * 1024) + 1);
  if (pick === 1) return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
  if (pick === 2)
    return Array.from({ length: Math.floor(next() * 8) }, () =>
      String.fromCodePoint(Math.floor(next() * 0x2ffff) % 0xd800),
    ).join("");
  if (pick === 3)
    return new Uint8Array(Array.from({ length: Math.floor(next() * 6) }, () => Math.floor(next() * 256)));
  return EDGES[Math.floor(next() * EDGES.length)] as SqlValue;
}

describe("arguments written in as literals", () => {
  const db = new Database(":memory:");
  db.defaultSafeIntegers(true);
  const probe = (sql: string, args?: unknown[]) =>
    db
      .prepare(sql)
      .raw(true)
      .get(...(args ?? [])) as unknown[];
  const bind = (v: SqlValue) => (v instanceof Uint8Array ? Buffer.from(v) : v);

  it("reads back exactly what binding stores, for edge values and 3,000 generated ones (seed 1337)", () => {
    const next = rngFor(1337);
    const values = [...EDGES, ...Array.from({ length: 3000 }, () => randomValue(next))];
    for (const value of values) {
      const sql = "SELECT typeof(?), quote(?), hex(?), ?";
      const [statement] = splitStatements(sql);
      const literal = bindLiterals(sql, statement?.tokens ?? [], [value, value, value, value]);
      const bound = bind(value);
      expect(probe(literal), `value ${String(value)} as ${literal}`).toEqual(
        probe(sql, [bound, bound, bound, bound]),
      );
    }
  });

  it("numbers parameters as SQLite does: ?, ?NNN and names reused by name", () => {
    const sql = "SELECT ?, ?5, :a, ?, :a, @b";
    const [s] = splitStatements(sql);
    expect(bindLiterals(sql, s?.tokens ?? [], [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n])).toBe(
      "SELECT 1, 5, 6, 7, 6, 8",
    );
    const named = "INSERT INTO t VALUES (:id, @name, $id)";
    const [n] = splitStatements(named);
    expect(bindLiterals(named, n?.tokens ?? [], { ":id": 1n, name: "x", $id: 2n })).toBe(
      "INSERT INTO t VALUES (1, 'x', 2)",
    );
  });

  it("refuses missing, surplus and mismatched arguments", () => {
    const sql = "SELECT ?, ?";
    const [s] = splitStatements(sql);
    expect(() => bindLiterals(sql, s?.tokens ?? [], [1n])).toThrow(/no value given for parameter \?2/);
    expect(() => bindLiterals(sql, s?.tokens ?? [], [1n, 2n, 3n])).toThrow(/3 arguments were given/);
    expect(() => bindLiterals(sql, s?.tokens ?? [], { a: 1n })).toThrow(/positional/);
  });
});
