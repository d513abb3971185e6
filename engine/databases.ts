import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import {
  type DatabaseRow,
  type DatabaseType,
  getDatabaseRow,
  listDatabaseRows,
  maintainedCount,
} from "./catalog.js";
import type { EngineContext } from "./context.js";
import { now } from "./context.js";
import {
  alreadyExists,
  conflict,
  failedPrecondition,
  invalidArgument,
  notFound,
  storageError,
} from "./errors.js";
import { fsyncDir, removeDatabaseFiles, tempFile, writeFilesDurably } from "./files.js";
import { ensureGroup, requireGroupRow } from "./groups.js";
import {
  createSteps,
  type Placement,
  recordIntent,
  removeAbandonedFiles,
  settleIntents,
} from "./installs.js";
import { unfinishedJob } from "./jobs/store.js";
import { databaseFile } from "./layout.js";
import { validateName } from "./names.js";
import { createStampTable, readStamp } from "./stamp.js";

export interface DatabaseInfo {
  name: string;
  group: string;
  type: DatabaseType;
  schemaParent: string | null;
  schemaVersion: number;
  allowAttach: boolean;
  blockReads: boolean;
  blockWrites: boolean;
  path: string;
  uuid: string;
  createdAt: number;
}

export interface CreateDatabaseOptions {
  group?: string;
  /** `schema` makes a schema database (a parent); omit for a standard one. */
  type?: "standard" | "schema";
  /** The schema database this one is a child of. */
  schemaParent?: string;
  /** Create the group if it does not exist (the CLI does this for `default`). */
  createGroup?: boolean;
}

export async function createDatabase(
  ctx: EngineContext,
  name: string,
  opts: CreateDatabaseOptions = {},
): Promise<DatabaseInfo> {
  validateName("database", name);
  if (opts.schemaParent !== undefined) {
    if (opts.type === "schema") {
      throw invalidArgument(
        "a schema database cannot itself have a schema parent; choose --type schema or --schema",
      );
    }
    const [info] = await createChildren(ctx, opts.schemaParent, [name], { group: opts.group });
    return info as DatabaseInfo;
  }
  const groupName = opts.group ?? "default";
  if (opts.createGroup) ensureGroup(ctx, groupName);
  else requireGroupRow(ctx, groupName);
  const type = opts.type ?? "standard";

  removeAbandonedFiles(ctx);
  const tmp = tempFile(ctx.layout.tmp, name);
  try {
    const db = new Database(tmp);
    try {
      if (type === "schema") createStampTable(db);
      else db.pragma("user_version = 0"); // writes the header, so the file is a database from the start
    } finally {
      db.close();
    }
    install(ctx, [{ name, tmp }], () => {}, {
      groupName,
      type,
      parentId: null,
      expectParentVersion: null,
      version: 0,
    });
  } catch (e) {
    throw storageError(e, { phase: "create", database: name }) ?? e;
  } finally {
    removeDatabaseFiles(tmp);
  }
  return getDatabase(ctx, name);
}

/**
 * Creates children of a schema database as copies of it: one consistent snapshot of the parent (schema,
 * stamp and any rows a migration put there), written to every new file with the fsyncs overlapping, then
 * installed in one catalog transaction. Either every child exists afterwards or none does.
 */
