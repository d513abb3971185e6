import { type Engine, jobLimitsFromEnv, openEngine } from "../../engine/index.js";
import { hranaCode } from "../hrana/errors.js";
import { runPipeline } from "../hrana/pipeline.js";
import { readPipelineRequest, type StreamRequest, type StreamResult } from "../hrana/protocol.js";
import type { SessionStream } from "../hrana/session-stream.js";
import { errorReply, HttpError, isExpected } from "../http-errors.js";
import { signallingJobs } from "./job-signal.js";
import type { ExecutorSettings, FromExecutor, StreamSpec, ToExecutor } from "./protocol.js";
import { keptStreamRetryReason, type RetryReason, retryReason } from "./retry.js";
import { mayLeaveState, SessionCache } from "./sessions.js";
import { reusePreparedStatements } from "./statement-cache.js";
import { runTask } from "./tasks.js";

/**
 * An executor process: runs Hrana pipelines on engine sessions, one pipeline at a time, for the server
 * that forked it. The server kills it if a statement runs past its limit, so nothing here needs to be
 * interruptible; everything here must only be cheap to lose.
 */

let settings: ExecutorSettings;
let engine: Engine;
let cache: SessionCache;
let ready: Promise<void> | undefined;
const streams = new Map<number, ExecStream>();

/** Answers leave together at the end of the turn: one hop back for a burst, as they came in one. */
let outbox: FromExecutor[] = [];
function send(msg: FromExecutor): void {
  if (outbox.length === 0) setImmediate(flush);
  outbox.push(msg);
}
function flush(): void {
  const messages = outbox;
  outbox = [];
  process.send?.(messages.length === 1 ? messages[0] : { kind: "batch", messages });
}

interface Running {
  id: number;
  background: boolean;
  /** Lets the next pipeline start: this one now waits on the engine's threads, not on SQLite here. */
  release(): void;
}

interface ExecStream extends SessionStream {
  id: number;
  /** Some statement may have left connection state (ATTACH, pragmas, temp objects): never reused. */
  tainted: boolean;
  /** The pipeline running on it, and how to hand it to the background (a migration job). */
  pipeline: Running | undefined;
}

function openStream(id: number, spec: StreamSpec): ExecStream {
  const raw =
    cache.take(spec.cacheKey) ??
    engine.openSession(spec.database, spec.principal, {
      busyTimeoutMs: settings.busyTimeoutMs,
      maxResultBytes: settings.maxResponseBytes,
      // Each message from the server is a turn: what it asks for was asked before the turn began.
      catalogChecks: "turn",
    });
  const session = signallingJobs(raw, () => {
    const current = stream.pipeline;
    if (!current || current.background) return;
    current.background = true;
    send({ kind: "background", id: current.id });
    current.release();
  });
  const stream: ExecStream = {
    id,
    sqls: new Map(),
    isSchema: spec.isSchema,
    session,
    closed: false,
    tainted: false,
    pipeline: undefined,
    run: (statement) => statement(session),
    close() {
      if (stream.closed) return;
      (stream as { closed: boolean }).closed = true;
      streams.delete(id);
      if (stream.tainted || raw.inTransaction) raw.close();
      else cache.give(spec.cacheKey, raw);
    },
  };
  streams.set(id, stream);
  return stream;
}

/**
 * Pipelines run one after another, in the order they came: the server counts on it to know, if it must
 * kill this process, which one was running and which never started. A pipeline that starts a migration
 * job lets the next one start while the job's threads work.
 */
let queue: Promise<void> = Promise.resolve();

function enqueue(msg: Extract<ToExecutor, { kind: "pipeline" | "task" }>): void {
  queue = queue.then(
    () =>
      new Promise<void>((release) => {
        (msg.kind === "task" ? task(msg, release) : pipeline(msg, release)).then(release, (e) => {
          unexpected(e);
          release();
        });
      }),
  );
}

/**
 * Platform work: what it does at once (reading schemas, counting rows) runs on the clock like a
 * statement; what it then waits for (a dry run or a job on the engine's threads) lets the next pipeline start.
 */
async function task(msg: Extract<ToExecutor, { kind: "task" }>, release: () => void): Promise<void> {
  await ready;
  if (outbox.length > 0) flush();
  const running = runTask(engine, msg.task);
  send({ kind: "background", id: msg.id });
  release();
  try {
    const body = await running;
    send({
      kind: "done",
      id: msg.id,
      results: JSON.stringify(body),
      closed: true,
      inTransaction: false,
      retryable: false,
    });
  } catch (e) {
    if (!isExpected(e)) unexpected(e);
    const reply = errorReply(e);
    send({
      kind: "failed",
      id: msg.id,
      error: { status: reply.status, code: reply.body.code, message: reply.body.message },
      closed: true,
    });
  }
}

