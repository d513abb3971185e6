import fs from "node:fs";
import path from "node:path";
import { storageFailure } from "./errors.js";
import type { Layout } from "./layout.js";

/**
 * A little disk space held back for recording failures. When the disk fills during a job, the catalog
 * write that would record why fails for the same reason; giving this file back first lets that one write
 * through. Opening the engine takes the space again when there is room.
 */
const RESERVE_BYTES = 512 * 1024;

function reserveFile(layout: Layout): string {
  return path.join(layout.root, "space-reserve");
}

/** Makes sure the reserve exists; on a full disk it stays missing until a later open finds room. */
export function keepReserve(layout: Layout): void {
  const file = reserveFile(layout);
  try {
    if (fs.statSync(file).size >= RESERVE_BYTES) return;
  } catch {
    // missing: create it below
  }
  try {
    fs.writeFileSync(file, Buffer.alloc(RESERVE_BYTES));
  } catch (e) {
    fs.rmSync(file, { force: true });
    if (!storageFailure(e)) throw e;
  }
}

/** Runs `fn`; if it fails for lack of space, gives the reserve back and runs it once more. */
export function withReserve<T>(layout: Layout, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const file = reserveFile(layout);
    if (storageFailure(e) !== "DISK_FULL" || !fs.existsSync(file)) throw e;
    fs.rmSync(file, { force: true });
    return fn();
  }
}
