import * as pulumi from "@pulumi/pulumi";
import { isInstanceOf, registration } from "./resource";

export interface DatabaseArgs {
  /** The database's name; omitted, it is the resource name plus a random suffix. Changing it replaces the database. */
  name?: pulumi.Input<string>;
  /** The group it lives in (a child's must be its parent's). Changing it replaces the database. */
  group: pulumi.Input<string>;
  /** The schema database this one is a child of: created as a copy of it, and DDL on it is blocked. Changing it replaces the database. */
  schemaParent?: pulumi.Input<string>;
  /** Refuse reads (BLOCKED). */
  blockReads?: pulumi.Input<boolean>;
  /** Refuse writes (BLOCKED). */
  blockWrites?: pulumi.Input<boolean>;
}

/** Known property values of an existing Database, for `Database.get`. */
export interface DatabaseState {
  name?: pulumi.Input<string>;
  group?: pulumi.Input<string>;
  schemaParent?: pulumi.Input<string>;
  blockReads?: pulumi.Input<boolean>;
  blockWrites?: pulumi.Input<boolean>;
  schemaVersion?: pulumi.Input<number>;
}

/** A database: standard, or a tenant whose schema comes from a SchemaDatabase. */
export class Database extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "tenantdb:index:Database";

  /**
   * Looks up an existing Database by its id, optionally with known property values (`state`); the engine
   * reads the rest from the provider.
   */
  public static get(
    name: string,
    id: pulumi.Input<pulumi.ID>,
    state?: DatabaseState,
    opts?: pulumi.CustomResourceOptions,
  ): Database {
    return new Database(name, state as DatabaseArgs, { ...opts, id });
  }

  public static isInstance(obj: unknown): obj is Database {
    return isInstanceOf(obj, Database.__pulumiType);
  }

  declare readonly name: pulumi.Output<string>;
  declare readonly group: pulumi.Output<string>;
  declare readonly schemaParent: pulumi.Output<string | undefined>;
  declare readonly blockReads: pulumi.Output<boolean>;
  declare readonly blockWrites: pulumi.Output<boolean>;
  /** The schema version the database carries (its parent's, for a child). */
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.CustomResourceOptions) {
    if (!opts?.id && !opts?.urn && args?.group === undefined)
      throw new Error("Missing required property 'group'");
    super(
      Database.__pulumiType,
      name,
      ...registration(
        args,
        ["name", "group", "schemaParent", "blockReads", "blockWrites"],
        ["schemaVersion"],
        opts,
      ),
    );
  }
}