async function pipeline(msg: Extract<ToExecutor, { kind: "pipeline" }>, release: () => void): Promise<void> {
  await ready;
  // What finished before must be out before this starts: if this one never ends, the server must know
  // it was this one, and that the ones before it are done.
  if (outbox.length > 0) flush();
  let stream = streams.get(msg.stream);
  let opened = false;
  try {
    const { requests } = readPipelineRequest({ requests: msg.requests });
    if (!stream) {
      if (!msg.open) throw new HttpError(400, "STREAM_CLOSED", "Stream for this baton was closed");
      stream = openStream(msg.stream, msg.open);
      opened = true;
    }
    if (!stream.tainted && requests.some((r) => mayLeaveState(sqlOf(r)))) stream.tainted = true;
    const autocommitBefore = !stream.session.inTransaction;
    stream.pipeline = { id: msg.id, background: false, release };
    const results = await runPipeline(stream, requests, msg.version, unexpected);
    stream.pipeline = undefined;
    const inTransaction = !stream.closed && stream.session.inTransaction;
    let retryable: RetryReason = false;
    if (opened && stream.closed) retryable = retryReason(requests, results);
    else if (!stream.closed && autocommitBefore && !inTransaction)
      retryable = keptStreamRetryReason(requests, results);
    send({
      kind: "done",
      id: msg.id,
      results: encodeResults(results, settings.maxResponseBytes),
      closed: stream.closed,
      inTransaction,
      retryable,
    });
  } catch (e) {
    if (opened) {
      stream?.close();
    }
    if (!isExpected(e)) unexpected(e);
    const reply = errorReply(e, hranaCode);
    send({
      kind: "failed",
      id: msg.id,
      error: { status: reply.status, code: reply.body.code, message: reply.body.message },
      closed: stream?.closed ?? true,
    });
  }
}

/** The results as JSON, each encoded once; past the size limit, a result is replaced by the reason. */
function encodeResults(results: StreamResult[], maxBytes: number): string {
  let total = 0;
  const parts = results.map((r) => {
    let json = JSON.stringify(r);
    if (total + json.length > maxBytes) {
      json = JSON.stringify({
        type: "error",
        error: {
          message: `the response would be larger than the limit of ${maxBytes} bytes; select fewer rows or columns (LIMIT, paging)`,
          code: "RESPONSE_TOO_LARGE",
        },
      } satisfies StreamResult);
    }
    total += json.length;
    return json;
  });
  return `[${parts.join(",")}]`;
}

function sqlOf(r: StreamRequest): string {
  switch (r.type) {
    case "execute":
      return r.stmt.sql ?? "";
    case "batch":
      return r.batch.steps.map((s) => s.stmt.sql ?? "").join(";");
    case "sequence":
    case "describe":
      return r.sql.sql ?? "";
    case "store_sql":
      return r.sql;
    default:
      return "";
  }
}

function unexpected(e: unknown): void {
  send({ kind: "unexpected", message: (e as Error)?.stack ?? String(e) });
}

function shutdown(): void {
  for (const stream of [...streams.values()]) {
    stream.tainted = true;
    stream.close();
  }
  cache?.closeAll();
  engine?.close();
  if (outbox.length > 0) flush();
  process.exit(0);
}

reusePreparedStatements();
process.on("message", receive);

function receive(msg: ToExecutor): void {
  switch (msg.kind) {
    case "batch":
      for (const m of msg.messages) receive(m);
      return;
    case "init":
      settings = msg.settings;
      cache = new SessionCache(settings.sessionCacheSize);
      // A fence is waited out by the server, never here: an executor serves many tenants.
      ready = openEngine(settings.dataDir, {
        recover: false,
        workers: 2,
        fenceWaitMs: 0,
        ...jobLimitsFromEnv(),
      }).then((e) => {
        engine = e;
        send({ kind: "ready" });
      });
      return;
    case "pipeline":
    case "task":
      enqueue(msg);
      return;
    case "close": {
      const stream = streams.get(msg.stream);
      if (stream) {
        stream.tainted = true; // the server closed it (expiry, shutdown): roll back, never reuse
        stream.close();
      }
      return;
    }
    case "ping":
      send({ kind: "pong", id: msg.id });
      return;
    case "shutdown":
      (ready ?? Promise.resolve()).then(shutdown, shutdown);
      return;
  }
}
// The server is gone: nothing else will ever talk to us.
process.on("disconnect", () => process.exit(0));
