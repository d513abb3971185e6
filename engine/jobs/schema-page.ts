import fs from "node:fs";
import { journalMayBeHot } from "../journal.js";
import { STAMP_TABLE } from "../stamp.js";

/**
 * What decides a database's schema, read from its file without SQLite (https://sqlite.org/fileformat.html):
 * the `sqlite_schema` table, when all of it lives on page 1, and the header fields that shape how SQLite
 * reads it. Two databases with equal bytes here have the same schema, whatever their histories: a
 * statement whose success depends on the schema alone succeeds on both or on neither. Reading it costs a
 * few microseconds; opening the database and parsing its schema costs tens.
 *
 * The page of the stamp table (`_tenantdb_`, engine/stamp.ts) comes with it: a dry run checks that a file
 * carries the version the job starts from, and the schema says nothing of that (a file restored from before
 * a migration that wrote only rows has the parent's schema and an older stamp). Equal bytes there, on a
 * leaf whose every row is on the page, are an equal stamp.
 *
 * Undefined whenever the file may not tell the whole truth about its schema: not an SQLite file, a WAL
 * database (its newest schema may be in the WAL), a journal that may be hot (an interrupted transaction
 * SQLite would roll back first), a `sqlite_schema` that has outgrown page 1 or spills a row onto an
 * overflow page, or a stamp table missing or not on one page. Callers then ask SQLite.
 */
export function schemaPage(file: string): Buffer | undefined {
  const parts = readParts(file);
  return parts && Buffer.concat(parts);
}

/**
 * Whether `file` holds these bytes (as schemaPage gives them), compared where they were read: a job asks
 * this of every child, and a buffer of its own per child lived on as garbage (megabytes per worker thread).
 */
export function hasSchemaPage(file: string, expected: Uint8Array): boolean {
  const parts = readParts(file);
  if (!parts) return false;
  let at = 0;
  for (const part of parts) {
    const end = at + part.length;
    if (end > expected.length || Buffer.compare(part, expected.subarray(at, end)) !== 0) return false;
    at = end;
  }
  return at === expected.length;
}

/** This thread's buffers for page 1 and the stamp's page: the views readParts gives are valid until its next call. */
const first = Buffer.allocUnsafeSlow(65536);
const second = Buffer.allocUnsafeSlow(65536);

/** What schemaPage compares, as views over this thread's buffers. */
function readParts(file: string): Buffer[] | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    return readSchemaPage(fd, file);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function readSchemaPage(fd: number, file: string): Buffer[] | undefined {
  const page = readStart(fd);
  if (page.length < 100 || !page.subarray(0, 16).equals(MAGIC)) return undefined;
  // File format versions: 1 is a rollback journal, 2 is WAL.
  if (page[18] !== 1 || page[19] !== 1) return undefined;
  const raw = page.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const usable = pageSize - (page[20] as number);
  if (page.length < pageSize) return undefined;
  if (!wholeSchemaOnPage(page, usable)) return undefined;
  const stampRoot = rootPageOf(page, STAMP_TABLE);
  if (stampRoot === undefined || stampRoot < 2) return undefined;
  const stamp = second.subarray(0, pageSize);
  if (fs.readSync(fd, stamp, 0, pageSize, (stampRoot - 1) * pageSize) < pageSize) return undefined;
  if (!wholeStampOnPage(stamp, usable)) return undefined;
  if (journalMayBeHot(file)) return undefined;
  return [
    page.subarray(16, 24), // page size, format versions, reserved space, payload fractions
    page.subarray(40, 60), // schema cookie, schema format, cache size, auto-vacuum root, text encoding
    page.subarray(64, 68), // incremental vacuum
    page.subarray(100, usable), // the sqlite_schema b-tree page
    stamp.subarray(0, usable), // the stamp table's b-tree page
  ];
}

