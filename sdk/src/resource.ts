import * as pulumi from "@pulumi/pulumi";
import * as utilities from "./utilities";

/**
 * How a tenantdb resource class turns its arguments into one registration, as Pulumi's generated SDKs
 * do: declaring, the args by name and output-only properties as undefined (the engine fills them in);
 * looking up an existing resource (`get`, which sets `opts.id`), every property from the optional state,
 * which the engine hands to the provider's Read.
 */
export function registration(
  argsOrState: object | undefined,
  inputNames: readonly string[],
  outputNames: readonly string[],
  opts: pulumi.CustomResourceOptions | undefined,
  extra: pulumi.CustomResourceOptions = {},
): [pulumi.Inputs, pulumi.CustomResourceOptions] {
  const inputs: pulumi.Inputs = {};
  const getting = opts?.id !== undefined;
  const values = (argsOrState ?? {}) as Record<string, unknown>;
  for (const key of inputNames) inputs[key] = values[key];
  for (const key of outputNames) if (!(key in inputs)) inputs[key] = getting ? values[key] : undefined;
  return [inputs, pulumi.mergeOptions(pulumi.mergeOptions(utilities.resourceOptsDefaults(), extra), opts)];
}

export function isInstanceOf(obj: unknown, type: string): boolean {
  return obj !== undefined && obj !== null && (obj as { __pulumiType?: string }).__pulumiType === type;
}
