import { type DatabaseRow, getDatabaseRow, getDatabaseRowById } from "../catalog.js";
import type { EngineContext } from "../context.js";
import { notFound } from "../errors.js";
import { isValidName } from "../names.js";

/**
 * Databases named the two ways a tenant may name them: by name (`catalog`) or by id (the uuid the
 * Platform API reports as `DbId`, and what attach grants carry).
 */

const DATABASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isDatabaseRef(ref: string): boolean {
  return DATABASE_ID.test(ref) || isValidName(ref);
}

/** By id first: a name may look like a uuid, but an id never names another database. */
export function findDatabaseByNameOrId(ctx: EngineContext, ref: string): DatabaseRow | undefined {
  if (DATABASE_ID.test(ref)) {
    const byId = getDatabaseRowById(ctx.catalog, ref.toLowerCase());
    if (byId) return byId;
  }
  return isValidName(ref) ? getDatabaseRow(ctx.catalog, ref) : undefined;
}

export function requireDatabaseRowByNameOrId(ctx: EngineContext, ref: string): DatabaseRow {
  const row = typeof ref === "string" ? findDatabaseByNameOrId(ctx, ref) : undefined;
  if (!row) throw notFound(`database ${JSON.stringify(ref)} not found (give a database name or id)`);
  return row;
}
