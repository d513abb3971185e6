import type * as pulumi from "@pulumi/pulumi";
/** The plugin version this SDK was built for; the engine starts that version of pulumi-resource-tenantdb. */
export declare function getVersion(): string;
export declare function resourceOptsDefaults(): pulumi.CustomResourceOptions;