const MAGIC = Buffer.from("SQLite format 3\0", "latin1");
/** The b-tree page types of a table's leaf and of an index's (a WITHOUT ROWID table is kept in the latter). */
const TABLE_LEAF = 0x0d;
const INDEX_LEAF = 0x0a;

/** Page 1 is a leaf of sqlite_schema (the whole table) and no row of it spills onto an overflow page. */
function wholeSchemaOnPage(page: Buffer, usable: number): boolean {
  return wholeLeaf(page, 100, TABLE_LEAF, usable - 35, usable);
}

/** The stamp table's root is a leaf (the whole table) and no row of it spills onto an overflow page. */
function wholeStampOnPage(page: Buffer, usable: number): boolean {
  return wholeLeaf(page, 0, INDEX_LEAF, Math.floor(((usable - 12) * 64) / 255) - 23, usable);
}

function wholeLeaf(page: Buffer, at: number, type: number, maxLocal: number, usable: number): boolean {
  if (page[at] !== type) return false;
  const cells = page.readUInt16BE(at + 3);
  for (const cell of cellsOf(page, at, cells)) {
    if (cell >= usable) return false;
    const payload = varint(page, cell);
    if (payload === undefined || payload[0] > maxLocal) return false;
  }
  return true;
}

function* cellsOf(page: Buffer, at: number, cells: number): Generator<number> {
  for (let i = 0; i < cells; i++) yield page.readUInt16BE(at + 8 + 2 * i);
}

/**
 * The root page of table `name`, read from sqlite_schema's rows on page 1 (a leaf, checked first): each row
 * is (type, name, tbl_name, rootpage, sql) in SQLite's record format.
 */
function rootPageOf(page: Buffer, name: string): number | undefined {
  for (const cell of cellsOf(page, 100, page.readUInt16BE(103))) {
    const size = varint(page, cell);
    const rowid = size && varint(page, size[1]);
    const header = rowid && varint(page, rowid[1]);
    if (!header) return undefined;
    const types: number[] = [];
    for (let at = header[1]; at < rowid[1] + header[0]; ) {
      const type = varint(page, at);
      if (!type) return undefined;
      types.push(type[0]);
      at = type[1];
    }
    if (types.length < 4) continue;
    let at = rowid[1] + header[0];
    const fields = types.slice(0, 4).map((type) => {
      const field = page.subarray(at, at + fieldSize(type));
      at += field.length;
      return { type, field };
    });
    const [, named, , root] = fields as { type: number; field: Buffer }[];
    if (!named || !root || named.type < 13 || named.type % 2 === 0) continue;
    if (named.field.toString("utf8") !== name) continue;
    if (root.type >= 1 && root.type <= 4) return root.field.readUIntBE(0, root.field.length);
    return undefined;
  }
  return undefined;
}

/** Bytes of a field of serial type `type` (https://sqlite.org/fileformat.html#record_format). */
function fieldSize(type: number): number {
  if (type >= 12) return Math.floor((type - 12) / 2);
  return [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0][type] as number;
}

/**
 * SQLite's variable-length integer at `at` (up to 9 bytes, big-endian 7-bit groups, the 9th of 8 bits),
 * and where the next field starts.
 */
function varint(buf: Buffer, at: number): [number, number] | undefined {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const byte = buf[at + i];
    if (byte === undefined) return undefined;
    if (i === 8) return [value * 256 + byte, at + 9];
    value = value * 128 + (byte & 0x7f);
    if (byte < 0x80) return [value, at + i + 1];
  }
  return undefined;
}

/** Page 1, or as much of it as the file has, in this thread's first buffer. */
function readStart(fd: number): Buffer {
  // The header says the page size; most pages are 4 KiB, so read that much first.
  const n = fs.readSync(fd, first, 0, 4096, 0);
  if (n < 100) return first.subarray(0, n);
  const raw = first.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize <= n) return first.subarray(0, n);
  const rest = fs.readSync(fd, first, n, pageSize - n, n);
  return first.subarray(0, n + rest);
}
