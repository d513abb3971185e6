import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fsyncDir } from "../files.js";

/**
 * The run phase's undo log. A small database is migrated without SQLite's rollback journal: its whole
 * file, as it was before the transaction, is written here first — a batch of databases per write and one
 * fdatasync — then each database commits in place and is fsynced once. A commit torn by a crash (of the
 * process or of the machine) is repaired by writing the file back from here, before a job is resumed,
 * which then redoes them from their state before the job. Only databases whose task is not recorded `done`
 * are restored: those are still fenced (see
 * engine/query/fence.ts), and the image was read under the database's write lock after its batch was
 * marked `applying`, so no tenant has written there since; a `done` database's fence has lifted and its
 * image, if a log still holds it, is stale (runner.ts, restoreTouchedDatabases, lists the crash points).
 *
 * The point is fsyncs. SQLite's own durable commit costs four per database (journal, its directory, the
 * database, the journal's header); this costs one, plus one per batch. It is InnoDB's doublewrite buffer
 * in spirit, with whole files in place of pages, which is why it only takes small files (SMALL_FILE); the
 * others go through SQLite's journal as usual.
 *
 * Records name databases by their task's seq, never by path: a log is never trusted to say where to write.
 */

/** Files up to this size take the undo log; a batch holds at most this much per database in memory. */
export const SMALL_FILE = 512 * 1024;

const MAGIC = Buffer.from("TDBUNDO1");
const HEADER = MAGIC.length + 12; // magic, seq, length, checksum (u32 each)

export interface UndoImage {
  seq: number;
  data: Buffer;
}

/** A job's undo logs live in their own directory, so a finished job's are removed in one go. */
export function undoDir(undoRoot: string, jobId: number): string {
  return path.join(undoRoot, String(jobId));
}

/**
 * Replaces `file`'s contents with these images and makes them durable before returning. A log is reused
 * batch after batch: the previous batch's databases are already durable when the next one overwrites it.
 */
export function writeUndo(file: string, images: UndoImage[]): void {
  const fresh = !fs.existsSync(file);
  if (fresh) fs.mkdirSync(path.dirname(file), { recursive: true });
  // Headers and images go out as they are (one gathered write), not copied into one more buffer.
  const headers = Buffer.alloc(HEADER * images.length);
  const chunks: Buffer[] = [];
  for (const [i, image] of images.entries()) {
    const header = headers.subarray(i * HEADER, (i + 1) * HEADER);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(image.seq, MAGIC.length);
    header.writeUInt32LE(image.data.length, MAGIC.length + 4);
    header.writeUInt32LE(checksum(image.seq, image.data), MAGIC.length + 8);
    chunks.push(header, image.data);
  }
  overwrite(file, chunks, fresh ? "w" : "r+", fs.fdatasyncSync);
  // A new log's directory entry must be durable too, or a crash could lose the log while keeping the
  // torn databases it was written for.
  if (fresh) {
    fsyncDir(path.dirname(file));
    fsyncDir(path.dirname(path.dirname(file)));
  }
}

/** This thread's buffer for images (see imageReader), grown to hold the largest batch it has read. */
let scratch = Buffer.alloc(0);

/**
 * Reads a batch's images into one buffer that the thread keeps for its next batches. A Buffer of its own
 * per image lived on as garbage until the thread's next collection: megabytes per worker thread all
 * through a run phase, a quarter of a 100,000-child job's peak RSS. The images read through one
 * reader stay valid until the thread starts its next reader.
 */
export function imageReader(): (file: string) => Buffer {
  let used = 0;
  return (file) => {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      if (used + size > scratch.length) {
        // Images already read keep the old buffer alive until the batch is over.
        scratch = Buffer.allocUnsafeSlow(Math.max(2 * scratch.length, size, 256 * 1024));
        used = 0;
      }
      const image = scratch.subarray(used, used + size);
      let read = 0;
      while (read < size) {
        const n = fs.readSync(fd, image, read, size - read, read);
        if (n === 0) break;
        read += n;
      }
      used += read;
      return image.subarray(0, read);
    } finally {
      fs.closeSync(fd);
    }
  };
}

/** The intact images of one log: reading stops at the first record a torn write left incomplete. */
export function readUndo(file: string): UndoImage[] {
  const bytes = fs.readFileSync(file);
  const images: UndoImage[] = [];
  let at = 0;
  while (at + HEADER <= bytes.length && bytes.subarray(at, at + MAGIC.length).equals(MAGIC)) {
    const seq = bytes.readUInt32LE(at + MAGIC.length);
    const length = bytes.readUInt32LE(at + MAGIC.length + 4);
    const sum = bytes.readUInt32LE(at + MAGIC.length + 8);
    const data = bytes.subarray(at + HEADER, at + HEADER + length);
    if (data.length !== length || checksum(seq, data) !== sum) break;
    images.push({ seq, data: Buffer.from(data) });
    at += HEADER + length;
  }
  return images;
}

/** The log files of a job's directory (none if it has none). */
export function undoLogs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".log"))
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** Writes an image back over a database file and syncs it: the file is byte for byte what it was. */
export function restoreImage(file: string, data: Buffer): void {
  overwrite(file, [data], "r+", fs.fsyncSync);
  // A journal beside it belongs to a transaction older than the image: it must not be played back.
  fs.rmSync(`${file}-journal`, { force: true });
}

/** Makes `file` hold exactly `chunks`, one after the other, synced with `sync` before returning. */
function overwrite(file: string, chunks: Buffer[], flags: "w" | "r+", sync: (fd: number) => void): void {
  const fd = fs.openSync(file, flags);
  try {
    const length = chunks.reduce((n, c) => n + c.length, 0);
    // libuv goes on after a short write and stops short only at an error, which it leaves unreported;
    // write(2) names a full disk as the cause of a short write to a file.
    const written = fs.writevSync(fd, chunks, 0);
    if (written < length)
      throw Object.assign(new Error(`wrote ${written} of ${length} bytes of ${file}`), { code: "ENOSPC" });
    fs.ftruncateSync(fd, length);
    sync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// zlib.crc32 arrived in Node 20.15; earlier 20.x releases get a (slower) hash-based sum.
const crc32: (data: Buffer, seed: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === "function"
    ? (zlib as unknown as { crc32: (d: Buffer, s: number) => number }).crc32
    : (data, seed) => crypto.createHash("sha1").update(String(seed)).update(data).digest().readUInt32LE(0);

function checksum(seq: number, data: Buffer): number {
  return crc32(data, seq) >>> 0;
}
