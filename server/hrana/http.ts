import { setTimeout as sleep } from "node:timers/promises";
import type { Handler, ServerContext } from "../context.js";
import type { PipelineOutcome } from "../executor/pool.js";
import { retryAfterFence } from "../fence-wait.js";
import type { Reply, Request } from "../http.js";
import { badRequest, HttpError } from "../http-errors.js";
import type { Caller } from "../token-cache.js";
import { readPlainPipeline } from "./plain-pipeline.js";
import { type ProtocolVersion, plainExecuteOf } from "./protocol.js";
import type { Stream } from "./streams.js";

/** The Hrana-over-HTTP endpoints: the version probe and the pipeline. */

export const probe =
  (version: ProtocolVersion): Handler =>
  () => ({ text: `Hello, this is HTTP API v${version} (Hrana over HTTP)` });

/**
 * `POST [/db/<name>]/v<N>/pipeline`: authenticate, find or open the stream, have an executor run every
 * request, and hand back the stream's next baton (null once it is closed). The results arrive already
 * encoded; the envelope is written around them.
 */
export const pipeline =
  (version: ProtocolVersion): Handler =>
  (ctx, req) => {
    // A connection's known caller and a body already here: a read answered on this thread is answered
    // without waiting a turn of the event loop — and what @libsql/client's execute() sends, without
    // parsing it whole.
    const known = knownCaller(ctx, req);
    const bytes = known && req.bytesNow();
    if (known && bytes) {
      const plain = readPlainPipeline(bytes);
      const inline = plain && ctx.inline.answer(known, plain);
      if (inline !== undefined) return pipelineReply(null, inline);
      const envelope = readEnvelope(req.jsonNow()?.value);
      return answerPipeline(ctx, req, known, envelope, version, plain !== undefined);
    }
    return (async () => {
      const caller = known ?? (await verifyCaller(ctx, req));
      return answerPipeline(ctx, req, caller, readEnvelope(await req.json()), version);
    })();
  };

function answerPipeline(
  ctx: ServerContext,
  req: Request,
  caller: Caller,
  { baton, requests }: { baton: string | null; requests: unknown[] },
  version: ProtocolVersion,
  inlineTried = false,
): Reply | Promise<Reply> {
  const plain = baton === null && !inlineTried ? plainExecuteOf(requests) : undefined;
  const inline = plain && ctx.inline.answer(caller, plain);
  if (inline !== undefined) return pipelineReply(null, inline);
  return runOnStream(ctx, req, caller, baton, requests, version).then((ran) =>
    pipelineReply(ran.baton, ran.results),
  );
}

/** The pipeline's envelope around results already encoded. */
function pipelineReply(baton: string | null, results: string): Reply {
  return {
    rawJson: `{"baton":${baton === null ? "null" : `"${baton}"`},"base_url":null,"results":${results}}`,
  };
}

/** The caller a connection's last request authenticated as, if this one is the same (see TokenCache.known). */
function knownCaller(ctx: ServerContext, req: Request): Caller | undefined {
  const caller = ctx.callers.known(req.connection, req.header("authorization"), req.params.db);
  if (caller) req.database = caller.database;
  return caller;
}

/** The database token's holder, and the database it is for (from the path or the token). */
export async function authenticateCaller(ctx: ServerContext, req: Request): Promise<Caller> {
  return knownCaller(ctx, req) ?? verifyCaller(ctx, req);
}

/** authenticateCaller past the connection's memo: the token cache, or a signature check. */
async function verifyCaller(ctx: ServerContext, req: Request): Promise<Caller> {
  const authorization = req.header("authorization");
  const caller = await ctx.callers.authenticate(
    req.bearer(),
    req.params.db,
    req.connection && authorization !== undefined ? { connection: req.connection, authorization } : undefined,
  );
  req.database = caller.database;
  return caller;
}

/**
 * Finds or opens the stream a baton names, has an executor run the requests, and gives back the stream's
 * next baton (null once it is closed) and the results, already JSON. What `/pipeline` and `/cursor` share.
 */
