import { invalidArgument } from "./errors.js";
import { wholeNumber } from "./whole-number.js";

/**
 * A job's memory is `workers × dryRunMemory` at worst (see context.ts). Programs set both as engine
 * options; the CLI, `tenantdb serve` and the provider plugin, which users start rather than write, read
 * them from the environment: `TENANTDB_JOB_WORKERS` (threads) and `TENANTDB_DRY_RUN_MEMORY_MIB`.
 */
export interface JobLimits {
  workers?: number;
  dryRunMemory?: number;
}

export function jobLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): JobLimits {
  const workers = fromEnv(env, "TENANTDB_JOB_WORKERS", 1, 64);
  const mib = fromEnv(env, "TENANTDB_DRY_RUN_MEMORY_MIB", 1, 1024 * 1024);
  return {
    ...(workers !== undefined && { workers }),
    ...(mib !== undefined && { dryRunMemory: mib * 1024 * 1024 }),
  };
}

function fromEnv(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const given = env[name];
  if (given === undefined || given.trim() === "") return undefined;
  const n = wholeNumber(given.trim(), min, max);
  if (n === undefined) {
    throw invalidArgument(`$${name} takes a whole number from ${min} to ${max} (got "${given}")`);
  }
  return n;
}
