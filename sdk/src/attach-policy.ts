import * as pulumi from "@pulumi/pulumi";
import { isInstanceOf, registration } from "./resource";

export interface AttachPolicyArgs {
  /** The database other databases of its group may ATTACH. Changing it replaces the policy. */
  database: pulumi.Input<string>;
  /** Whether ATTACH is allowed (default true). Tokens must also list the database in `attach`. */
  allowAttach?: pulumi.Input<boolean>;
}

/** Known property values of an existing AttachPolicy, for `AttachPolicy.get`. */
export interface AttachPolicyState {
  database?: pulumi.Input<string>;
  allowAttach?: pulumi.Input<boolean>;
}

/** Lets other databases of the group ATTACH this one (read-only), with a token that lists it. */
export class AttachPolicy extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "tenantdb:index:AttachPolicy";

  /**
   * Looks up an existing AttachPolicy by its id, optionally with known property values (`state`); the engine
   * reads the rest from the provider.
   */
  public static get(
    name: string,
    id: pulumi.Input<pulumi.ID>,
    state?: AttachPolicyState,
    opts?: pulumi.CustomResourceOptions,
  ): AttachPolicy {
    return new AttachPolicy(name, state as AttachPolicyArgs, { ...opts, id });
  }

  public static isInstance(obj: unknown): obj is AttachPolicy {
    return isInstanceOf(obj, AttachPolicy.__pulumiType);
  }

  declare readonly database: pulumi.Output<string>;
  declare readonly allowAttach: pulumi.Output<boolean>;

  constructor(name: string, args: AttachPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    if (!opts?.id && !opts?.urn && args?.database === undefined)
      throw new Error("Missing required property 'database'");
    super(AttachPolicy.__pulumiType, name, ...registration(args, ["database", "allowAttach"], [], opts));
  }
}
