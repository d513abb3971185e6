import * as pulumi from "@pulumi/pulumi";
export interface GroupArgs {
    /** The group's name; omitted, it is the resource name plus a random suffix. Changing it replaces the group. */
    name?: pulumi.Input<string>;
    /** Where the group lives (informational for the local engine). Changing it replaces the group. */
    location?: pulumi.Input<string>;
}
/** A group: holds databases and the signing key their tokens are verified with. */
export declare class Group extends pulumi.CustomResource {
    /** @internal */
    static readonly __pulumiType = "tenantdb:index:Group";
    /** Adopts an existing group by name. */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): Group;
    static isInstance(obj: unknown): obj is Group;
    readonly name: pulumi.Output<string>;
    readonly location: pulumi.Output<string>;
    constructor(name: string, args?: GroupArgs, opts?: pulumi.CustomResourceOptions);
}
