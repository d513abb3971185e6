import { parentPort } from "node:worker_threads";
import { applyToDatabase } from "./apply.js";
import type { WorkRequest, WorkResponse } from "./protocol.js";

// A worker thread: applies a batch of tasks, one database open at a time, and answers with the results.
parentPort?.on("message", (req: WorkRequest) => {
  const results = req.items.map((item) => applyToDatabase(item, req.op, req));
  parentPort?.postMessage({ id: req.id, results } satisfies WorkResponse);
});
