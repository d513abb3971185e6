import type { SchemaPlan } from "../../engine/index.js";
import type { Handler } from "../context.js";
import { jsonObject, type Request } from "../http.js";
import { badRequest } from "../http-errors.js";

/**
 * tenantdb's declarative-schema extension of the Platform API, on a schema database:
 * `POST …/databases/:db/schema/plan` plans the migration to a desired schema (DDL), lints it and dry-runs
 * it on every database, changing nothing; `POST …/databases/:db/schema` applies it as one job, all or none
 * (destructive changes only with `allow_destructive`; with `expect_checksum`, only the plan that was shown).
 */

export const planSchema: Handler = async (ctx, req) => {
  const body = await schemaBody(req);
  const dryRun = body.raw.dry_run;
  if (dryRun !== undefined && typeof dryRun !== "boolean") throw badRequest('"dry_run" must be a boolean');
  const plan = await ctx.engine.planSchema(req.params.db as string, body.schema, {
    renames: body.renames,
    dryRun,
  });
  return { json: planJson(plan) };
};

export const applySchema: Handler = async (ctx, req) => {
  const body = await schemaBody(req);
  const { allow_destructive: allow, expect_checksum: expect } = body.raw;
  if (allow !== undefined && typeof allow !== "boolean")
    throw badRequest('"allow_destructive" must be a boolean');
  if (expect !== undefined && typeof expect !== "string")
    throw badRequest('"expect_checksum" must be a string');
  const name = req.params.db as string;
  const { plan, applied } = await ctx.engine.applySchema(name, body.schema, {
    renames: body.renames,
    allowDestructive: allow,
    expectChecksum: expect,
  });
  return {
    json: {
      schema_version: applied?.version ?? ctx.engine.getDatabase(name).schemaVersion,
      job_id: applied?.jobId ?? null,
      plan: planJson(plan),
    },
  };
};

function planJson(plan: SchemaPlan) {
  return {
    from_version: plan.fromVersion,
    statements: plan.statements,
    sql: plan.sql,
    checksum: plan.checksum,
    changes: plan.changes,
    lint: plan.lint,
    destructive: plan.destructive,
    dry_run: plan.dryRun ?? null,
  };
}

async function schemaBody(req: Request) {
  const raw = await jsonObject(req);
  if (typeof raw.schema !== "string")
    throw badRequest('"schema" is required: the desired schema as SQL DDL text');
  const renames = raw.renames;
  if (
    renames !== undefined &&
    (typeof renames !== "object" ||
      renames === null ||
      Array.isArray(renames) ||
      !Object.values(renames).every((v) => typeof v === "string"))
  ) {
    throw badRequest('"renames" maps new names to old ones: { "table": "old", "table.column": "old" }');
  }
  return { raw, schema: raw.schema, renames: renames as Record<string, string> | undefined };
}
