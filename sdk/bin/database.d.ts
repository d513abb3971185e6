import * as pulumi from "@pulumi/pulumi";
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
/** A database: standard, or a tenant whose schema comes from a SchemaDatabase. */
export declare class Database extends pulumi.CustomResource {
    /** @internal */
    static readonly __pulumiType = "tenantdb:index:Database";
    /** Adopts an existing database by name. */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): Database;
    static isInstance(obj: unknown): obj is Database;
    readonly name: pulumi.Output<string>;
    readonly group: pulumi.Output<string>;
    readonly schemaParent: pulumi.Output<string | undefined>;
    readonly blockReads: pulumi.Output<boolean>;
    readonly blockWrites: pulumi.Output<boolean>;
    /** The schema version the database carries (its parent's, for a child). */
    readonly schemaVersion: pulumi.Output<number>;
    constructor(name: string, args: DatabaseArgs, opts?: pulumi.CustomResourceOptions);
}
