import type { Engine } from "../engine/index.js";

/**
 * Committed migration jobs that nobody is running — their process died, or their run phase could not
 * finish a database yet (a reader held it past every retry) — are finished by the server in the
 * background, as soon as it can, rather than waiting for someone to run `db migrations resume`. The
 * engine skips jobs whose lock a live process holds, so this never races the job's own runner.
 */
export interface JobResumer {
  stop(): Promise<void>;
}

export function startJobResumer(engine: Engine, everyMs: number, log: (line: string) => void): JobResumer {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = engine
      .recoverJobs()
      .then(() => undefined)
      .catch((e: unknown) => log(`tenantdb serve: resuming migration jobs: ${(e as Error)?.message ?? e}`))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
