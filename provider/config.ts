import path from "node:path";
import { failedPrecondition } from "../engine/errors.js";
import type { Backend } from "./backends/backend.js";
import { localBackend } from "./backends/local.js";
import { Fields } from "./fields.js";
import { containsUnknown, isObject, type PropertyMap } from "./properties.js";
import type { CheckFailure, PropertySpec } from "./resource.js";

/**
 * Provider configuration: `dataDir` for the local engine (the default), or `url` + `apiToken` +
 * `organization` for a Platform API over HTTP (`tenantdb serve`, or Turso). The specs drive CheckConfig,
 * DiffConfig and the schema's `config` and `provider` sections alike.
 */

export const configSpecs = {
  dataDir: {
    type: "string",
    optional: true,
    replaceOnChanges: true,
    description:
      "The local engine's data directory. Relative paths resolve against the program's directory. Default: `$TENANTDB_DATA_DIR`, else `.tenantdb`.",
  },
  url: {
    type: "string",
    optional: true,
    replaceOnChanges: true,
    description:
      "The base URL of a Platform API (`tenantdb serve`, or Turso's) instead of a local data directory.",
  },
  apiToken: {
    type: "string",
    optional: true,
    secret: true,
    description: "The Platform API token (with `url`).",
  },
  organization: {
    type: "string",
    optional: true,
    replaceOnChanges: true,
    description: "The Platform API organization (with `url`).",
  },
} as const satisfies Record<string, PropertySpec>;

export interface ProviderConfig {
  dataDir?: string;
  url?: string;
  apiToken?: string;
  organization?: string;
}

type ConfigKey = keyof typeof configSpecs;
const KEYS = Object.keys(configSpecs) as ConfigKey[];

/** Keys the engine itself adds to a provider's inputs; never a user's typo. */
const ENGINE_KEYS = new Set(["version", "pluginDownloadURL"]);

export function checkConfig(news: PropertyMap): { inputs: PropertyMap; failures: CheckFailure[] } {
  const ours = Object.fromEntries(Object.entries(news).filter(([k]) => !ENGINE_KEYS.has(k)));
  const f = new Fields(ours, configSpecs);
  const c = Object.fromEntries(KEYS.map((k) => [k, f.string(k, { optional: true })])) as ProviderConfig;
  if (c.url !== undefined) {
    if (c.dataDir !== undefined) {
      f.fail("url", "set either `dataDir` (the local engine) or `url` (a Platform API), not both");
    }
    if (!containsUnknown(c.url) && !/^https?:\/\/[^/\s]+/.test(c.url)) {
      f.fail("url", `must be an http:// or https:// URL, not ${JSON.stringify(c.url)}`);
    }
    if (c.apiToken === undefined) f.fail("apiToken", "is required with `url`");
    if (c.organization === undefined) f.fail("organization", "is required with `url`");
  } else {
    for (const k of ["apiToken", "organization"] as const) {
      if (c[k] !== undefined) f.fail(k, "only applies with `url` (a Platform API backend)");
    }
  }
  return { inputs: news, failures: f.failures };
}

/**
 * Where each key comes from, first match wins: Configure's `args` (explicit providers and, in current
 * engines, stack config), its `variables` (`tenantdb:config:<key>`), then `PULUMI_CONFIG`, which the
 * engine sets on the plugin process from stack config (keys may be bare or namespaced).
 */
export function resolveConfig(
  args: PropertyMap,
  variables: Map<string, string>,
  env: NodeJS.ProcessEnv,
): ProviderConfig {
  const fromEnv = parsePulumiConfig(env.PULUMI_CONFIG);
  const config: ProviderConfig = {};
  for (const key of KEYS) {
    const value =
      args[key] ??
      variables.get(`tenantdb:config:${key}`) ??
      variables.get(`tenantdb:${key}`) ??
      fromEnv[key] ??
      fromEnv[`tenantdb:${key}`] ??
      fromEnv[`tenantdb:config:${key}`];
    if (value !== undefined && value !== null && value !== "") config[key] = String(value);
  }
  return config;
}

function parsePulumiConfig(raw: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {}; // not ours to police; Configure's args and variables still apply
  }
}

/** The backend a configuration selects. Throws a TenantDbError a person can act on. */
export function selectBackend(config: ProviderConfig, cwd: string, env: NodeJS.ProcessEnv): Backend {
  if (containsUnknown(config)) {
    throw failedPrecondition(
      "the provider's configuration depends on values that are not known yet; they are known at `pulumi up`",
    );
  }
  if (config.url !== undefined || config.apiToken !== undefined || config.organization !== undefined) {
    throw failedPrecondition(
      "the Platform API backend (`url`, `apiToken`, `organization`) is not available yet in this version of the tenantdb provider; remove those settings to use the local engine (`dataDir`)",
    );
  }
  // The CLI's rule (engine resolveDataDir), but reading the env we were given, and treating an empty
  // variable as unset rather than as "the working directory itself".
  const dataDir = config.dataDir ?? (env.TENANTDB_DATA_DIR || ".tenantdb");
  return localBackend(path.resolve(cwd, dataDir));
}
