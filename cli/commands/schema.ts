import fs from "node:fs";
import { failedPrecondition, invalidArgument, type SchemaPlan } from "../../engine/index.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson, printLine, printTable } from "../output.js";
import { jobProgress } from "../progress.js";

export interface SchemaOptions {
  rename?: string[];
  allowDestructive?: boolean;
}

/** `tenantdb db schema plan`: the statements, the lint and the dry run on every tenant; changes nothing. */
export async function schemaPlan(g: GlobalOptions, name: string, file: string, opts: SchemaOptions) {
  const desired = readSchemaFile(file);
  await withEngine(g, async (engine) => {
    const plan = await engine.planSchema(name, desired, { renames: renamesOf(opts.rename) });
    if (g.json) printJson(plan);
    else printPlan(plan);
    const dry = plan.dryRun;
    if (dry && dry.failed > 0) {
      throw failedPrecondition(
        `the plan fails on ${dry.failed} of ${dry.databases} database(s): ${dry.failures.map((f) => `${f.database}: ${f.error}`).join("; ")}`,
      );
    }
  });
}

/** `tenantdb db schema apply`: plans and applies as one migration job, all or none. */
export async function schemaApply(g: GlobalOptions, name: string, file: string, opts: SchemaOptions) {
  const desired = readSchemaFile(file);
  await withEngine(g, async (engine) => {
    const progress = jobProgress(!g.json);
    const { plan, applied } = await engine
      .applySchema(name, desired, {
        renames: renamesOf(opts.rename),
        allowDestructive: opts.allowDestructive,
        onProgress: progress.onProgress,
      })
      .finally(progress.done);
    if (g.json) return printJson({ plan, applied });
    if (!applied) return printLine(`${name} already has this schema: nothing to do.`);
    printPlan(plan);
    printLine();
    printLine(
      `Applied as job ${applied.jobId}: ${name} and its children (${applied.databases} databases) are at schema version ${applied.version}.`,
    );
  });
}

/** `tenantdb db schema show`: the current schema as canonical DDL. */
export async function schemaShow(g: GlobalOptions, name: string) {
  await withEngine(g, (engine) => {
    const ddl = engine.showSchema(name);
    if (g.json) printJson({ database: name, schema: ddl });
    else process.stdout.write(ddl);
  });
}

/** `tenantdb db schema drift`: every child against its schema database; exits 1 when any drifted. */
export async function schemaDrift(g: GlobalOptions, name: string) {
  await withEngine(g, (engine) => {
    const report = engine.schemaDrift(name);
    if (g.json) printJson(report);
    else if (report.drifted.length === 0) {
      printLine(
        `No drift: ${report.databases} database(s) match ${name} at schema version ${report.version}.`,
      );
    } else {
      printTable(
        ["database", "version", "differences"],
        report.drifted.map((d) => [d.database, d.version, d.differences.join("; ")]),
      );
    }
    if (report.drifted.length > 0) {
      throw failedPrecondition(
        `${report.drifted.length} of ${report.databases} database(s) drifted from ${name}: ${report.drifted.map((d) => d.database).join(", ")}`,
      );
    }
  });
}

function printPlan(plan: SchemaPlan): void {
  if (plan.statements.length === 0) {
    printLine(`${plan.database} already has this schema: nothing to do.`);
    return;
  }
  printLine(`Plan for ${plan.database} (schema version ${plan.fromVersion} → ${plan.fromVersion + 1}):`);
  for (const c of plan.changes) printLine(`  - ${c}`);
  printLine();
  printLine("Statements:");
  for (const s of plan.statements) printLine(`  ${s.replace(/\n/g, "\n  ")};`);
  if (plan.lint.length > 0) {
    printLine();
    printLine("Lint:");
    for (const f of plan.lint) {
      const rows = f.rows
        ? ` [copies ${f.rows.total} row(s) over ${f.rows.databases} database(s), at most ${f.rows.max} in one]`
        : "";
      printLine(`  ${f.kind} ${f.code}: ${f.message}${rows}`);
    }
  }
  if (plan.dryRun) {
    printLine();
    printLine(
      plan.dryRun.failed === 0
        ? `Dry run: passed on all ${plan.dryRun.databases} database(s).`
        : `Dry run: FAILED on ${plan.dryRun.failed} of ${plan.dryRun.databases} database(s):`,
    );
    for (const f of plan.dryRun.failures) printLine(`  ${f.database}: ${f.error}`);
  }
  if (plan.destructive) printLine("\nThe plan is destructive: apply it with --allow-destructive.");
}

function readSchemaFile(file: string): string {
  try {
    return fs.readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    throw invalidArgument(`cannot read the schema file ${file}: ${(e as Error).message}`);
  }
}

/** `--rename table.new=old` (repeatable) into the engine's `{ "table.new": "old" }`. */
function renamesOf(list: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0 || eq === item.length - 1)
      throw invalidArgument(`--rename takes new=old (a table) or table.new=old (a column), not "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
