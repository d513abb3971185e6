import * as pulumi from "@pulumi/pulumi";
import { isInstanceOf, registration } from "./resource";

export interface GroupArgs {
  /** The group's name; omitted, it is the resource name plus a random suffix. Changing it replaces the group. */
  name?: pulumi.Input<string>;
  /** Where the group lives (informational for the local engine). Changing it replaces the group. */
  location?: pulumi.Input<string>;
}

/** Known property values of an existing Group, for `Group.get`. */
export interface GroupState {
  name?: pulumi.Input<string>;
  location?: pulumi.Input<string>;
}

/** A group: holds databases and the signing key their tokens are verified with. */
export class Group extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "tenantdb:index:Group";

  /**
   * Looks up an existing Group by its id, optionally with known property values (`state`); the engine
   * reads the rest from the provider.
   */
  public static get(
    name: string,
    id: pulumi.Input<pulumi.ID>,
    state?: GroupState,
    opts?: pulumi.CustomResourceOptions,
  ): Group {
    return new Group(name, state as GroupArgs, { ...opts, id });
  }

  public static isInstance(obj: unknown): obj is Group {
    return isInstanceOf(obj, Group.__pulumiType);
  }

  declare readonly name: pulumi.Output<string>;
  declare readonly location: pulumi.Output<string>;

  constructor(name: string, args?: GroupArgs, opts?: pulumi.CustomResourceOptions) {
    super(Group.__pulumiType, name, ...registration(args, ["name", "location"], [], opts));
  }
}
