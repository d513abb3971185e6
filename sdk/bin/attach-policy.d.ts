import * as pulumi from "@pulumi/pulumi";
export interface AttachPolicyArgs {
    /** The database other databases of its group may ATTACH. Changing it replaces the policy. */
    database: pulumi.Input<string>;
    /** Whether ATTACH is allowed (default true). Tokens must also list the database in `attach`. */
    allowAttach?: pulumi.Input<boolean>;
}
/** Lets other databases of the group ATTACH this one (read-only), with a token that lists it. */
export declare class AttachPolicy extends pulumi.CustomResource {
    /** @internal */
    static readonly __pulumiType = "tenantdb:index:AttachPolicy";
    /** Adopts the policy of an existing database (the id is the database's name). */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): AttachPolicy;
    static isInstance(obj: unknown): obj is AttachPolicy;
    readonly database: pulumi.Output<string>;
    readonly allowAttach: pulumi.Output<boolean>;
    constructor(name: string, args: AttachPolicyArgs, opts?: pulumi.CustomResourceOptions);
}
