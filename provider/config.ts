import path from "node:path";
import { failedPrecondition } from "../engine/errors.js";
import type { Backend } from "./backends/backend.js";
import { localBackend } from "./backends/local.js";
import { platformBackend } from "./backends/platform.js";
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
  for (const { property, reason } of backendProblems(c)) f.fail(property, reason);
  return { inputs: news, failures: f.failures };
}

/**
 * What keeps a configuration from naming exactly one backend, each naming its property. CheckConfig
 * reports these as failures; Configure (which the engine may send without a CheckConfig) refuses them.
 */
function backendProblems(c: ProviderConfig): CheckFailure[] {
  const problems: CheckFailure[] = [];
  const fail = (property: string, reason: string) => problems.push({ property, reason });
  if (c.url !== undefined) {
    if (c.dataDir !== undefined) {
      fail("url", "set either `dataDir` (the local engine) or `url` (a Platform API), not both");
    }
    const problem = containsUnknown(c.url) ? null : urlProblem(c.url);
    if (problem) fail("url", problem);
    if (c.apiToken === undefined) fail("apiToken", "is required with `url`");
    if (c.organization === undefined) fail("organization", "is required with `url`");
  } else {
    for (const k of ["apiToken", "organization"] as const) {
      if (c[k] !== undefined) fail(k, "only applies with `url` (a Platform API backend)");
    }
  }
  return problems;
}

function urlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `must be an http:// or https:// URL, not ${JSON.stringify(url)}`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `must be an http:// or https:// URL, not ${JSON.stringify(url)}`;
  }
  // Not echoed: whatever sits in the user-info part is a credential.
  if (parsed.username !== "" || parsed.password !== "") {
    return "must not carry credentials; the API token goes in `apiToken`";
  }
  return null;
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
  const problems = backendProblems(config);
  if (problems.length > 0) {
    const list = problems.map((p) => `${p.property}: ${p.reason}`).join("; ");
    throw failedPrecondition(`the tenantdb provider's configuration is not valid: ${list}`);
  }
  if (config.url !== undefined) {
    return platformBackend({
      url: config.url,
      apiToken: config.apiToken as string,
      organization: config.organization as string,
    });
  }
  // The CLI's rule (engine resolveDataDir), but reading the env we were given, and treating an empty
  // variable as unset rather than as "the working directory itself".
  const dataDir = config.dataDir ?? (env.TENANTDB_DATA_DIR || ".tenantdb");
  return localBackend(path.resolve(cwd, dataDir));
}
