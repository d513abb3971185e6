import os from "node:os";
import { Worker } from "node:worker_threads";
import type { WorkRequest, WorkResponse } from "./protocol.js";

export interface Pool {
  size: number;
  run(req: Omit<WorkRequest, "id">): Promise<WorkResponse>;
  close(): Promise<void>;
}

/**
 * A fixed set of worker threads, each taking one batch at a time. Under vitest the engine runs from
 * TypeScript sources, so the worker is loaded through tsx; the built package uses the compiled file.
 */
export function createPool(size = defaultPoolSize()): Pool {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(fromSource ? "./worker.ts" : "./worker.js", import.meta.url);
  // Node 20 ignores --import in a worker's execArgv, so source mode registers tsx from a bootstrap.
  const bootstrap = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  // A test run may bundle the worker's sources once (test/global-setup.ts): a thread then starts in a
  // fraction of the CPU that registering tsx in it costs, which every engine that runs a job pays.
  const bundled = fromSource ? process.env.TENANTDB_TEST_JOB_WORKER : undefined;
  const spawn = () => {
    const worker = bundled
      ? new Worker(bundled)
      : fromSource
        ? new Worker(bootstrap, { eval: true })
        : new Worker(url);
    // An idle pool must not keep a finished process alive; work in flight keeps it alive by its promise.
    worker.unref();
    // A thread that failed or stopped (an uncaught error, process.exit, its heap limit) is never handed
    // another batch: the next batch that finds no idle thread starts one in its place.
    const retire = () => {
      live.delete(worker);
      const at = idle.indexOf(worker);
      if (at >= 0) idle.splice(at, 1);
    };
    worker.on("error", retire);
    worker.on("exit", retire);
    live.add(worker);
    return worker;
  };
  const live = new Set<Worker>();
  const idle = Array.from({ length: size }, () => spawn());
  const waiting: { resolve: (w: Worker) => void; reject: (e: Error) => void }[] = [];
  let closed = false;
  let nextId = 1;

  const take = () =>
    new Promise<Worker>((resolve, reject) => {
      if (closed) return reject(new Error("the job worker pool is closed"));
      const w = idle.pop() ?? (live.size < size ? spawn() : undefined);
      if (w) resolve(w);
      else waiting.push({ resolve, reject });
    });
  const give = (w: Worker) => {
    if (!live.has(w)) {
      // A dead thread's place goes to a fresh one at once if a batch is waiting for a thread.
      if (waiting.length > 0 && live.size < size) waiting.shift()?.resolve(spawn());
      return;
    }
    const next = waiting.shift();
    if (next) next.resolve(w);
    else idle.push(w);
  };

  return {
    size,
    async run(req) {
      const worker = await take();
      const id = nextId++;
      try {
        return await new Promise<WorkResponse>((resolve, reject) => {
          const onMessage = (res: WorkResponse) => {
            if (res.id !== id) return;
            cleanup();
            resolve(res);
          };
          const onError = (e: Error) => {
            cleanup();
            reject(
              new Error(`a job worker thread failed in the middle of a batch: ${e.message}`, { cause: e }),
            );
          };
          // Without an 'error' event (process.exit in the thread, or terminated) this is the only news.
          const onExit = (code: number) => {
            cleanup();
            reject(new Error(`a job worker thread stopped in the middle of a batch (exit code ${code})`));
          };
          const cleanup = () => {
            worker.off("message", onMessage);
            worker.off("error", onError);
            worker.off("exit", onExit);
          };
          worker.on("message", onMessage);
          worker.on("error", onError);
          worker.on("exit", onExit);
          worker.postMessage({ ...req, id });
        });
      } finally {
        give(worker);
      }
    },
    async close() {
      closed = true;
      for (const w of waiting.splice(0)) w.reject(new Error("the job worker pool is closed"));
      await Promise.all([...live].map((w) => w.terminate()));
    },
  };
}

/**
 * The run phase waits on fsync far more than on the CPU, and disks (virtual ones above all) absorb
 * several flushes at once: on a 2-core VM, 6–8 concurrent writers beat 4 and 16. The dry run is CPU-bound
 * and loses little to the extra threads.
 */
export function defaultPoolSize(): number {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  return Math.max(4, Math.min(16, cores * 3));
}
