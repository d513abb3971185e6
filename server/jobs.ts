import { permissionDenied } from "../engine/errors.js";
import { sqldJobStatus, sqldTaskStatus } from "../engine/jobs/states.js";
import { canRead } from "../engine/tokens/permissions.js";
import { wholeNumber } from "../engine/whole-number.js";
import type { Handler, ServerContext } from "./context.js";
import { authenticateDatabase } from "./database-auth.js";
import type { Request } from "./http.js";
import { badRequest } from "./http-errors.js";

/**
 * sqld's migration status API on a schema database: `GET [/db/<name>]/v1/jobs` and `/v1/jobs/<id>`,
 * behind a database token that may read the schema database. Job and task states use sqld's names.
 */

export const listJobs: Handler = async (ctx, req) => {
  const parent = await readableSchemaDatabase(ctx, req);
  const jobs = ctx.engine.listJobs(parent); // newest first, as sqld lists them
  return {
    json: {
      schema_version: ctx.engine.getDatabase(parent).schemaVersion,
      migrations: jobs.map((j) => ({ job_id: j.id, status: sqldJobStatus(j.state) })),
    },
  };
};

/**
 * One job with a page of its per-database progress (`?after=<seq>&limit=<n>`, default 1000): a job over
 * 100,000 children is not one 5 MB answer. A finished job lists only the databases that failed; the
 * counts per state (tenantdb's `progress_counts`) cover all of them.
 */
export const getJob: Handler = async (ctx, req) => {
  const parent = await readableSchemaDatabase(ctx, req);
  const raw = req.params.id as string;
  if (!/^\d{1,15}$/.test(raw)) throw badRequest(`job id must be a number, not ${JSON.stringify(raw)}`);
  const job = ctx.engine.getJob(parent, Number(raw), {
    after: numberParam(req, "after"),
    limit: numberParam(req, "limit"),
  });
  return {
    json: {
      job_id: job.id,
      status: sqldJobStatus(job.state),
      // sqld omits the job's error when there is none.
      ...(job.error !== null ? { error: job.error } : {}),
      progress: job.tasks.map((t) => ({
        namespace: t.database,
        status: sqldTaskStatus(t.state),
        error: t.error,
      })),
      progress_counts: job.progress,
      total: job.total,
      next_after: job.nextAfter,
    },
  };
};

function numberParam(req: Request, name: string): number | undefined {
  const raw = req.query.get(name);
  if (raw === null) return undefined;
  const n = wholeNumber(raw);
  if (n === undefined) throw badRequest(`"${name}" must be a whole number, not ${JSON.stringify(raw)}`);
  return n;
}

async function readableSchemaDatabase(ctx: ServerContext, req: Request): Promise<string> {
  const { database, principal } = await authenticateDatabase(ctx.engine, req, req.params.db);
  const db = ctx.engine.getDatabase(database);
  if (principal.kind === "token" && !canRead(principal.permissions, { database, group: db.group })) {
    throw permissionDenied(`this token does not grant reading database "${database}"`);
  }
  return database;
}
