import equal from "fast-deep-equal";
import { failedPrecondition } from "../../engine/errors.js";
import { historyConflict, isTenantDbError, validateMigration } from "../../engine/index.js";
import type { Backend, MigrationPreview } from "../backends/backend.js";
import { Fields } from "../fields.js";
import { containsUnknown, isUnknown, type PropertyMap, UNKNOWN } from "../properties.js";
import type { CheckFailure, Resource } from "../resource.js";
import { migrationOptions } from "../waiting.js";
import { ignoreNotFound, known, mergeFailures, named, replacing } from "./common.js";
import {
  applyDeclared,
  declaredSchemaInputs,
  declaredSchemaOutputs,
  decodeDeclaredSchema,
  previewDeclared,
} from "./declared-schema.js";

/**
 * A schema database: owns the schema of its tenant databases. Its migrations are an append-only list;
 * appending is an in-place update that reaches the parent and every child all-or-none, and a preview
 * dry-runs the new ones everywhere first. Its id is its name.
 */

export interface SchemaDatabaseArgs {
  name: string;
  group: string;
  /** Exactly one of `migrations` (imperative) and `schema` (declarative, see declared-schema.ts). */
  migrations?: string[];
  schema?: string;
  allowDestructive?: boolean;
}

export interface SchemaDatabaseState extends SchemaDatabaseArgs {
  schemaVersion: number;
  childCount: number;
  plan?: string[];
  lint?: string[];
}

const inputs = {
  name: {
    type: "string",
    optional: true,
    replaceOnChanges: true,
    description:
      "The schema database's name: 1–64 lowercase letters, digits and dashes. Omit it to get the resource name plus a random suffix.",
  },
  group: { type: "string", replaceOnChanges: true, description: "The group the schema database lives in." },
  migrations: {
    type: "string[]",
    optional: true,
    description:
      "The schema as an ordered list of migrations, each one or more SQL statements. Append-only: once applied, a migration cannot be edited, removed or reordered — append a new one instead. Set exactly one of `migrations` and `schema`.",
  },
  ...declaredSchemaInputs,
} as const;

const outputs = {
  schemaVersion: { type: "integer", description: "How many migrations have been applied." },
  childCount: { type: "integer", description: "How many tenant databases follow this schema database." },
  ...declaredSchemaOutputs,
} as const;

function decode(map: PropertyMap) {
  const f = new Fields(map, inputs);
  const migrations = f.strings("migrations", { optional: true });
  if (Array.isArray(migrations)) {
    for (const [i, sql] of migrations.entries()) {
      if (isUnknown(sql)) continue;
      try {
        validateMigration(sql);
      } catch (e) {
        if (!isTenantDbError(e)) throw e;
        f.fail(`migrations[${i}]`, e.message);
      }
    }
  }
  const declared = decodeDeclaredSchema(f, map.migrations !== undefined && map.migrations !== null);
  const args = { name: f.name("name", "database"), group: f.name("group", "group"), migrations, ...declared };
  return { args: args as SchemaDatabaseArgs, failures: f.failures };
}

