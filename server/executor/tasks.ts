import type { Engine, SchemaPlan } from "../../engine/index.js";
import type { ExecutorTask } from "./protocol.js";

/**
 * Platform work that reads tenants' files — planning a declared schema counts the rows a rebuild would
 * copy in every database and dry-runs the plan — run in an executor like a statement, so the server's
 * HTTP thread never waits on SQLite for it. Returns the reply's JSON body.
 */
export async function runTask(engine: Engine, task: ExecutorTask): Promise<unknown> {
  switch (task.kind) {
    case "planSchema":
      return planJson(
        await engine.planSchema(task.database, task.schema, { renames: task.renames, dryRun: task.dryRun }),
      );
    case "applySchema": {
      const { plan, applied } = await engine.applySchema(task.database, task.schema, {
        renames: task.renames,
        allowDestructive: task.allowDestructive,
        expectChecksum: task.expectChecksum,
      });
      return {
        schema_version: applied?.version ?? engine.getDatabase(task.database).schemaVersion,
        job_id: applied?.jobId ?? null,
        plan: planJson(plan),
      };
    }
  }
}

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
