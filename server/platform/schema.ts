import type { Handler } from "../context.js";
import { jsonObject, type Request } from "../http.js";
import { badRequest } from "../http-errors.js";

/**
 * tenantdb's declarative-schema extension of the Platform API, on a schema database:
 * `POST …/databases/:db/schema/plan` plans the migration to a desired schema (DDL), lints it and dry-runs
 * it on every database, changing nothing; `POST …/databases/:db/schema` applies it as one job, all or none
 * (destructive changes only with `allow_destructive`; with `expect_checksum`, only the plan that was shown).
 * Both read every tenant's files, so an executor runs them (executor/tasks.ts), never the HTTP thread.
 */

export const planSchema: Handler = async (ctx, req) => {
  const body = await schemaBody(req);
  const dryRun = body.raw.dry_run;
  if (dryRun !== undefined && typeof dryRun !== "boolean") throw badRequest('"dry_run" must be a boolean');
  const task = {
    kind: "planSchema" as const,
    database: req.params.db as string,
    schema: body.schema,
    renames: body.renames,
    dryRun,
  };
  return { rawJson: await ctx.executors.runTask(task, PLATFORM, req.signal) };
};

export const applySchema: Handler = async (ctx, req) => {
  const body = await schemaBody(req);
  const { allow_destructive: allow, expect_checksum: expect } = body.raw;
  if (allow !== undefined && typeof allow !== "boolean")
    throw badRequest('"allow_destructive" must be a boolean');
  if (expect !== undefined && typeof expect !== "string")
    throw badRequest('"expect_checksum" must be a string');
  const task = {
    kind: "applySchema" as const,
    database: req.params.db as string,
    schema: body.schema,
    renames: body.renames,
    allowDestructive: allow,
    expectChecksum: expect,
  };
  return { rawJson: await ctx.executors.runTask(task, PLATFORM, req.signal) };
};

/** Who asks, for the executors' fairness between owners: the Platform API is one. */
const PLATFORM = "platform";

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