export const SchemaDatabase: Resource<SchemaDatabaseArgs, SchemaDatabaseState> = {
  token: "tenantdb:index:SchemaDatabase",
  description:
    "A schema database: its migrations reach every tenant database created with it as `schemaParent`, all or none. A preview dry-runs new migrations on every database and fails, naming the databases, if any would fail.",
  inputs,
  outputs,
  identity: "name",
  decode,
  exists: async (ctx, name) => (await ctx.backend.getDatabase(name)) !== null,
  // Tenant databases come and go as other resources: the count is read, never remembered.
  async observe(ctx, id) {
    const db = await ctx.backend.getDatabase(id);
    return db && { schemaVersion: db.schemaVersion, childCount: await ctx.backend.countChildren(id) };
  },

  async check(ctx, req) {
    const naming = named(ctx, req);
    const news: PropertyMap = naming.news;
    // Whitespace around a migration means nothing to SQLite, and the engine's history ignores it: drop it
    // here too, so re-indenting a template literal is not a diff that applies nothing.
    if (Array.isArray(news.migrations)) {
      news.migrations = news.migrations.map((m) => (typeof m === "string" && !isUnknown(m) ? m.trim() : m));
    }
    const decoded = decode(news);
    const { args } = decoded;
    const failures = mergeFailures(naming.failures, decoded.failures);
    // A replacement starts a fresh database, so only an in-place change is held to the applied history.
    if (
      failures.length === 0 &&
      args.migrations !== undefined &&
      !containsUnknown(args) &&
      !replacing(req.olds, news, ["name", "group"])
    ) {
      failures.push(...(await historyFailures(ctx.backend, req.olds, args)));
    }
    return { inputs: news, failures };
  },

  async create(ctx, { args, preview }) {
    if (preview) {
      // A new schema database has no children and no data yet, but its migrations must at least run on an
      // empty database: catch the typo in preview, not in `up`.
      if (Array.isArray(args.migrations) && !containsUnknown(args.migrations)) {
        const failure = await ctx.backend.previewNewMigrations(args.migrations as string[]);
        if (failure) {
          throw failedPrecondition(
            `migration ${failure.migration} of the new schema database would fail on an empty database: ${failure.error}`,
          );
        }
      }
      const schemaVersion = Array.isArray(args.migrations) ? args.migrations.length : UNKNOWN;
      const id = isUnknown(args.name) ? "" : args.name;
      return { id, state: { ...args, schemaVersion, childCount: 0 } };
    }
    const { name, group, migrations = [], schema } = known(args);
    await ctx.backend.createDatabase(name, { group, type: "schema" });
    try {
      if (schema !== undefined) {
        // A new schema database has nothing to lose: its first plan only creates.
        const { plan, lint } = await applyDeclared(ctx.backend, name, schema, true);
        return { id: name, state: { ...(await currentState(ctx.backend, name)), schema, plan, lint } };
      }
      if (migrations.length > 0)
        await ctx.backend.applyMigrations(name, migrations, migrationOptions(ctx, name));
    } catch (e) {
      // The database was made a moment ago and has no children: remove it so a failed create leaves
      // nothing behind and the next `up` starts clean.
      await ignoreNotFound(() => ctx.backend.destroyDatabase(name));
      throw e;
    }
    return { id: name, state: await currentState(ctx.backend, name) };
  },

  async read(ctx, req) {
    const { id } = req;
    const db = await ctx.backend.getDatabase(id);
    if (!db) return null;
    if (db.type !== "schema") {
      throw failedPrecondition(
        `"${id}" is not a schema database; manage it with a tenantdb:index:Database resource instead`,
      );
    }
    const state = await currentState(ctx.backend, id);
    // A declared schema stays the input (its applied plans are the history in `migrations`).
    if (typeof req.inputs.schema === "string") {
      const allow = req.inputs.allowDestructive;
      const declared = {
        schema: req.inputs.schema,
        ...(typeof allow === "boolean" && { allowDestructive: allow }),
      };
      return {
        id,
        state: { ...state, ...declared },
        inputs: { name: state.name, group: state.group, ...declared },
      };
    }
    return { id, state, inputs: { name: state.name, group: state.group, migrations: state.migrations } };
  },

  // Only `migrations` (by appending) or `schema` change in place; name and group replace.
  async update(ctx, { id, olds, oldArgs, args, preview }) {
    if (args.schema !== undefined) {
      if (preview) {
        if (isUnknown(args.schema)) {
          return {
            ...args,
            schemaVersion: UNKNOWN,
            childCount: olds.childCount,
            plan: UNKNOWN,
            lint: UNKNOWN,
          };
        }
        const outputs = await previewDeclared(ctx.backend, id, args.schema, args.allowDestructive);
        return {
          ...args,
          migrations: olds.migrations,
          childCount: await ctx.backend.countChildren(id),
          ...outputs,
        };
      }
      const { schema, allowDestructive } = known(args);
      const { plan, lint } = await applyDeclared(
        ctx.backend,
        id,
        schema as string,
        allowDestructive === true,
      );
      return { ...(await currentState(ctx.backend, id)), schema, allowDestructive, plan, lint };
    }
    if (preview) {
      if (containsUnknown(args.migrations)) {
        return { ...args, schemaVersion: UNKNOWN, childCount: olds.childCount };
      }
      const migrations = args.migrations as string[];
      assertPreviewPasses(id, await ctx.backend.previewMigrations(id, migrations));
      return { ...args, schemaVersion: migrations.length, childCount: await ctx.backend.countChildren(id) };
    }
    const { migrations = [] } = known(args);
    // Only outputs moved (Diff's observation): read them, run nothing.
    if (equal(migrations, oldArgs.migrations)) return currentState(ctx.backend, id);
    // The engine applies every pending migration as one job: dry-run everywhere, then all or none.
    const job = migrationOptions(ctx, id);
    await ctx.backend.applyMigrations(id, migrations, job);
    job.finished();
    return currentState(ctx.backend, id);
  },

  async delete(ctx, { id }) {
    // Refused by the engine (FAILED_PRECONDITION) while tenant databases still follow it.
    await ignoreNotFound(() => ctx.backend.destroyDatabase(id));
  },
};

