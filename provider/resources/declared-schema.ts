import { failedPrecondition } from "../../engine/errors.js";
import { isTenantDbError, validateSchema } from "../../engine/index.js";
import type { Backend } from "../backends/backend.js";
import type { Fields } from "../fields.js";
import { isUnknown, type Unknown } from "../properties.js";
import { forgetPreviews, previewedChecksum, rememberPreview } from "./previewed-plans.js";

/**
 * A SchemaDatabase's `schema`: the declared schema (DDL) instead of a list of migrations. The engine plans
 * the migration from what the fleet has (engine/schema); a preview shows the plan and its lint in the
 * outputs and dry-runs it on every database, failing with the databases where it would fail; `up` applies
 * the plan the preview showed (previewed-plans.ts), and refuses when the plan it would make now is another
 * one (the schema moved in between). Each applied plan is recorded as a migration.
 */

export const declaredSchemaInputs = {
  schema: {
    type: "string",
    optional: true,
    outputOptional: true,
    description:
      "The schema as declared DDL (CREATE TABLE, INDEX, VIEW and TRIGGER statements); tenantdb plans the migration from what the fleet has, ALTERs where SQLite allows them and table rebuilds otherwise. Renames only when declared with a `-- renamed from old_name` comment. Set exactly one of `migrations` and `schema`.",
  },
  allowDestructive: {
    type: "boolean",
    optional: true,
    outputOptional: true,
    description: "Allow a declared schema's plan to drop tables or columns (refused otherwise).",
  },
} as const;

export const declaredSchemaOutputs = {
  plan: {
    type: "string[]",
    outputOptional: true,
    description:
      "With `schema`: the statements of the plan — pending in a preview, applied by the last update.",
  },
  lint: {
    type: "string[]",
    outputOptional: true,
    description:
      "With `schema`: the plan's lint, one finding per line (destructive, data-dependent, rebuild with its rows to copy, backward-incompatible).",
  },
} as const;

export function decodeDeclaredSchema(f: Fields, hasMigrations: boolean) {
  const schema = f.string("schema", { optional: true });
  const allowDestructive = f.boolean("allowDestructive", { optional: true });
  if (hasMigrations === (schema !== undefined)) {
    f.fail(
      "schema",
      "set exactly one of `migrations` (a list of migrations) and `schema` (the declared DDL)",
    );
  } else if (typeof schema === "string" && !isUnknown(schema)) {
    try {
      validateSchema(schema);
    } catch (e) {
      if (!isTenantDbError(e)) throw e;
      f.fail("schema", e.message);
    }
  }
  return { schema, allowDestructive };
}

export interface DeclaredOutputs {
  schemaVersion: number;
  plan: string[];
  lint: string[];
}

/** The preview: plan, lint and dry run; fails naming the databases where the plan would fail. */
export async function previewDeclared(
  backend: Backend,
  database: string,
  schema: string,
  allowDestructive: boolean | Unknown | undefined,
): Promise<DeclaredOutputs> {
  const plan = await backend.planSchema(database, schema, { dryRun: true });
  const dry = plan.dryRun;
  if (dry && dry.failed > 0) {
    const listed = dry.failures.map((f) => `${f.database}: ${f.error}`).join("; ");
    const more = dry.failed > dry.failures.length ? `; and ${dry.failed - dry.failures.length} more` : "";
    throw failedPrecondition(
      `the declared schema of "${database}" plans a migration that would fail on ${dry.failed} of ${dry.databases} database(s), so nothing was changed: ${listed}${more}`,
    );
  }
  if (plan.destructive && allowDestructive !== true && !isUnknown(allowDestructive))
    refuseDestructive(database, plan.lint);
  rememberPreview({ fleet: backend.identity, database, schema }, plan.checksum);
  const version = plan.fromVersion + (plan.statements.length > 0 ? 1 : 0);
  return { schemaVersion: version, plan: plan.statements, lint: plan.lint };
}

/** `up`: applies the plan the preview showed (the engine refuses another one), as one job. */
export async function applyDeclared(
  backend: Backend,
  database: string,
  schema: string,
  allowDestructive: boolean,
): Promise<Omit<DeclaredOutputs, "schemaVersion">> {
  const where = { fleet: backend.identity, database, schema };
  const applied = await backend.applySchema(database, schema, {
    allowDestructive,
    expectChecksum: previewedChecksum(where),
  });
  forgetPreviews(where);
  return { plan: applied.statements, lint: applied.lint };
}

function refuseDestructive(database: string, lint: string[]): never {
  const what = lint.filter((l) => l.startsWith("destructive"));
  throw failedPrecondition(
    `the declared schema of "${database}" drops data (${what.join("; ")}); set allowDestructive: true to apply it`,
  );
}
