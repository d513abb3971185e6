import type * as pulumi from "@pulumi/pulumi";

/** The plugin version this SDK was built for; the engine starts that version of pulumi-resource-tenantdb. */
export function getVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("../package.json") as { version: string }).version;
}

export function resourceOptsDefaults(): pulumi.CustomResourceOptions {
  return { version: getVersion() };
}
