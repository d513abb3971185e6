import type Database from "better-sqlite3";
import type { DatabaseRow } from "../catalog.js";
import type { EngineContext } from "../context.js";
import { requireDatabaseRow } from "../databases.js";
import { conflict, failedPrecondition } from "../errors.js";
import type { ProgressListener } from "../jobs/runner.js";
import {
  checksumOf,
  listMigrations,
  type MigrationResult,
  migrate,
  type PreviewFailure,
  previewMigrations,
  requireSchemaDatabase,
} from "../migrations.js";
import { readStamp } from "../stamp.js";
import { canonicalDdl, describeDiff } from "./ddl.js";
import { openReadOnly, readDatabaseSchema, readDesiredSchema } from "./desired.js";
import { diffSchemas, isEmptyDiff } from "./diff.js";
import { type Finding, lintDiff, type RowCost } from "./lint.js";
import { keyOf, type Schema } from "./model.js";
import { planStatements } from "./plan.js";
import { readSchema } from "./read.js";
import { afterRenames, applicableRenames, declaredRenames } from "./rename.js";
import { quoteName } from "./text.js";

export interface SchemaPlanOptions {
  /** Renames beyond the `-- renamed from` hints: `{ "new_table": "old", "table.new_column": "old" }`. */
  renames?: Record<string, string>;
  /** Dry-run the plan on the schema database and every child (default true). */
  dryRun?: boolean;
  /** Count the rows each rebuild copies on every database (default true). */
  cost?: boolean;
}

export interface SchemaPlan {
  database: string;
  /** The schema version the plan starts from; applying it makes version + 1. */
  fromVersion: number;
  statements: string[];
  /** The migration the plan is recorded as; empty when there is nothing to do. */
  sql: string;
  /** Names exactly this plan: `apply` with `expectChecksum` refuses any other. */
  checksum: string;
  changes: string[];
  lint: Finding[];
  destructive: boolean;
  dryRun?: { databases: number; failed: number; failures: PreviewFailure[] };
}

/** Plans the migration from a schema database's schema to `desired` (DDL), and checks it. Changes nothing. */
export async function planSchema(
  ctx: EngineContext,
  name: string,
  desired: string,
  opts: SchemaPlanOptions = {},
): Promise<SchemaPlan> {
  const parent = requireSchemaDatabase(ctx, name);
  const want = readDesiredSchema(desired);
  const have = readDatabaseSchema(ctx, parent);
  const renames = applicableRenames(have, want, declaredRenames(desired, opts.renames));
  const renamed = afterRenames(have, renames);
  const diff = diffSchemas(renamed, want, renames);
  const statements = isEmptyDiff(diff) ? [] : planStatements(diff, renamed, want);
  const lint = lintDiff(diff);
  const sql =
    statements.length === 0
      ? ""
      : `-- planned by tenantdb from a declared schema\n${statements.map((s) => `${s};`).join("\n")}\n`;
  const plan: SchemaPlan = {
    database: parent.name,
    fromVersion: parent.schema_version,
    statements,
    sql,
    // The starting version is part of the name: the same statements on a schema that moved are not the plan
    // that was previewed.
    checksum: checksumOf(`version ${parent.schema_version}\n${sql}`),
    changes: describeDiff(diff),
    lint,
    destructive: lint.some((f) => f.kind === "destructive"),
  };
  if (statements.length === 0) return plan;
  // Rows are counted in the files as they are, where a table being renamed still has its old name.
  const oldName = (table: string) =>
    renames.find((r) => r.column === undefined && keyOf(r.table) === keyOf(table))?.from ?? table;
  const rebuilt = new Map(
    diff.alteredTables.filter((t) => t.rebuild).map((t) => [oldName(t.desired.name), t.desired.name]),
  );
  if (opts.cost !== false && rebuilt.size > 0) {
    const costs = rowsToCopy(ctx, parent, [...rebuilt.keys()]);
    for (const [old, table] of rebuilt) {
      const finding = lint.find((f) => f.kind === "rebuild" && f.object === table);
      if (finding) finding.rows = costs.get(old);
    }
  }
  if (opts.dryRun !== false) {
    const applied = listMigrations(ctx, name).map((m) => m.sql);
    const dry = await previewMigrations(ctx, name, [...applied, sql]);
    plan.dryRun = { databases: dry.databases, failed: dry.failed, failures: dry.failures };
  }
  return plan;
}

export interface SchemaApplyOptions extends SchemaPlanOptions {
  /** Destructive changes (dropped tables or columns) are refused without this. */
  allowDestructive?: boolean;
  /** The checksum of the plan that was previewed: if the plan differs now, nothing is applied. */
  expectChecksum?: string;
  onProgress?: ProgressListener;
}

/**
 * Applies the plan as one migration job (all or none, dry-run on every tenant first). Applying a schema
 * the database already has is no job at all.
 */
