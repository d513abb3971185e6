import type { QueryResult, SqlValue } from "../../engine/index.js";
import type { StmtResult, WireValue } from "./protocol.js";

/**
 * Values between SQLite and Hrana's JSON: integers travel as decimal strings (JSON numbers cannot carry
 * 64 bits), reals as numbers, blobs as base64. The engine already gives integers as bigint, so nothing
 * is ever rounded on the way out.
 */

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

export function encodeValue(v: SqlValue): WireValue {
  if (v === null) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  return { type: "blob", base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
}

/** Reads a wire value; throws a plain Error saying what is wrong (the caller adds where). */
export function decodeValue(value: unknown): SqlValue {
  if (typeof value !== "object" || value === null) throw new Error("must be a value object");
  const v = value as Record<string, unknown>;
  switch (v.type) {
    case "null":
      return null;
    case "integer":
      return integer(v.value);
    case "float":
      // Hrana sends floats as JSON numbers; a number-like string is accepted too, as sqld does.
      if (typeof v.value === "number") return v.value;
      if (typeof v.value === "string" && v.value.trim() !== "" && !Number.isNaN(Number(v.value))) {
        return Number(v.value);
      }
      throw new Error("a float value must be a number");
    case "text":
      if (typeof v.value !== "string") throw new Error("a text value must be a string");
      return v.value;
    case "blob":
      if (typeof v.base64 !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v.base64)) {
        throw new Error("a blob value must carry base64 text");
      }
      return new Uint8Array(Buffer.from(v.base64, "base64"));
    default:
      throw new Error(`${JSON.stringify(v.type)} is not a value type (null, integer, float, text, blob)`);
  }
}

function integer(value: unknown): bigint {
  let n: bigint;
  if (typeof value === "string" && /^-?\d{1,20}$/.test(value)) n = BigInt(value);
  else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
  else throw new Error("an integer value must be a decimal string");
  if (n < I64_MIN || n > I64_MAX) throw new Error("an integer value must fit in 64 bits");
  return n;
}

export function encodeResult(r: QueryResult, wantRows: boolean, durationMs: number): StmtResult {
  return {
    cols: r.columns.map((name, i) => ({ name, decltype: r.columnTypes[i] ?? null })),
    rows: wantRows ? r.rows.map((row) => row.map(encodeValue)) : [],
    affected_row_count: r.rowsAffected,
    last_insert_rowid: r.lastInsertRowid === null ? null : r.lastInsertRowid.toString(),
    rows_read: 0,
    rows_written: 0,
    query_duration_ms: toMicroseconds(durationMs),
  };
}

/**
 * `JSON.stringify(encodeResult(r, wantRows, durationMs))`, written directly: the same bytes, without the
 * objects in between. What a read answered on the server's own thread costs less by.
 */
export function encodeResultJson(
  r: QueryResult,
  wantRows: boolean,
  durationMs: number,
  cols = colsJson(r),
): string {
  let rows = "";
  if (wantRows) {
    for (let i = 0; i < r.rows.length; i++) {
      const row = r.rows[i] as SqlValue[];
      let values = "";
      for (let j = 0; j < row.length; j++) values += `${j > 0 ? "," : ""}${valueJson(row[j] as SqlValue)}`;
      rows += `${i > 0 ? "," : ""}[${values}]`;
    }
  }
  const rowid = r.lastInsertRowid === null ? "null" : `"${r.lastInsertRowid}"`;
  return `{"cols":[${cols}],"rows":[${rows}],"affected_row_count":${r.rowsAffected},"last_insert_rowid":${rowid},"rows_read":0,"rows_written":0,"query_duration_ms":${durationJson(durationMs)}}`;
}

/** A statement's duration as results give it: milliseconds, to the microsecond. */
const toMicroseconds = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * `JSON.stringify(toMicroseconds(ms))`, written from integers: formatting a double costs more than the
 * rest of a small result's encoding.
 */
function durationJson(ms: number): string {
  if (!(ms >= 0 && ms < 1e9)) return JSON.stringify(toMicroseconds(ms));
  const us = Math.round(ms * 1000);
  let fraction = us % 1000;
  const whole = (us - fraction) / 1000;
  if (fraction === 0) return `${whole}`;
  // The shortest decimal for the double, as JSON.stringify writes it: no trailing zeros.
  const zeros = fraction < 10 ? "00" : fraction < 100 ? "0" : "";
  while (fraction % 10 === 0) fraction /= 10;
  return `${whole}.${zeros}${fraction}`;
}

/** A result's columns as JSON: the `cols` of encodeResultJson. */
export function colsJson(r: QueryResult): string {
  let cols = "";
  for (let i = 0; i < r.columns.length; i++) {
    const type = r.columnTypes[i];
    cols += `${i > 0 ? "," : ""}{"name":${JSON.stringify(r.columns[i])},"decltype":${type == null ? "null" : JSON.stringify(type)}}`;
  }
  return cols;
}

function valueJson(v: SqlValue): string {
  if (v === null) return '{"type":"null"}';
  if (typeof v === "bigint") return `{"type":"integer","value":"${v}"}`;
  if (typeof v === "number") return `{"type":"float","value":${JSON.stringify(v)}}`;
  if (typeof v === "string") return `{"type":"text","value":${JSON.stringify(v)}}`;
  return JSON.stringify(encodeValue(v));
}
