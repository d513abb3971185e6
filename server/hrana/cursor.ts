import type { Handler } from "../context.js";
import { badRequest } from "../http-errors.js";
import { authenticateCaller, readBaton, runOnStream } from "./http.js";
import type { StreamResult } from "./protocol.js";

/**
 * `POST [/db/<name>]/v3/cursor`: Hrana's cursor, what `@tursodatabase/serverless` speaks. Its batch runs on
 * a stream exactly as a pipeline's would — same executors, guard, fences and limits — and the outcome is
 * written as lines of JSON: first the stream's next baton, then for each step that ran `step_begin`, its
 * rows and `step_end`, or `step_error`; an `error` line if the batch could not run at all.
 */
export const cursor: Handler = async (ctx, req) => {
  const caller = await authenticateCaller(ctx, req);
  // Only the envelope is read here; the executor validates the batch as it does a pipeline's.
  const { baton, rest } = readBaton(await req.json());
  const batch = rest.batch;
  if (typeof batch !== "object" || batch === null) {
    throw badRequest("invalid Hrana request: batch must be an object", "HRANA_PROTO_ERROR");
  }
  const ran = await runOnStream(ctx, req, caller, baton, [{ type: "batch", batch }], 3);
  const lines: unknown[] = [{ baton: ran.baton, base_url: null }];
  const [result] = JSON.parse(ran.results) as StreamResult[];
  if (result?.type === "error") lines.push({ type: "error", error: result.error });
  else if (result?.response.type === "batch") {
    const { step_results, step_errors } = result.response.result;
    step_results.forEach((r, step) => {
      const error = step_errors[step];
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
  }
  return { text: `${lines.map((line) => JSON.stringify(line)).join("\n")}\n` };
};
