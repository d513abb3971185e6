import * as pulumi from "@pulumi/pulumi";
import { isInstanceOf, registration } from "./resource";

export interface AttachPolicyArgs {
  /** The database other databases of its group may ATTACH. Changing it replaces the policy. */
  database: pulumi.Input<string>;
  /** Whether ATTACH is allowed (default true). Tokens must also list the database in `attach`. */
  allowAttach?: pulumi.Input<boolean>;
}

/** Lets other databases of the group ATTACH this one (read-only), with a token that lists it. */
export class AttachPolicy extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "tenantdb:index:AttachPolicy";

  /** Adopts the policy of an existing database (the id is the database's name). */
  public static get(
    name: string,
    id: pulumi.Input<pulumi.ID>,
    opts?: pulumi.CustomResourceOptions,
  ): AttachPolicy {
    return new AttachPolicy(name, undefined as unknown as AttachPolicyArgs, { ...opts, id });
  }

  public static isInstance(obj: unknown): obj is AttachPolicy {
    return isInstanceOf(obj, AttachPolicy.__pulumiType);
  }

  declare readonly database: pulumi.Output<string>;
  declare readonly allowAttach: pulumi.Output<boolean>;

  constructor(name: string, args: AttachPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    if (!opts?.id && args?.database === undefined) throw new Error("Missing required property 'database'");
    super(AttachPolicy.__pulumiType, name, ...registration(args, ["database", "allowAttach"], [], opts));
  }
}