export async function createChildren(
  ctx: EngineContext,
  parentName: string,
  names: string[],
  opts: { group?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<DatabaseInfo[]> {
  if (names.length === 0) return [];
  const seen = new Set<string>();
  for (const name of names) {
    validateName("database", name);
    if (seen.has(name)) throw invalidArgument(`database name "${name}" is listed twice`);
    seen.add(name);
  }
  validateName("database", parentName);
  removeAbandonedFiles(ctx);

  // A job may start (or finish) while we copy; install() re-checks the parent's version under the catalog
  // lock, and a mismatch means our snapshot is stale, so take a new one.
  for (let attempt = 0; attempt < 5; attempt++) {
    const parent = requireParent(ctx, parentName, opts.group);
    // Fail before writing anything; install() checks again under the catalog lock.
    const taken = existingNames(ctx, names)[0];
    if (taken !== undefined) throw alreadyExists(`database "${taken}" already exists`);
    const snapshot = snapshotParent(ctx, parent);
    const files = names.map((name) => ({ name, tmp: tempFile(ctx.layout.tmp, name) }));
    const step = createSteps(ctx);
    try {
      await writeFilesDurably(
        files.map((f) => ({ path: f.tmp, data: snapshot.data })),
        step,
      );
      opts.onProgress?.(names.length, names.length);
      const installed = install(ctx, files, step, {
        groupName: parent.group_name,
        type: "child",
        parentId: parent.id,
        expectParentVersion: snapshot.version,
        version: snapshot.version,
      });
      if (installed) return databasesNamed(ctx, names);
    } catch (e) {
      const site = {
        phase: "create",
        database:
          names.length === 1
            ? names[0]
            : `${names[0]}" and ${names.length - 1} more, children of "${parentName}`,
      };
      throw storageError(e, site) ?? e;
    } finally {
      for (const f of files) fs.rmSync(f.tmp, { force: true });
    }
  }
  throw conflict(`schema database "${parentName}" kept changing while its children were created; retry`);
}

function requireParent(ctx: EngineContext, parentName: string, group: string | undefined): DatabaseRow {
  const parent = getDatabaseRow(ctx.catalog, parentName);
  if (!parent) throw notFound(`schema database "${parentName}" not found`);
  if (parent.type !== "schema") {
    throw failedPrecondition(
      `"${parentName}" is not a schema database, so it cannot have children; create the parent with \`--type schema\``,
    );
  }
  if (group !== undefined && group !== parent.group_name) {
    throw invalidArgument(
      `a child must be in its schema database's group: "${parentName}" is in group "${parent.group_name}", not "${group}"`,
    );
  }
  return parent;
}

function snapshotParent(ctx: EngineContext, parent: DatabaseRow): { data: Buffer; version: number } {
  const db = new Database(path.join(ctx.layout.root, parent.path), { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 10000");
    // serialize() reads inside one read transaction: a consistent image even while others write.
    return db.transaction(() => ({ data: db.serialize(), version: readStamp(db).version }))();
  } finally {
    db.close();
  }
}

/**
 * Moves freshly written files into place and records them, all inside one catalog write transaction:
 * the catalog is the truth, so a crash before COMMIT leaves at most orphan files no name points to.
 * Returns false when a child's snapshot turned out to be stale.
 */
function install(
  ctx: EngineContext,
  files: { name: string; tmp: string }[],
  step: () => void,
  spec: {
    groupName: string;
    type: DatabaseType;
    parentId: number | null;
    expectParentVersion: number | null;
    version: number;
  },
): boolean {
  const catalog = ctx.catalog;
  let intent: string | undefined;
  let installed: boolean;
  try {
    installed = catalog
      .transaction(() => {
        const group = requireGroupRow(ctx, spec.groupName);
        if (spec.parentId !== null) {
          const job = unfinishedJob(catalog, spec.parentId);
          if (job) {
            throw conflict(
              `schema database "${job.database_name}" has a migration in progress (job ${job.id}); create children after it finishes`,
            );
          }
          const parent = catalog
            .prepare("SELECT schema_version FROM databases WHERE id = ?")
            .get(spec.parentId) as { schema_version: number } | undefined;
          if (!parent)
            throw notFound("the schema database was destroyed while its children were being created");
          if (parent.schema_version !== spec.expectParentVersion) return false;
        }
        const insert = catalog.prepare(
          `INSERT INTO databases (name, group_id, type, parent_id, path, schema_version, uuid, created_at)
         VALUES (?, ?, ?, ?, '', ?, ?, ?)`,
        );
        const setPath = catalog.prepare("UPDATE databases SET path = ? WHERE id = ?");
        const t = now();
        const taken = existingNames(
          ctx,
          files.map((f) => f.name),
        )[0];
        if (taken !== undefined) throw alreadyExists(`database "${taken}" already exists`);
        const placements: (Placement & { tmp: string })[] = [];
        for (const f of files) {
          const id = Number(
            insert.run(f.name, group.id, spec.type, spec.parentId, spec.version, randomUUID(), t)
              .lastInsertRowid,
          );
          const rel = databaseFile(id, f.name);
          setPath.run(rel, id);
          placements.push({ id, path: rel, tmp: f.tmp });
        }
        intent = recordIntent(ctx, placements);
        step();
        moveIntoPlace(ctx, placements, step);
        return true;
      })
      .immediate();
    step();
  } catch (e) {
    // Rolled back, perhaps after the files moved (COMMIT itself failed): put them away now.
    if (intent) settleIntents(ctx, [intent]);
    throw e;
  }
  // Committed: the intent has nothing left to settle.
  if (intent) fs.rmSync(intent, { force: true });
  return installed;
}

/**
 * Moves each file to its path and makes the moves durable. If one fails, those already moved are
 * removed, since the transaction recording them rolls back.
 */
function moveIntoPlace(
  ctx: EngineContext,
  placements: (Placement & { tmp: string })[],
  step: () => void,
): void {
  const moved: string[] = [];
  try {
    const dirs = new Set<string>();
    for (const p of placements) {
      const abs = path.join(ctx.layout.root, p.path);
      if (!dirs.has(path.dirname(abs))) {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        dirs.add(path.dirname(abs));
      }
      fs.renameSync(p.tmp, abs);
      moved.push(abs);
      step();
    }
    for (const dir of dirs) fsyncDir(dir);
    fsyncDir(ctx.layout.databases);
  } catch (e) {
    for (const file of moved) fs.rmSync(file, { force: true });
    throw e;
  }
}

/** Which of `names` the catalog already has, in one query however many there are. */
function existingNames(ctx: EngineContext, names: string[]): string[] {
  const rows = ctx.catalog
    .prepare("SELECT name FROM databases WHERE name IN (SELECT value FROM json_each(?))")
    .raw(true)
    .all(JSON.stringify(names)) as [string][];
  return rows.map(([name]) => name);
}

/** The databases called `names`, in that order, read in one query. */
function databasesNamed(ctx: EngineContext, names: string[]): DatabaseInfo[] {
  const rows = new Map(listDatabaseRows(ctx.catalog, { names }).map((r) => [r.name, r]));
  return names.map((name) => {
    const row = rows.get(name);
    if (!row) throw notFound(`database "${name}" not found`);
    return toInfo(ctx, row);
  });
}

export function getDatabase(ctx: EngineContext, name: string): DatabaseInfo {
  return toInfo(ctx, requireDatabaseRow(ctx, name));
}

export function requireDatabaseRow(ctx: EngineContext, name: string): DatabaseRow {
  validateName("database", name);
  const row = getDatabaseRow(ctx.catalog, name);
  if (!row) throw notFound(`database "${name}" not found`);
  return row;
}

export function listDatabases(ctx: EngineContext, filter: { group?: string; schemaParent?: string } = {}) {
  if (filter.group !== undefined) requireGroupRow(ctx, filter.group);
  return listDatabaseRows(ctx.catalog, { group: filter.group, parent: filter.schemaParent }).map((r) =>
    toInfo(ctx, r),
  );
}

/**
 * How many databases match, without loading them: a parent may have thousands of children. Every answer
 * is a maintained count (see catalog.ts), so it costs the same at 5 children as at 100,000.
 */
export function countDatabases(
  ctx: EngineContext,
  filter: { group?: string; schemaParent?: string } = {},
): number {
  const group = filter.group !== undefined ? requireGroupRow(ctx, filter.group) : undefined;
  if (filter.schemaParent !== undefined) {
    const parent = requireDatabaseRow(ctx, filter.schemaParent);
    if (group !== undefined && parent.group_id !== group.id) return 0;
    return maintainedCount(ctx.catalog, "parent", parent.id);
  }
  if (group !== undefined) return maintainedCount(ctx.catalog, "group", group.id);
  return maintainedCount(ctx.catalog, "all");
}

export function destroyDatabase(ctx: EngineContext, name: string): void {
  const row = ctx.catalog
    .transaction(() => {
      const row = requireDatabaseRow(ctx, name);
      const children = maintainedCount(ctx.catalog, "parent", row.id);
      if (children > 0) {
        throw failedPrecondition(
          `schema database "${name}" still has ${children} child database${children === 1 ? "" : "s"}; destroy them first (\`tenantdb db list --schema ${name}\`)`,
        );
      }
      const job = unfinishedJob(ctx.catalog, row.parent_id ?? row.id);
      if (job) {
        throw conflict(
          `a migration of "${job.database_name}" is in progress (job ${job.id}); retry after it finishes`,
        );
      }
      ctx.catalog.prepare("DELETE FROM migrations WHERE database_id = ?").run(row.id);
      ctx.catalog.prepare("DELETE FROM databases WHERE id = ?").run(row.id);
      return row;
    })
    .immediate();
  // The catalog no longer names the file, so removing it afterwards is safe; a crash in between only
  // leaves an orphan file under a name (id) that is never reused.
  removeDatabaseFiles(path.join(ctx.layout.root, row.path));
}

/**
 * Destroys several databases in one catalog transaction (a fleet shrinking by thousands), with the same
 * refusals as destroyDatabase, all or none; names already gone are skipped, so a retry after a crash
 * finishes the work. Files go after the commit.
 */
export function destroyDatabases(
  ctx: EngineContext,
  names: string[],
  opts: { schemaParent?: string } = {},
): void {
  for (const name of names) validateName("database", name);
  const rows = ctx.catalog
    .transaction(() => {
      const rows = listDatabaseRows(ctx.catalog, { names });
      const stranger = rows.find(
        (r) => opts.schemaParent !== undefined && r.parent_name !== opts.schemaParent,
      );
      if (stranger) {
        throw failedPrecondition(
          `"${stranger.name}" is not a child of "${opts.schemaParent}"; nothing was destroyed`,
        );
      }
      const del = ctx.catalog.prepare("DELETE FROM databases WHERE id = ?");
      const delMigrations = ctx.catalog.prepare("DELETE FROM migrations WHERE database_id = ?");
      const checkedJobs = new Set<number>();
      for (const row of rows) {
        const children = maintainedCount(ctx.catalog, "parent", row.id);
        if (children > 0) {
          throw failedPrecondition(
            `schema database "${row.name}" still has ${children} child database(s); destroy them first`,
          );
        }
        const owner = row.parent_id ?? row.id;
        if (checkedJobs.has(owner)) continue;
        checkedJobs.add(owner);
        const job = unfinishedJob(ctx.catalog, owner);
        if (job) {
          throw conflict(
            `a migration of "${job.database_name}" is in progress (job ${job.id}); retry after it finishes`,
          );
        }
      }
      for (const row of rows) {
        delMigrations.run(row.id);
        del.run(row.id);
      }
      return rows;
    })
    .immediate();
  for (const row of rows) removeDatabaseFiles(path.join(ctx.layout.root, row.path));
}

export interface DatabaseConfig {
  allowAttach: boolean;
  blockReads: boolean;
  blockWrites: boolean;
}

export function updateDatabaseConfig(
  ctx: EngineContext,
  name: string,
  patch: Partial<DatabaseConfig>,
): DatabaseInfo {
  const columns: [keyof DatabaseConfig, string][] = [
    ["allowAttach", "allow_attach"],
    ["blockReads", "block_reads"],
    ["blockWrites", "block_writes"],
  ];
  ctx.catalog
    .transaction(() => {
      const row = requireDatabaseRow(ctx, name);
      for (const [key, column] of columns) {
        const value = patch[key];
        if (value === undefined) continue;
        if (typeof value !== "boolean") throw invalidArgument(`${key} must be true or false`);
        ctx.catalog.prepare(`UPDATE databases SET ${column} = ? WHERE id = ?`).run(value ? 1 : 0, row.id);
      }
    })
    .immediate();
  return getDatabase(ctx, name);
}

export function toInfo(ctx: EngineContext, row: DatabaseRow): DatabaseInfo {
  return {
    name: row.name,
    group: row.group_name,
    type: row.type,
    schemaParent: row.parent_name,
    schemaVersion: row.schema_version,
    allowAttach: row.allow_attach === 1,
    blockReads: row.block_reads === 1,
    blockWrites: row.block_writes === 1,
    path: path.join(ctx.layout.root, row.path),
    uuid: row.uuid,
    createdAt: row.created_at,
  };
}
