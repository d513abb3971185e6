import type { Handler } from "../context.js";
import { jsonObject, type Request } from "../http.js";
import { badRequest } from "../http-errors.js";

/**
 * tenantdb's extension of the Platform API for schema databases, which Turso's API has no routes for:
 * `…/databases/:db/migrations` lists what was applied and applies a desired list (only its pending tail,
 * as one job, all or none), and `…/migrations/preview` dry-runs that tail everywhere without changing
 * anything. This is what the provider's Platform API backend needs to manage a SchemaDatabase.
 */

export const listMigrations: Handler = (ctx, req) => {
  const name = req.params.db as string;
  const migrations = ctx.engine.listMigrations(name);
  return {
    json: {
      schema_version: ctx.engine.getDatabase(name).schemaVersion,
      migrations: migrations.map((m) => ({
        version: m.version,
        sql: m.sql,
        checksum: m.checksum,
        job_id: m.jobId,
        applied_at: m.appliedAt,
      })),
    },
  };
};

export const previewMigrations: Handler = async (ctx, req) => {
  const preview = await ctx.engine.previewMigrations(req.params.db as string, await migrationsOf(req));
  return { json: { databases: preview.databases, failed: preview.failed, failures: preview.failures } };
};

/** Idempotent: a list whose every migration is applied already starts no job (`job_id` is null). */
export const applyMigrations: Handler = async (ctx, req) => {
  const result = await ctx.engine.applyMigrations(req.params.db as string, await migrationsOf(req));
  return { json: { schema_version: result.version, job_id: result.applied?.jobId ?? null } };
};

/** The whole desired list, applied ones first: the engine works out the pending tail itself. */
async function migrationsOf(req: Request): Promise<string[]> {
  const { migrations } = await jsonObject(req);
  if (!Array.isArray(migrations) || !migrations.every((m) => typeof m === "string")) {
    throw badRequest('"migrations" is required: the ordered list of migrations, each SQL text');
  }
  return migrations;
}
