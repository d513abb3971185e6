import type { SqlValue } from "../../engine/index.js";
import type { PlainExecute } from "./protocol.js";

/**
 * The pipeline `@libsql/client` sends for each `execute()` — no baton, one plain `execute`, then `close` —
 * read straight from its bytes, in the exact form the client writes it: no whitespace, its keys in its
 * order, integer, float, text and null arguments. JSON.parse makes an object per `{` at about 0.2 µs
 * each, and such a body has seven: parsing it cost more than the SQLite read it asks for.
 *
 * Anything else — whitespace, another key order, blobs, named arguments, an unusual number or integer,
 * a byte out of place — gives undefined, and the body is parsed in full as before. What is read here is
 * exactly what JSON.parse and plainExecuteOf would make of the same bytes (a generated test holds the
 * two side by side), so this never answers differently, only sooner.
 */
export function readPlainPipeline(bytes: Buffer): PlainExecute | undefined {
  const r = { bytes, at: 0 };
  if (!(take(r, '{"baton":null,"requests":[') || take(r, '{"requests":['))) return undefined;
  if (!take(r, '{"type":"execute","stmt":{"sql":')) return undefined;
  const sql = string(r);
  if (sql === undefined) return undefined;
  const args: SqlValue[] = [];
  if (take(r, ',"args":[') && !take(r, "]")) {
    do {
      const value = argument(r);
      if (value === undefined) return undefined;
      args.push(value);
    } while (take(r, ","));
    if (!take(r, "]")) return undefined;
  }
  take(r, ',"named_args":[]');
  let wantRows = true;
  if (take(r, ',"want_rows":')) {
    if (take(r, "false")) wantRows = false;
    else if (!take(r, "true")) return undefined;
  }
  if (!take(r, '}},{"type":"close"}]}') || r.at !== bytes.length) return undefined;
  return { sql, args, namedArgs: [], wantRows };
}

interface Reader {
  bytes: Buffer;
  at: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Steps past `literal` (ASCII) when the bytes go on with it. */
function take(r: Reader, literal: string): boolean {
  const { bytes, at } = r;
  if (at + literal.length > bytes.length) return false;
  for (let i = 0; i < literal.length; i++) {
    if (bytes[at + i] !== literal.charCodeAt(i)) return false;
  }
  r.at = at + literal.length;
  return true;
}

/** A JSON string. One with an escape in it is handed to JSON.parse, which reads escapes exactly. */
function string(r: Reader): string | undefined {
  const { bytes } = r;
  const start = r.at;
  if (bytes[start] !== QUOTE) return undefined;
  let escaped = false;
  let i = start + 1;
  for (; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === QUOTE) break;
    if (b < 0x20) return undefined;
    if (b === BACKSLASH) {
      escaped = true;
      i++;
    }
  }
  if (i >= bytes.length) return undefined;
  r.at = i + 1;
  // Slices end at ASCII bytes, so each decodes as it would within the whole body.
  if (!escaped) return bytes.toString("utf8", start + 1, i);
  try {
    return JSON.parse(bytes.toString("utf8", start, i + 1)) as string;
  } catch {
    return undefined;
  }
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const INTEGER = /^-?\d{1,20}$/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A positional argument, as values.ts decodes it; undefined for a blob or anything unusual. */
function argument(r: Reader): SqlValue | undefined {
  if (take(r, '{"type":"null"}')) return null;
  if (take(r, '{"type":"text","value":')) {
    const text = string(r);
    return text !== undefined && take(r, "}") ? text : undefined;
  }
  if (take(r, '{"type":"integer","value":')) {
    const digits = string(r);
    if (digits === undefined || !INTEGER.test(digits) || !take(r, "}")) return undefined;
    const n = BigInt(digits);
    return n < I64_MIN || n > I64_MAX ? undefined : n;
  }
  if (take(r, '{"type":"float","value":')) {
    const start = r.at;
    const { bytes } = r;
    while (r.at < bytes.length && bytes[r.at] !== 0x7d) r.at++; // up to the value's closing brace
    const text = bytes.toString("latin1", start, r.at);
    if (!NUMBER.test(text) || !take(r, "}")) return undefined;
    return Number(text);
  }
  return undefined;
}
