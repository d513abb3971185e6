import * as pulumi from "@pulumi/pulumi";
import * as utilities from "./utilities";

/**
 * How a tenantdb resource class turns its args into one registration: inputs by name, declared
 * output-only properties as undefined (the engine fills them in), and the SDK's default options.
 * Adopting an existing resource (`get`) sends no inputs.
 */
export function registration(
  args: object | undefined,
  inputNames: readonly string[],
  outputNames: readonly string[],
  opts: pulumi.CustomResourceOptions | undefined,
  extra: pulumi.CustomResourceOptions = {},
): [pulumi.Inputs, pulumi.CustomResourceOptions] {
  const inputs: pulumi.Inputs = {};
  const adopting = opts?.id !== undefined;
  const values = (args ?? {}) as Record<string, unknown>;
  for (const key of inputNames) inputs[key] = adopting ? undefined : values[key];
  for (const key of outputNames) if (!(key in inputs)) inputs[key] = undefined;
  return [inputs, pulumi.mergeOptions(pulumi.mergeOptions(utilities.resourceOptsDefaults(), extra), opts)];
}

export function isInstanceOf(obj: unknown, type: string): boolean {
  return obj !== undefined && obj !== null && (obj as { __pulumiType?: string }).__pulumiType === type;
}
