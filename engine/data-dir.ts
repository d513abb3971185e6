import fs from "node:fs";
import path from "node:path";
import { failedPrecondition, notFound } from "./errors.js";
import type { Layout } from "./layout.js";

/**
 * A directory is taken as a data directory only if it is one already (its catalog carries the marker, see
 * catalog.ts) or holds nothing yet: a typo in --data-dir must never turn /etc or a project folder into
 * one, and a read must never conjure one.
 */
export function checkDataDir(layout: Layout, create: boolean): void {
  const entries = readEntries(layout.root);
  if (entries === undefined) {
    if (create) return;
    throw notFound(
      `no tenantdb data directory at ${layout.root}; create a database first (tenantdb db create <name>) or pass --data-dir`,
    );
  }
  if (entries.includes(path.basename(layout.catalog))) return; // the catalog's marker decides (catalog.ts)
  const ours = new Set(Object.values(layout).map((p) => path.basename(p)));
  const foreign = entries.filter((e) => !ours.has(e));
  if (foreign.length > 0) {
    throw failedPrecondition(
      `${layout.root} is not empty and is not a tenantdb data directory (it has no catalog.db); pass --data-dir with a new or empty directory`,
    );
  }
  if (!create) {
    throw notFound(
      `${layout.root} is not a tenantdb data directory yet (it has no catalog.db); create a database first (tenantdb db create <name>)`,
    );
  }
}

function readEntries(dir: string): string[] | undefined {
  try {
    return fs.readdirSync(dir);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") return undefined;
    if (code === "ENOTDIR") throw failedPrecondition(`${dir} is a file, not a tenantdb data directory`);
    throw e;
  }
}
