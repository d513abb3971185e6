import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const fdatasync = promisify(fs.fdatasync);

/**
 * Writes each buffer to its (new) path and fsyncs it. Files go in chunks: every file of a chunk is written
 * first, then all of them are fsynced at once — by then the kernel has started writing them back, and
 * concurrent fsyncs share the filesystem's journal commits. Measured here at 1.5–2× writing and syncing
 * each file in turn; chunking keeps open descriptors bounded.
 */
const CHUNK = 256;
const SYNC_CONCURRENCY = 64;

export async function writeFilesDurably(
  files: { path: string; data: Uint8Array }[],
  /** Test hook, called after each file is written and after each chunk is synced. */
  onStep: () => void = () => {},
): Promise<void> {
  for (let start = 0; start < files.length; start += CHUNK) {
    const fds: number[] = [];
    try {
      for (const file of files.slice(start, start + CHUNK)) {
        const fd = fs.openSync(file.path, "wx", 0o644);
        fds.push(fd);
        fs.writeSync(fd, file.data);
        onStep();
      }
      let next = 0;
      const syncer = async () => {
        while (next < fds.length) await fdatasync(fds[next++] as number);
      };
      await Promise.all(Array.from({ length: Math.min(SYNC_CONCURRENCY, fds.length) }, syncer));
      onStep();
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  }
}

/** Makes renames and unlinks inside `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes a database file and whatever SQLite left beside it. Missing files are fine. */
export function removeDatabaseFiles(file: string): void {
  for (const suffix of ["", "-journal", "-wal", "-shm"]) fs.rmSync(file + suffix, { force: true });
}

/**
 * Temporary files are named for the process that writes them — its pid and, where the system says, its
 * start time, since a pid is reused once its process is gone (quickly, in a container) — so a later
 * process can tell abandoned ones from those of a live writer.
 */
export function tempFile(tmpDir: string, tag: string, ext = ".db"): string {
  return path.join(tmpDir, `${OWNER}-${tag}-${Math.random().toString(36).slice(2, 10)}${ext}`);
}

/** Whether a name in the temporary directory belongs to a process that is gone. */
export function isAbandoned(entry: string): boolean {
  const owner = entry.split("-")[0] ?? "";
  if (owner === OWNER) return false;
  const [pidText, started] = owner.split(".");
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false; // not ours to judge
  if (!isAlive(pid)) return true;
  // Alive under the same pid: the same process only if it started when the file's did.
  const now = startTime(pid);
  return started !== undefined && now !== undefined && now !== started;
}

/** The abandoned entries of the temporary directory, oldest writer first (order does not matter). */
export function abandonedTempFiles(tmpDir: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(tmpDir);
  } catch {
    return [];
  }
  return entries.filter(isAbandoned).map((entry) => path.join(tmpDir, entry));
}

/** A process's start time in clock ticks since boot (Linux), or undefined where /proc does not say. */
function startTime(pid: number | "self"): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold anything; fields after it are plain.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

const OWNER = ((started) => (started ? `${process.pid}.${started}` : String(process.pid)))(startTime("self"));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}