export async function runOnStream(
  ctx: ServerContext,
  req: Request,
  caller: Caller,
  baton: string | null,
  requests: unknown[],
  version: ProtocolVersion,
): Promise<{ baton: string | null; results: string }> {
  const stream =
    baton !== null
      ? ctx.streams.take(baton, caller.database, caller.credential)
      : ctx.streams.open(caller.database, caller.isSchema, caller.credential);
  let outcome: PipelineOutcome;
  try {
    outcome = await runPatiently(ctx, req, caller, stream, requests, version);
  } catch (e) {
    ctx.streams.close(stream); // a stream no baton leads back to would never expire
    throw ctx.streams.endingOf(stream) ?? e;
  }
  if (outcome.kind === "failed") {
    ctx.streams.close(stream);
    throw (
      ctx.streams.endingOf(stream) ??
      new HttpError(outcome.error.status, outcome.error.code, outcome.error.message)
    );
  }
  stream.executor = outcome.executor;
  return { baton: ctx.streams.handBack(stream, outcome), results: outcome.results };
}

/**
 * Runs the pipeline; when it met another connection's lock before changing anything (the executor says
 * so), runs it again a little later, up to the server's lock wait. The executor waits only briefly inside
 * SQLite, so a lock costs this one request time, never an executor.
 */
async function runPatiently(
  ctx: ServerContext,
  req: Request,
  caller: Caller,
  stream: Stream,
  requests: unknown[],
  version: ProtocolVersion,
): Promise<PipelineOutcome> {
  const started = Date.now();
  const deadline = started + ctx.limits.lockWaitMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
    const fresh = stream.executor === null;
    // An executor may write there: the reads this thread holds would keep it waiting.
    ctx.engine.endHeldReads(caller.database);
    const outcome = await ctx.executors.run({
      stream: stream.id,
      open: fresh
        ? {
            database: caller.database,
            isSchema: caller.isSchema,
            principal: caller.principal,
            cacheKey: `${caller.database}\0${caller.credential}`,
          }
        : undefined,
      requests,
      version,
      executor: stream.executor,
      affinity: affinityOf(caller.database),
      owner: caller.credential,
      signal: req.signal,
    });
    // A stream the client keeps stays where it opened: a retry goes back to that executor (one the
    // executor closed is opened afresh, wherever, by a retry).
    if (outcome.kind === "done" && !outcome.closed) stream.executor = outcome.executor;
    const fenced = await retryAfterFence(outcome, started, ctx.limits.fenceWaitMs, req.signal);
    if (fenced === "again") continue;
    if (fenced) return fenced;
    const again = outcome.kind === "done" && outcome.retryable === "lock" && Date.now() + delay < deadline;
    if (!again || req.signal.aborted) return outcome;
    await sleep(delay);
  }
}

function readEnvelope(body: unknown): { baton: string | null; requests: unknown[] } {
  const { baton, rest } = readBaton(body);
  if (!Array.isArray(rest.requests)) {
    throw badRequest("invalid Hrana request: requests must be a list", "HRANA_PROTO_ERROR");
  }
  return { baton, requests: rest.requests };
}

/** The baton of a Hrana body, and the rest of it; what the executor then validates in full. */
export function readBaton(body: unknown): { baton: string | null; rest: Record<string, unknown> } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("invalid Hrana request: the body must be an object", "HRANA_PROTO_ERROR");
  }
  const rest = body as Record<string, unknown>;
  const baton = rest.baton;
  if (baton !== undefined && baton !== null && typeof baton !== "string") {
    throw badRequest("invalid Hrana request: baton must be a string or null", "HRANA_PROTO_ERROR");
  }
  return { baton: baton ?? null, rest };
}

/** Requests for one database prefer one executor: its sessions, and its write lock, stay there. */
function affinityOf(database: string): number {
  let h = 0;
  for (let i = 0; i < database.length; i++) h = (h * 31 + database.charCodeAt(i)) | 0;
  return Math.abs(h);
}
