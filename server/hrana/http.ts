import type { Handler, ServerContext } from "../context.js";
import { authenticateDatabase, type DatabaseCaller } from "../database-auth.js";
import { runPipeline } from "./pipeline.js";
import { type PipelineResponse, type ProtocolVersion, readPipelineRequest } from "./protocol.js";
import type { Stream } from "./streams.js";

/** The Hrana-over-HTTP endpoints: the version probe and the pipeline. */

export const probe =
  (version: ProtocolVersion): Handler =>
  () => ({ text: `Hello, this is HTTP API v${version} (Hrana over HTTP)` });

/**
 * `POST [/db/<name>]/v<N>/pipeline`: authenticate, find or open the stream, run every request, and hand
 * back the stream's next baton (null once it is closed).
 */
export const pipeline =
  (version: ProtocolVersion): Handler =>
  async (ctx, req) => {
    const caller = await authenticateDatabase(ctx.engine, req, req.params.db);
    const body = readPipelineRequest(await req.json());
    const stream = streamFor(ctx, caller, body.baton);
    let results: PipelineResponse["results"];
    try {
      results = await runPipeline(ctx.streams, stream, body.requests, version, ctx.logError);
    } catch (e) {
      ctx.streams.close(stream); // a stream no baton leads back to would never expire
      throw e;
    }
    const response: PipelineResponse = { baton: ctx.streams.handBack(stream), base_url: null, results };
    return { json: response };
  };

/** The stream a baton leads back to, or a new one on the caller's database when there is no baton. */
export function streamFor(ctx: ServerContext, caller: DatabaseCaller, baton: string | null): Stream {
  if (baton !== null) return ctx.streams.take(baton, caller.database, caller.jwt);
  return ctx.streams.open(
    caller.database,
    ctx.engine.getDatabase(caller.database).type === "schema",
    caller.jwt,
    // A short busy wait: SQLite waits synchronously, and a lock held by another process (a CLI shell
    // inside a transaction) must not stall every other request; the client gets a retryable busy error.
    () => ctx.engine.openSession(caller.database, caller.principal, { busyTimeoutMs: 250 }),
  );
}
