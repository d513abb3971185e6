import { type Engine, openEngine, resolveDataDir } from "../engine/index.js";
import { jobProgress } from "./progress.js";

export interface GlobalOptions {
  dataDir?: string;
  json?: boolean;
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
  });
  progress.done();
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}
