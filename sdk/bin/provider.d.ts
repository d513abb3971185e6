import * as pulumi from "@pulumi/pulumi";
export interface ProviderArgs {
    /** Data directory of the local engine; relative paths resolve against the program's directory. Default `$TENANTDB_DATA_DIR`, else `.tenantdb`. */
    dataDir?: pulumi.Input<string>;
    /** Platform API base URL (`tenantdb serve`, or Turso) instead of a local data directory. */
    url?: pulumi.Input<string>;
    /** API token for the Platform API. */
    apiToken?: pulumi.Input<string>;
    /** Organization slug for the Platform API. */
    organization?: pulumi.Input<string>;
}
/** An explicit tenantdb provider: pick a data directory (or a Platform API) per stack or per resource. */
export declare class Provider extends pulumi.ProviderResource {
    /** @internal */
    static readonly __pulumiType = "tenantdb";
    static isInstance(obj: unknown): obj is Provider;
    constructor(name: string, args?: ProviderArgs, opts?: pulumi.ResourceOptions);
}
