import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { localBackend } from "../../provider/backends/local.js";
import type { PropertyMap } from "../../provider/properties.js";
import { resourceByToken } from "../../provider/resources/index.js";

/**
 * Runs a Pulumi program in-process with `setMocks`, handing every registration to the provider's real
 * resource handlers (check, then create) over a local engine — so what the program declares really
 * happens to a data directory, with no Pulumi CLI and no gRPC.
 */
export function useProviderMocks(project: string, dataDir: string, config: Record<string, unknown>) {
  const backend = localBackend(dataDir);
  const registered: { type: string; name: string; id: string }[] = [];
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `${project}:${k}`, JSON.stringify(v)]),
    ),
  );
  pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const resource = resourceByToken.get(args.type);
        if (!resource) throw new Error(`the program registered an unknown type ${args.type}`);
        const ctx = {
          backend,
          urn: `urn:pulumi:dev::${project}::${args.type}::${args.name}`,
          resourceName: args.name,
          log: () => {},
          signal: new AbortController().signal,
        };
        const checked = await resource.check(ctx, { olds: {}, news: args.inputs as PropertyMap });
        if (checked.failures.length > 0) {
          throw new Error(checked.failures.map((f) => `${args.name}.${f.property}: ${f.reason}`).join("; "));
        }
        const { args: decoded } = resource.decode(checked.inputs);
        const created = await resource.create(ctx, { args: decoded, preview: false });
        registered.push({ type: args.type, name: args.name, id: created.id });
        return { id: created.id, state: created.state };
      },
      call() {
        throw new Error("tenantdb has no functions to call");
      },
    },
    project,
    "dev",
    false,
  );
  return {
    registered,
    close: () => backend.close(),
  };
}

/** The value of an output, once every registration it depends on has resolved. */
export function resolved<T>(output: pulumi.Output<T> | T): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

export const EXAMPLES = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../examples");
