import { type Engine, openEngine } from "../../engine/index.js";

/**
 * Sets a data directory up in this process, with the engine the CLI runs, then closes it: a test spawns the
 * CLI only for the commands it is about. One job worker: the fixtures' jobs reach a few databases.
 */
export async function setUpDataDir<T>(dataDir: string, fn: (engine: Engine) => Promise<T> | T): Promise<T> {
  const engine = await openEngine(dataDir, { workers: 1 });
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}
