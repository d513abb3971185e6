import * as pulumi from "@pulumi/pulumi";
/**
 * How a tenantdb resource class turns its args into one registration: inputs by name, declared
 * output-only properties as undefined (the engine fills them in), and the SDK's default options.
 * Adopting an existing resource (`get`) sends no inputs.
 */
export declare function registration(args: object | undefined, inputNames: readonly string[], outputNames: readonly string[], opts: pulumi.CustomResourceOptions | undefined, extra?: pulumi.CustomResourceOptions): [pulumi.Inputs, pulumi.CustomResourceOptions];
export declare function isInstanceOf(obj: unknown, type: string): boolean;
