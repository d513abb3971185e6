import fs from "node:fs";
import { journalMayBeHot } from "../journal.js";

/**
 * What decides a database's schema, read from its file without SQLite (https://sqlite.org/fileformat.html):
 * the `sqlite_schema` table, when all of it lives on page 1, and the header fields that shape how SQLite
 * reads it. Two databases with equal bytes here have the same schema, whatever their histories: a
 * statement whose success depends on the schema alone succeeds on both or on neither. Reading it costs a
 * few microseconds; opening the database and parsing its schema costs tens.
 *
 * Undefined whenever the file may not tell the whole truth about its schema: not an SQLite file, a WAL
 * database (its newest schema may be in the WAL), a journal that may be hot (an interrupted transaction
 * SQLite would roll back first), or a `sqlite_schema` that has outgrown page 1 or spills a row onto an
 * overflow page. Callers then ask SQLite.
 */
export function schemaPage(file: string): Buffer | undefined {
  const page = readStart(file, 65536);
  if (!page || page.length < 100 || !page.subarray(0, 16).equals(MAGIC)) return undefined;
  // File format versions: 1 is a rollback journal, 2 is WAL.
  if (page[18] !== 1 || page[19] !== 1) return undefined;
  const raw = page.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const usable = pageSize - (page[20] as number);
  if (page.length < pageSize) return undefined;
  if (!wholeSchemaOnPage(page, usable)) return undefined;
  if (journalMayBeHot(file)) return undefined;
  return Buffer.concat([
    page.subarray(16, 24), // page size, format versions, reserved space, payload fractions
    page.subarray(40, 60), // schema cookie, schema format, cache size, auto-vacuum root, text encoding
    page.subarray(64, 68), // incremental vacuum
    page.subarray(100, usable), // the sqlite_schema b-tree page
  ]);
}

const MAGIC = Buffer.from("SQLite format 3\0", "latin1");
/** The b-tree page type of a table's leaf. */
const TABLE_LEAF = 0x0d;

/** Page 1 is a leaf of sqlite_schema (the whole table) and no row of it spills onto an overflow page. */
function wholeSchemaOnPage(page: Buffer, usable: number): boolean {
  const at = 100;
  if (page[at] !== TABLE_LEAF) return false;
  const cells = page.readUInt16BE(at + 3);
  const maxLocal = usable - 35;
  for (let i = 0; i < cells; i++) {
    const cell = page.readUInt16BE(at + 8 + 2 * i);
    if (cell >= usable) return false;
    const payload = varint(page, cell);
    if (payload === undefined || payload > maxLocal) return false;
  }
  return true;
}

/** SQLite's variable-length integer at `at` (up to 9 bytes, big-endian 7-bit groups, the 9th of 8 bits). */
function varint(buf: Buffer, at: number): number | undefined {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const byte = buf[at + i];
    if (byte === undefined) return undefined;
    if (i === 8) return value * 256 + byte;
    value = value * 128 + (byte & 0x7f);
    if (byte < 0x80) return value;
  }
  return undefined;
}

/** Up to `max` bytes from the start of `file`: as many as the file has. */
function readStart(file: string, max: number): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    // The header says the page size; most pages are 4 KiB, so read that much first.
    const head = Buffer.allocUnsafe(4096);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n < 100) return head.subarray(0, n);
    const raw = head.readUInt16BE(16);
    const pageSize = Math.min(raw === 1 ? 65536 : raw, max);
    if (pageSize <= n) return head.subarray(0, n);
    const page = Buffer.allocUnsafe(pageSize);
    head.copy(page, 0, 0, n);
    const rest = fs.readSync(fd, page, n, pageSize - n, n);
    return page.subarray(0, n + rest);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(a, b) === 0;
}
