import path from "node:path";
import { failedPrecondition } from "../engine/errors.js";
import { type Backend, fleetIdentity } from "./backends/backend.js";
import { localBackend } from "./backends/local.js";
import { platformBackend } from "./backends/platform.js";
import { Fields } from "./fields.js";
import { containsUnknown, type PropertyMap } from "./properties.js";
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
    description:
      "The local engine's data directory. Relative paths resolve against the program's directory. Default: `$TENANTDB_DATA_DIR`, else `.tenantdb`.",
  },
  url: {
    type: "string",
    optional: true,
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

/** Checks a provider's inputs and records the fleet they point at (resolved here, once). */
export function checkConfig(
  news: PropertyMap,
  cwd: string,
  env: NodeJS.ProcessEnv,
): { inputs: PropertyMap; failures: CheckFailure[] } {
  const ours = Object.fromEntries(Object.entries(news).filter(([k]) => !ENGINE_KEYS.has(k)));
  const f = new Fields(ours, configSpecs);
  const c = Object.fromEntries(KEYS.map((k) => [k, f.string(k, { optional: true })])) as ProviderConfig;
  for (const { property, reason } of backendProblems(c)) f.fail(property, reason);
  const { [BACKEND_KEY]: _, ...inputs } = news;
  const backend = f.failures.length === 0 ? backendIdentity(configOf(news), cwd, env) : null;
  return { inputs: backend === null ? inputs : { ...inputs, [BACKEND_KEY]: backend }, failures: f.failures };
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
 * Where each key comes from: Configure's `args` (the provider resource's own inputs: the stack's
 * `tenantdb:*` config for the default provider, the constructor's arguments for an explicit one), then its
 * `variables` (`tenantdb:config:<key>`, the same values in the shape older engines send). `PULUMI_CONFIG`
 * is deliberately not read: the engine sets it on every plugin process from the whole stack's config
 * (sdk/go/common/resource/plugin/provider_plugin.go, NewProvider), explicit providers' processes included,
 * so reading it would leak the stack's backend into a provider that was given its own.
 */
export function resolveConfig(args: PropertyMap, variables: Map<string, string>): ProviderConfig {
  const config: ProviderConfig = {};
  for (const key of KEYS) {
    const value = args[key] ?? variables.get(`tenantdb:config:${key}`) ?? variables.get(`tenantdb:${key}`);
    if (value !== undefined && value !== null && value !== "") config[key] = String(value);
  }
  return config;
}

/** The key CheckConfig records the resolved backend under, so later runs compare against what it was then. */
export const BACKEND_KEY = "__backend";

/**
 * The fleet a configuration points at, as one comparable string: the absolute data directory (the default
 * made explicit, `$TENANTDB_DATA_DIR` read once, here) or the normalised URL and organization. Null while
 * a part is unknown or the configuration names no single backend.
 */
export function backendIdentity(config: ProviderConfig, cwd: string, env: NodeJS.ProcessEnv): string | null {
  if (containsUnknown(config) || backendProblems(config).length > 0) return null;
  if (config.url !== undefined) return fleetIdentity({ url: config.url, organization: config.organization });
  return fleetIdentity({ dataDir: localDataDir(config, cwd, env) });
}

function localDataDir(config: ProviderConfig, cwd: string, env: NodeJS.ProcessEnv): string {
  // The CLI's rule (engine resolveDataDir), but reading the env we were given, and treating an empty
  // variable as unset rather than as "the working directory itself".
  return path.resolve(cwd, config.dataDir ?? (env.TENANTDB_DATA_DIR || ".tenantdb"));
}

/** The checked configuration's inputs as a ProviderConfig (secrets already revealed). */
export function configOf(inputs: PropertyMap): ProviderConfig {
  return resolveConfig(inputs, new Map());
}

/**
 * DiffConfig's verdict on the backend. Same fleet: never a replacement (a re-spelt path, a trailing slash,
 * the default written out). Another fleet: an error, because replacing the provider would replace every
 * resource through it (step_generator.go, providerChanged) — recreating the fleet empty in the new place
 * and deleting the old one, tenants' data included.
 */
export function assertSameBackend(olds: PropertyMap, news: PropertyMap, cwd: string, env: NodeJS.ProcessEnv) {
  const was = recordedBackend(olds, cwd, env);
  const now = recordedBackend(news, cwd, env);
  if (was === null || now === null || was === now) return;
  throw failedPrecondition(
    `this provider's configuration now points at another fleet (${describeBackend(was)} → ${describeBackend(now)}). ` +
      "tenantdb will not replace a provider's backend: Pulumi would replace every resource managed through it, " +
      "creating them empty in the new backend and deleting the old ones with their data. Restore the previous " +
      "configuration; to manage another fleet use a new stack or another explicit provider (and `pulumi import` " +
      "what already exists there); if you moved the data directory, point the old configuration at the new place " +
      "with the same value (a symlink) or re-import the resources.",
  );
}

function recordedBackend(inputs: PropertyMap, cwd: string, env: NodeJS.ProcessEnv): string | null {
  const recorded = inputs[BACKEND_KEY];
  if (typeof recorded === "string") return recorded;
  return backendIdentity(configOf(inputs), cwd, env);
}

const describeBackend = (id: string) =>
  id.startsWith("local ") ? `data directory ${id.slice(6)}` : `Platform API ${id.slice(9)}`;

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
  return localBackend(localDataDir(config, cwd, env));
}
