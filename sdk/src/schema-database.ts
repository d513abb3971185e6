import * as pulumi from "@pulumi/pulumi";
import { isInstanceOf, registration } from "./resource";

export interface SchemaDatabaseArgs {
  /** The database's name; omitted, it is the resource name plus a random suffix. Changing it replaces the database. */
  name?: pulumi.Input<string>;
  /** The group it lives in. Changing it replaces the database. */
  group: pulumi.Input<string>;
  /**
   * The schema's history, oldest first: each entry is one migration (one or more statements) applied to
   * the schema database and every child, all or none. Append to change the schema; applied entries
   * cannot be edited, removed or reordered. Set exactly one of `migrations` and `schema`.
   */
  migrations?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The schema as declared DDL: tenantdb plans the migration from what the fleet has, a preview shows the
   * plan and its lint and dry-runs it on every database. Set exactly one of `migrations` and `schema`.
   */
  schema?: pulumi.Input<string>;
  /** Allow a declared schema's plan to drop tables or columns (refused otherwise). */
  allowDestructive?: pulumi.Input<boolean>;
}

/** Known property values of an existing SchemaDatabase, for `SchemaDatabase.get`. */
export interface SchemaDatabaseState {
  name?: pulumi.Input<string>;
  group?: pulumi.Input<string>;
  migrations?: pulumi.Input<pulumi.Input<string>[]>;
  schema?: pulumi.Input<string>;
  allowDestructive?: pulumi.Input<boolean>;
  plan?: pulumi.Input<pulumi.Input<string>[]>;
  lint?: pulumi.Input<pulumi.Input<string>[]>;
  schemaVersion?: pulumi.Input<number>;
  childCount?: pulumi.Input<number>;
}

/** A schema database: owns the schema of its children (Databases with `schemaParent`). */
export class SchemaDatabase extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "tenantdb:index:SchemaDatabase";

  /**
   * Looks up an existing SchemaDatabase by its id, optionally with known property values (`state`); the engine
   * reads the rest from the provider.
   */
  public static get(
    name: string,
    id: pulumi.Input<pulumi.ID>,
    state?: SchemaDatabaseState,
    opts?: pulumi.CustomResourceOptions,
  ): SchemaDatabase {
    return new SchemaDatabase(name, state as SchemaDatabaseArgs, { ...opts, id });
  }

  public static isInstance(obj: unknown): obj is SchemaDatabase {
    return isInstanceOf(obj, SchemaDatabase.__pulumiType);
  }

  declare readonly name: pulumi.Output<string>;
  declare readonly group: pulumi.Output<string>;
  declare readonly migrations: pulumi.Output<string[]>;
  declare readonly schema: pulumi.Output<string | undefined>;
  declare readonly allowDestructive: pulumi.Output<boolean | undefined>;
  /** With `schema`: the plan's statements (pending in a preview, applied by the last update). */
  declare readonly plan: pulumi.Output<string[] | undefined>;
  /** With `schema`: the plan's lint, one finding per line. */
  declare readonly lint: pulumi.Output<string[] | undefined>;
  /** How many migrations the schema database and all its children carry. */
  declare readonly schemaVersion: pulumi.Output<number>;
  /** How many child databases it has. */
  declare readonly childCount: pulumi.Output<number>;

  constructor(name: string, args: SchemaDatabaseArgs, opts?: pulumi.CustomResourceOptions) {
    if (!opts?.id && !opts?.urn) {
      if (args?.group === undefined) throw new Error("Missing required property 'group'");
      if ((args?.migrations === undefined) === (args?.schema === undefined))
        throw new Error("Set exactly one of 'migrations' and 'schema'");
    }
    super(
      SchemaDatabase.__pulumiType,
      name,
      ...registration(
        args,
        ["name", "group", "migrations", "schema", "allowDestructive"],
        ["schemaVersion", "childCount", "plan", "lint"],
        opts,
      ),
    );
  }
}
