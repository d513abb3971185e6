import {
  type Engine,
  invalidArgument,
  jobLimitsFromEnv,
  openEngine,
  resolveDataDir,
  wholeNumber,
} from "../engine/index.js";
import { jobProgress } from "./progress.js";

export interface GlobalOptions {
  dataDir?: string;
  json?: boolean;
  /** `--fence-wait <ms>`, else $TENANTDB_FENCE_WAIT_MS: how long a write waits for a migration's fence. */
  fenceWait?: string;
}

/** The fence wait a command asked for, in ms; undefined for the engine's default. */
export function fenceWaitMs(globals: GlobalOptions): number | undefined {
  const given = globals.fenceWait ?? process.env.TENANTDB_FENCE_WAIT_MS;
  if (given === undefined || given === "") return undefined;
  const ms = wholeNumber(given.trim());
  if (ms === undefined) {
    throw invalidArgument(
      `--fence-wait takes a whole number of milliseconds ≥ 0, e.g. 5000 (got "${given}")`,
    );
  }
  return ms;
}

/**
 * Opens the engine for one command and closes it after, whatever happens. Only commands that make
 * something pass `create`: every other command on a missing directory says so and creates nothing.
 */
export async function withEngine<T>(
  globals: GlobalOptions,
  fn: (engine: Engine) => Promise<T> | T,
  opts: { create?: boolean } = {},
): Promise<T> {
  const progress = jobProgress(!globals.json);
  // Lazy: a job a dead process left is finished by the next migration or resume of its schema database
  // (with progress), or by `serve` in the background; other commands never wait for it.
  const engine = await openEngine(resolveDataDir(globals.dataDir), {
    recover: "lazy",
    onRecoveryProgress: progress.onProgress,
    create: opts.create ?? false,
    fenceWaitMs: fenceWaitMs(globals),
    ...jobLimitsFromEnv(),
  });
  progress.done();
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}
