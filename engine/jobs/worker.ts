import { parentPort } from "node:worker_threads";
import { dryRun, runBatch } from "./apply.js";
import type { WorkRequest, WorkResponse } from "./protocol.js";

// A worker thread: applies a batch of tasks and answers with the results.
parentPort?.on("message", (req: WorkRequest) => {
  const results =
    req.op === "dry_run" ? req.items.map((item) => dryRun(item, req)) : runBatch(req.items, req);
  parentPort?.postMessage({ id: req.id, results } satisfies WorkResponse);
});
