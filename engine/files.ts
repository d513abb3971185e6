import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

/** How many file writes+fsyncs run at once: fsyncs of different files overlap on every disk we measured. */
const WRITE_CONCURRENCY = 16;

/** Writes each buffer to its path and fsyncs it, many at a time. */
export async function writeFilesDurably(files: { path: string; data: Uint8Array }[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++] as { path: string; data: Uint8Array };
      const handle = await fsp.open(file.path, "wx", 0o644);
      try {
        await handle.writeFile(file.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, files.length) }, worker));
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

/** Temporary files carry the creating process's pid, so a later process can tell abandoned ones. */
export function tempFile(tmpDir: string, tag: string): string {
  return path.join(tmpDir, `${process.pid}-${tag}-${Math.random().toString(36).slice(2, 10)}.db`);
}

export function removeAbandonedTempFiles(tmpDir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(tmpDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(entry.split("-")[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
      fs.rmSync(path.join(tmpDir, entry), { force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}
