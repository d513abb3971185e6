import * as pulumi from "@pulumi/pulumi";
import { isInstanceOf, registration } from "./resource";

export interface DatabaseFleetArgs {
  /** The schema database whose tenants the fleet holds. Changing it replaces the fleet. */
  schemaParent: pulumi.Input<string>;
  /** The tenants' database names, in any order, each once (from config or any Output). */
  names: pulumi.Input<pulumi.Input<string>[]>;
  /** The largest share (0–1, default 0.1) of tenants one update may remove without `allowMassRemoval`. */
  maxRemovalShare?: pulumi.Input<number>;
  /** Allow this update (or the fleet's deletion) to remove more than `maxRemovalShare` of the tenants. */
  allowMassRemoval?: pulumi.Input<boolean>;
}

/** Known property values of an existing DatabaseFleet, for `DatabaseFleet.get`. */
export interface DatabaseFleetState {
  schemaParent?: pulumi.Input<string>;
  names?: pulumi.Input<pulumi.Input<string>[]>;
  maxRemovalShare?: pulumi.Input<number>;
  allowMassRemoval?: pulumi.Input<boolean>;
  group?: pulumi.Input<string>;
  count?: pulumi.Input<number>;
  schemaVersion?: pulumi.Input<number>;
}

/**
 * Many tenant databases of one schema database as one resource: created and destroyed in bursts, with a
 * preview that names each tenant added or removed. Import an existing fleet by its schema database's name.
 */
export class DatabaseFleet extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "tenantdb:index:DatabaseFleet";

  /**
   * Adopts every tenant of an existing schema database (the id is its name), optionally with known
   * property values (`state`); the engine reads the rest from the provider.
   */
  public static get(
    name: string,
    id: pulumi.Input<pulumi.ID>,
    state?: DatabaseFleetState,
    opts?: pulumi.CustomResourceOptions,
  ): DatabaseFleet {
    return new DatabaseFleet(name, state as DatabaseFleetArgs, { ...opts, id });
  }

  public static isInstance(obj: unknown): obj is DatabaseFleet {
    return isInstanceOf(obj, DatabaseFleet.__pulumiType);
  }

  declare readonly schemaParent: pulumi.Output<string>;
  declare readonly names: pulumi.Output<string[]>;
  declare readonly maxRemovalShare: pulumi.Output<number>;
  declare readonly allowMassRemoval: pulumi.Output<boolean>;
  /** The group of the schema database and its tenants. */
  declare readonly group: pulumi.Output<string>;
  /** How many tenants the fleet holds. */
  declare readonly count: pulumi.Output<number>;
  /** The schema version the tenants carry. */
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: DatabaseFleetArgs, opts?: pulumi.CustomResourceOptions) {
    if (!opts?.id && !opts?.urn) {
      if (args?.schemaParent === undefined) throw new Error("Missing required property 'schemaParent'");
      if (args?.names === undefined) throw new Error("Missing required property 'names'");
    }
    super(
      DatabaseFleet.__pulumiType,
      name,
      ...registration(
        args,
        ["schemaParent", "names", "maxRemovalShare", "allowMassRemoval"],
        ["group", "count", "schemaVersion"],
        opts,
      ),
    );
  }
}