/** Edited, removed or reordered migrations, against the last inputs and against what was applied. */
async function historyFailures(
  backend: Backend,
  olds: PropertyMap,
  args: SchemaDatabaseArgs,
): Promise<CheckFailure[]> {
  const failures: CheckFailure[] = [];
  const add = (reason: string | null) => {
    if (reason && !failures.some((f) => f.reason === reason))
      failures.push({ property: "migrations", reason });
  };
  const previous = olds.migrations;
  const migrations = args.migrations ?? [];
  if (Array.isArray(previous) && previous.every((m) => typeof m === "string")) {
    add(historyConflict(previous, migrations));
  }
  // The engine's list is the truth (the old inputs may predate changes made with the CLI); it is only
  // consulted for this resource's own database, never a stranger's that happens to share the name.
  if (olds.name === args.name) {
    add(historyConflict(await appliedOrEmpty(backend, args.name), migrations));
  }
  return failures;
}

async function appliedOrEmpty(backend: Backend, name: string): Promise<string[]> {
  try {
    return await backend.listMigrations(name);
  } catch (e) {
    // Gone, or not a schema database: nothing applied to compare with; create/read report it properly.
    if (isTenantDbError(e) && (e.code === "NOT_FOUND" || e.code === "FAILED_PRECONDITION")) return [];
    throw e;
  }
}

async function currentState(backend: Backend, name: string): Promise<SchemaDatabaseState> {
  const db = await backend.getDatabase(name);
  if (!db) throw failedPrecondition(`schema database "${name}" disappeared while it was being read`);
  return {
    name: db.name,
    group: db.group,
    migrations: await backend.listMigrations(name),
    schemaVersion: db.schemaVersion,
    childCount: await backend.countChildren(name),
  };
}

/** A failing dry run fails the preview (or the update), naming every database and SQLite's error. */
function assertPreviewPasses(name: string, preview: MigrationPreview): void {
  if (preview.failed === 0) return;
  const listed = preview.failures.map((f) => `${f.database}: ${f.error}`).join("; ");
  const more =
    preview.failed > preview.failures.length ? `; and ${preview.failed - preview.failures.length} more` : "";
  throw failedPrecondition(
    `the new migrations of "${name}" would fail on ${preview.failed} of ${preview.databases} database(s), so nothing was changed: ${listed}${more}. Fix or replace the new migrations (applied ones stay as they are).`,
  );
}
