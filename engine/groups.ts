import { randomUUID } from "node:crypto";
import { type GroupRow, getGroupRow, maintainedCount } from "./catalog.js";
import type { EngineContext } from "./context.js";
import { now } from "./context.js";
import { alreadyExists, failedPrecondition, notFound } from "./errors.js";
import { validateName } from "./names.js";

export interface GroupInfo {
  name: string;
  location: string;
  uuid: string;
  databases: number;
  createdAt: number;
}

export const DEFAULT_LOCATION = "local";

export function createGroup(ctx: EngineContext, name: string, opts: { location?: string } = {}): GroupInfo {
  validateName("group", name);
  const location = opts.location ?? DEFAULT_LOCATION;
  ctx.catalog
    .transaction(() => {
      if (getGroupRow(ctx.catalog, name)) throw alreadyExists(`group "${name}" already exists`);
      ctx.catalog
        .prepare("INSERT INTO groups (name, location, uuid, created_at) VALUES (?, ?, ?, ?)")
        .run(name, location, randomUUID(), now());
    })
    .immediate();
  return getGroup(ctx, name);
}

/** The group, created on first use: how `db create` treats the `default` group, like turso's CLI. */
export function ensureGroup(ctx: EngineContext, name: string): GroupRow {
  const existing = getGroupRow(ctx.catalog, name);
  if (existing) return existing;
  try {
    createGroup(ctx, name);
  } catch (e) {
    // Another process created it between our read and our write: that is what we wanted.
    if ((e as { code?: string }).code !== "ALREADY_EXISTS") throw e;
  }
  return requireGroupRow(ctx, name);
}

export function requireGroupRow(ctx: EngineContext, name: string): GroupRow {
  validateName("group", name);
  const row = getGroupRow(ctx.catalog, name);
  if (!row) throw notFound(`group "${name}" not found; create it with \`tenantdb group create ${name}\``);
  return row;
}

export function getGroup(ctx: EngineContext, name: string): GroupInfo {
  const row = requireGroupRow(ctx, name);
  return toInfo(row, countDatabases(ctx, row.id));
}

export function listGroups(ctx: EngineContext): GroupInfo[] {
  const rows = ctx.catalog
    .prepare(
      `SELECT g.*, coalesce(c.n, 0) AS n FROM groups g
       LEFT JOIN database_counts c ON c.scope = 'group' AND c.id = g.id ORDER BY g.name`,
    )
    .all() as (GroupRow & { n: number })[];
  return rows.map((r) => toInfo(r, r.n));
}

export function destroyGroup(ctx: EngineContext, name: string): void {
  ctx.catalog
    .transaction(() => {
      const row = requireGroupRow(ctx, name);
      const n = countDatabases(ctx, row.id);
      if (n > 0) {
        throw failedPrecondition(
          `group "${name}" still has ${n} database${n === 1 ? "" : "s"}; destroy them first (\`tenantdb db list --group ${name}\`)`,
        );
      }
      ctx.catalog.prepare("DELETE FROM groups WHERE id = ?").run(row.id);
    })
    .immediate();
}

/** The group's maintained count (see catalog.ts): one row read, however many databases it holds. */
function countDatabases(ctx: EngineContext, groupId: number): number {
  return maintainedCount(ctx.catalog, "group", groupId);
}

function toInfo(row: GroupRow, databases: number): GroupInfo {
  return { name: row.name, location: row.location, uuid: row.uuid, databases, createdAt: row.created_at };
}
