import { isTenantDbError } from "../engine/index.js";
import type { JobProgress } from "./backends/backend.js";
import type { ResourceContext } from "./resource.js";

/**
 * How a resource operation lives next to migration jobs. The engine refuses, rather than queues, work
 * that meets a running job (CONFLICT "in progress", BLOCKED writes); Pulumi runs independent steps in
 * parallel, so a tenant's Create routinely meets its parent's migration. The provider waits such jobs
 * out, bounded by the step's customTimeout (or DEFAULT_WAIT_MS), telling the engine what it waits for.
 */

export const DEFAULT_WAIT_MS = 10 * 60 * 1000;
const STATUS_EVERY_MS = 10_000;

export function isJobInProgress(e: unknown): boolean {
  return (
    isTenantDbError(e) &&
    (e.code === "CONFLICT" || e.code === "BLOCKED") &&
    /migration (job )?(is )?(already )?in progress|in progress/.test(e.message)
  );
}

export async function waitingOutJobs<T>(
  ctx: ResourceContext,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const limit = ctx.timeoutMs ?? DEFAULT_WAIT_MS;
  let delay = 100;
  let lastStatus = 0;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isJobInProgress(e)) throw e;
      const waited = Date.now() - started;
      if (ctx.signal.aborted || waited >= limit) {
        const timedOut =
          !ctx.signal.aborted || (ctx.signal.reason as Error | undefined)?.name === "TimeoutError";
        const why = timedOut ? `gave up after ${Math.round(waited / 1000)} s` : "the operation was cancelled";
        (e as Error).message = `${(e as Error).message} (waited for it to finish before ${what}; ${why})`;
        throw e;
      }
      if (lastStatus === 0) {
        ctx.log("info", `waiting for a migration to finish before ${what}: ${(e as Error).message}`);
        lastStatus = Date.now();
      } else if (Date.now() - lastStatus >= STATUS_EVERY_MS) {
        ctx.log("info", `still waiting (${Math.round(waited / 1000)} s) before ${what}`, { ephemeral: true });
        lastStatus = Date.now();
      }
      await sleep(Math.min(delay, limit - waited), ctx.signal);
      delay = Math.min(delay * 2, 2000);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The options a migration job runs with: stopped by Cancel or the customTimeout while that changes
 * nothing (before the commit point), and its progress reported to the engine as it goes.
 */
export function migrationOptions(ctx: ResourceContext, database: string) {
  let lastReport = 0;
  let committed = false;
  const onProgress = (p: JobProgress) => {
    if (p.phase === "run" && !committed) {
      committed = true;
      ctx.log(
        "info",
        `migration of "${database}" passed its commit point: applying it to all ${p.total} database(s)${
          ctx.signal.aborted ? " although the operation was cancelled, because a job is all or none" : ""
        }`,
      );
    }
    if (Date.now() - lastReport < 1000 && p.done < p.total) return;
    lastReport = Date.now();
    const phase = p.phase === "dry_run" ? "dry run" : "applying";
    ctx.log("info", `migrating "${database}": ${phase} ${p.done}/${p.total} databases`, { ephemeral: true });
  };
  const finished = () => {
    if (ctx.signal.aborted && committed) {
      ctx.log(
        "warning",
        `the migration of "${database}" was past its commit point when the operation was cancelled, so it finished on every database`,
      );
    }
  };
  return { signal: ctx.signal, onProgress, finished };
}
