import * as pulumi from "@pulumi/pulumi";
import * as utilities from "./utilities";

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
export class Provider extends pulumi.ProviderResource {
  /** @internal */
  public static readonly __pulumiType = "tenantdb";

  public static isInstance(obj: unknown): obj is Provider {
    return (
      obj !== undefined &&
      obj !== null &&
      (obj as { __pulumiType?: string }).__pulumiType === `pulumi:providers:${Provider.__pulumiType}`
    );
  }

  constructor(name: string, args?: ProviderArgs, opts?: pulumi.ResourceOptions) {
    const inputs: pulumi.Inputs = {
      dataDir: args?.dataDir,
      url: args?.url,
      apiToken: args?.apiToken ? pulumi.secret(args.apiToken) : undefined,
      organization: args?.organization,
    };
    const secretOpts = { additionalSecretOutputs: ["apiToken"] };
    super(
      Provider.__pulumiType,
      name,
      inputs,
      pulumi.mergeOptions(pulumi.mergeOptions(utilities.resourceOptsDefaults(), secretOpts), opts),
    );
  }
}
