import fs from "node:fs";
import path from "node:path";
import type { EngineContext } from "./context.js";
import { abandonedTempFiles, fsyncDir, tempFile } from "./files.js";

/**
 * Creating databases moves their files into place inside the catalog transaction that records them, so
 * a process killed before COMMIT leaves files under dbs/ that no row names — and since the rolled-back
 * ids are handed out again, nothing would ever look at them. Before the first move, the creator writes
 * the paths it is about to fill into an intent file in the temporary directory (named for the process,
 * like every temporary file); once the catalog has committed, the intent goes. An intent whose process is
 * gone is settled by the next open or create: every path the catalog does not name is removed.
 */

export interface Placement {
  id: number;
  /** Relative to the data directory, as the catalog stores it. */
  path: string;
}

const INTENT = ".install";

/** Writes the intent durably (a machine crash must not keep the moves and lose it) and returns its path. */
export function recordIntent(ctx: EngineContext, placements: Placement[]): string {
  const file = tempFile(ctx.layout.tmp, "intent", INTENT);
  const fd = fs.openSync(file, "wx", 0o644);
  try {
    fs.writeSync(fd, JSON.stringify(placements));
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fsyncDir(ctx.layout.tmp);
  return file;
}

/**
 * Removes what dead processes left in the temporary directory: half-written files, and the files their
 * intents name that the catalog does not. Intents are settled under the catalog's write lock, so no
 * creator can be between moving a file into place and committing it meanwhile (a retried create reuses
 * the same id and path). On a disk too full for the lock, intents wait for the next time.
 */
export function removeAbandonedFiles(ctx: EngineContext): void {
  const intents: string[] = [];
  for (const file of abandonedTempFiles(ctx.layout.tmp)) {
    if (file.endsWith(INTENT)) intents.push(file);
    else fs.rmSync(file, { force: true });
  }
  settleIntents(ctx, intents);
}

/** Removes the files intents name that the catalog does not, then the intents. */
export function settleIntents(ctx: EngineContext, intents: string[]): void {
  if (intents.length === 0) return;
  const recorded = ctx.catalog.prepare("SELECT path FROM databases WHERE id = ?").pluck();
  try {
    ctx.catalog
      .transaction(() => {
        for (const intent of intents) {
          for (const p of readIntent(intent)) {
            if (recorded.get(p.id) !== p.path) fs.rmSync(path.join(ctx.layout.root, p.path), { force: true });
          }
          fs.rmSync(intent, { force: true });
        }
      })
      .immediate();
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith("SQLITE_")) return;
    throw e;
  }
}

/** An intent torn by a crash while it was written named nothing that had moved yet. */
function readIntent(file: string): Placement[] {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (p): p is Placement =>
        typeof p?.id === "number" && typeof p?.path === "string" && /^dbs\/[0-9]+\/[^/]+\.db$/.test(p.path),
    );
  } catch {
    return [];
  }
}

/** Test hook: SIGKILLs this process at the n-th step of a create (EngineOptions.faultInjection). */
export function createSteps(ctx: EngineContext): () => void {
  const at = ctx.options.faultInjection?.dieAtCreateStep;
  if (at === undefined) return () => {};
  let n = 0;
  return () => {
    if (++n === at) process.kill(process.pid, "SIGKILL");
  };
}