export async function applySchema(
  ctx: EngineContext,
  name: string,
  desired: string,
  opts: SchemaApplyOptions = {},
): Promise<{ plan: SchemaPlan; applied: MigrationResult | null }> {
  // The job dry-runs the plan on every database itself; a second dry run here would only cost time.
  const plan = await planSchema(ctx, name, desired, { ...opts, dryRun: false, cost: false });
  if (opts.expectChecksum !== undefined && opts.expectChecksum !== plan.checksum) {
    throw conflict(
      `the schema of "${name}" moved since the plan was previewed, so the plan is no longer the one shown; preview again`,
    );
  }
  if (plan.statements.length === 0) return { plan, applied: null };
  if (plan.destructive && !opts.allowDestructive) {
    const what = plan.lint.filter((f) => f.kind === "destructive").map((f) => f.message);
    throw failedPrecondition(
      `the plan is destructive and was not allowed (allow destructive changes to apply it): ${what.join("; ")}`,
    );
  }
  const applied = await migrate(ctx, name, plan.sql, {
    expectVersion: plan.fromVersion,
    onProgress: opts.onProgress,
  });
  return { plan, applied };
}

/** A database's schema as canonical DDL. */
export function showSchema(ctx: EngineContext, name: string): string {
  return canonicalDdl(readDatabaseSchema(ctx, requireDatabaseRow(ctx, name)));
}

export interface DriftReport {
  database: string;
  version: number;
  /** Databases compared: the schema database and its children. */
  databases: number;
  drifted: { database: string; version: number; expectedVersion: number; differences: string[] }[];
}

/**
 * Compares the schema database's file with its catalog version, and every child's file with the schema
 * database's schema and version: a file changed outside the engine shows up here.
 */
export function schemaDrift(ctx: EngineContext, name: string): DriftReport {
  const parent = requireSchemaDatabase(ctx, name);
  const reference = readDatabaseSchema(ctx, parent);
  const report: DriftReport = {
    database: parent.name,
    version: parent.schema_version,
    databases: 0,
    drifted: [],
  };
  forEachDatabase(ctx, parent, (row) => {
    report.databases++;
    let file: { schema: Schema; version: number };
    try {
      file = readFile(ctx, row);
    } catch (e) {
      // A file nobody can read has drifted as far as it can.
      const error = `cannot be read: ${(e as Error).message}`;
      report.drifted.push({
        database: row.name,
        version: -1,
        expectedVersion: parent.schema_version,
        differences: [error],
      });
      return;
    }
    const { schema, version } = file;
    const differences = row.id === parent.id ? [] : describeDiff(diffSchemas(reference, schema));
    if (version !== parent.schema_version)
      differences.unshift(`schema version ${version}, expected ${parent.schema_version}`);
    if (differences.length > 0)
      report.drifted.push({
        database: row.name,
        version,
        expectedVersion: parent.schema_version,
        differences,
      });
  });
  return report;
}

function readFile(ctx: EngineContext, row: Pick<DatabaseRow, "path">): { schema: Schema; version: number } {
  const db = openReadOnly(ctx, row.path);
  try {
    return { schema: readSchema(db), version: readStamp(db).version };
  } finally {
    db.close();
  }
}

/** The rows each rebuilt table holds, per table over the schema database and every child. */
function rowsToCopy(ctx: EngineContext, parent: DatabaseRow, tables: string[]): Map<string, RowCost> {
  const costs = new Map<string, RowCost>(tables.map((t) => [t, { total: 0, max: 0, databases: 0 }]));
  forEachDatabase(ctx, parent, (row) => {
    const db = openReadOnly(ctx, row.path);
    try {
      for (const t of tables) {
        // A child missing the table has drifted (`schema drift` says so); its dry run fails anyway.
        const n = tryCount(db, t);
        const cost = costs.get(t) as RowCost;
        cost.total += n;
        cost.max = Math.max(cost.max, n);
        cost.databases++;
      }
    } finally {
      db.close();
    }
  });
  return costs;
}

function tryCount(db: Database.Database, table: string): number {
  try {
    return db
      .prepare(`SELECT count(*) FROM ${quoteName(table)}`)
      .pluck()
      .get() as number;
  } catch {
    return 0;
  }
}

/** The schema database and then its children, a page at a time: a fleet may hold thousands. */
function forEachDatabase(
  ctx: EngineContext,
  parent: DatabaseRow,
  fn: (row: Pick<DatabaseRow, "id" | "name" | "path">) => void,
): void {
  fn(parent);
  let after = 0;
  for (;;) {
    const rows = ctx.catalog
      .prepare("SELECT id, name, path FROM databases WHERE parent_id = ? AND id > ? ORDER BY id LIMIT 512")
      .all(parent.id, after) as Pick<DatabaseRow, "id" | "name" | "path">[];
    for (const r of rows) fn(r);
    const last = rows.at(-1);
    if (!last) return;
    after = last.id;
  }
}
