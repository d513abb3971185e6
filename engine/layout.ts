import path from "node:path";

/**
 * Where things live inside a data directory. Database files are named by catalog id (unique per
 * incarnation, so a recreated name never reuses a file another process may still hold open) and bucketed
 * by id, so no directory grows past BUCKET_SIZE files and children created in a burst share one or two
 * directories (one directory fsync instead of thousands).
 */
export const BUCKET_SIZE = 4096;

export interface Layout {
  root: string;
  catalog: string;
  databases: string;
  tmp: string;
  locks: string;
  /** Undo logs of migration jobs in their run phase, a directory per job (see jobs/undo.ts). */
  undo: string;
}

export function layoutOf(root: string): Layout {
  const abs = path.resolve(root);
  return {
    root: abs,
    catalog: path.join(abs, "catalog.db"),
    databases: path.join(abs, "dbs"),
    tmp: path.join(abs, "tmp"),
    locks: path.join(abs, "locks"),
    undo: path.join(abs, "undo"),
  };
}

/** The path of a database file, relative to the data directory (stored in the catalog). */
export function databaseFile(id: number, name: string): string {
  const bucket = String(Math.floor(id / BUCKET_SIZE)).padStart(4, "0");
  return path.join("dbs", bucket, `${id}-${name}.db`);
}

export function resolveDataDir(flag: string | undefined, cwd = process.cwd()): string {
  // An empty value means unset: never the working directory itself.
  return path.resolve(cwd, flag || process.env.TENANTDB_DATA_DIR || ".tenantdb");
}
