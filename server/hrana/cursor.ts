import type { Handler } from "../context.js";
import { authenticateDatabase } from "../database-auth.js";
import { runBatch } from "./batch.js";
import { streamFor } from "./http.js";
import { readCursorRequest } from "./protocol.js";

/**
 * `POST [/db/<name>]/v3/cursor`: Hrana's cursor, what `@tursodatabase/serverless` speaks. One batch runs on
 * a stream exactly as in a pipeline — same guard, fences and limits — and its outcome is written as lines
 * of JSON: first the stream's next baton, then for each step that ran `step_begin`, its rows and
 * `step_end`, or `step_error`.
 */
export const cursor: Handler = async (ctx, req) => {
  const caller = await authenticateDatabase(ctx.engine, req, req.params.db);
  const body = readCursorRequest(await req.json());
  const stream = streamFor(ctx, caller, body.baton);
  let result: Awaited<ReturnType<typeof runBatch>>;
  try {
    result = await runBatch(stream, body.batch, 3, ctx.logError);
  } catch (e) {
    ctx.streams.close(stream); // a stream no baton leads back to would never expire
    throw e;
  }
  const lines: unknown[] = [{ baton: ctx.streams.handBack(stream), base_url: null }];
  result.step_results.forEach((r, step) => {
    const error = result.step_errors[step];
    if (error) lines.push({ type: "step_error", step, error });
    if (!r) return;
    lines.push({ type: "step_begin", step, cols: r.cols });
    for (const row of r.rows) lines.push({ type: "row", row });
    lines.push({
      type: "step_end",
      affected_row_count: r.affected_row_count,
      last_insert_rowid: r.last_insert_rowid,
    });
  });
  return { text: `${lines.map((line) => JSON.stringify(line)).join("\n")}\n` };
};
