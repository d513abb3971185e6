import * as pulumi from "@pulumi/pulumi";
export interface TokenArgs {
    /** The database the token is for (set this or `group`). */
    database?: pulumi.Input<string>;
    /** The group whose every database the token is for (set this or `database`). */
    group?: pulumi.Input<string>;
    /** `full-access` (default) or `read-only`. */
    authorization?: pulumi.Input<"full-access" | "read-only">;
    /** `never` (default) or a duration such as `2w1d30m`. */
    expiration?: pulumi.Input<string>;
    /** Databases a connection with this token may ATTACH (read-only). */
    attach?: pulumi.Input<pulumi.Input<string>[]>;
}
/**
 * A JWT for a database or a group. Any change of its inputs mints a new token and revokes the old one;
 * deleting the resource revokes it while the group's other tokens keep working.
 */
export declare class Token extends pulumi.CustomResource {
    /** @internal */
    static readonly __pulumiType = "tenantdb:index:Token";
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): Token;
    static isInstance(obj: unknown): obj is Token;
    readonly database: pulumi.Output<string | undefined>;
    readonly group: pulumi.Output<string | undefined>;
    readonly authorization: pulumi.Output<string>;
    readonly expiration: pulumi.Output<string>;
    readonly attach: pulumi.Output<string[]>;
    /** The token itself: a secret. */
    readonly jwt: pulumi.Output<string>;
    /** When it expires (Unix seconds), or undefined for never. */
    readonly expiresAt: pulumi.Output<number | undefined>;
    /** The token's id, for `tenantdb db tokens revoke`. */
    readonly jti: pulumi.Output<string>;
    constructor(name: string, args?: TokenArgs, opts?: pulumi.CustomResourceOptions);
}
