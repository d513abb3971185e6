import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { DEFAULT_FENCE_WAIT_MS, type Engine, isValidName, TenantDbError } from "../engine/index.js";
import { createApp, nodeHandler } from "./app.js";
import type { ServerContext } from "./context.js";
import { createExecutorPool } from "./executor/pool.js";
import { Streams } from "./hrana/streams.js";
import { createFront } from "./http1.js";
import { createInlineReads } from "./inline-reads.js";
import { startJobResumer } from "./job-resumer.js";
import { createTokenCache } from "./token-cache.js";

/**
 * `startServer(engine, opts)`: the HTTP server over an engine, used by `tenantdb serve` and by tests.
 * The engine stays the caller's: `close()` stops the server and its streams, never the engine.
 */

export interface ServerOptions {
  /** Default 8080; 0 picks a free port (read it back from `port`). */
  port?: number;
  /** Default 127.0.0.1: the server is local unless you say otherwise. */
  host?: string;
  /** The organization name in Platform API paths. Default `local`. */
  org?: string;
  /** Larger request bodies are refused with 413. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Idle Hrana streams are closed (and rolled back) after this long. Default 10 s, as sqld. */
  streamIdleMs?: number;
  /** Hrana streams open at once. Default 1000. */
  maxStreams?: number;
  /** Streams one token may hold at once. Default 100 (at most maxStreams). */
  maxStreamsPerToken?: number;
  /** Streams open on one database at once. Default 200 (at most maxStreams). */
  maxStreamsPerDatabase?: number;
  /** A statement running longer is stopped and answered with QUERY_TIMEOUT. Default 5 s. */
  statementTimeoutMs?: number;
  /** An interactive transaction open longer is rolled back (TRANSACTION_TIMEOUT). Default 5 s, as Turso. */
  transactionTimeoutMs?: number;
  /** How long an autocommit request keeps retrying on another connection's lock. Default: transactionTimeoutMs + 1 s. */
  lockWaitMs?: number;
  /**
   * How long a write that meets a migration's fence is retried (without holding an executor) before it is
   * answered BLOCKED with the job's progress. Default: the engine's (5 s).
   */
  fenceWaitMs?: number;
  /** Results larger than this are refused with RESPONSE_TOO_LARGE. Default 10 MiB, as sqld. */
  maxResponseBytes?: number;
  /** Executor processes running statements. Default: the number of cores, at least 2. */
  executors?: number;
  /** How often unowned committed migration jobs are looked for and resumed. Default 1 s. */
  jobResumeEveryMs?: number;
  /** How long `close()` lets requests in flight finish before cutting them. Default 10 s. */
  shutdownGraceMs?: number;
  /** Where the server reports its own failures. Default: standard error. */
  log?: (line: string) => void;
  /**
   * Where each request is logged, one line each. Default: standard error — unless `log` is given, in
   * which case requests are not logged unless this is given too.
   */
  requestLog?: (line: string) => void;
}

export interface RunningServer {
  port: number;
  /** `http://host:port`; a database's client URL is `${url}/db/<name>/`. */
  url: string;
  org: string;
  /** Stops accepting, lets requests in flight finish (within the grace period), closes every stream. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8080;

export async function startServer(engine: Engine, opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const org = opts.org ?? "local";
  if (!isValidName(org)) {
    throw new TenantDbError(
      "INVALID_ARGUMENT",
      `invalid organization name ${JSON.stringify(org)}: use lowercase letters, digits and dashes`,
    );
  }
  const stderr = bufferedStderr();
  const log = opts.log ?? stderr.error;
  const requestLog = opts.requestLog ?? (opts.log === undefined ? stderr.line : () => {});
  const maxStreams = opts.maxStreams ?? 1000;
  const transactionMs = opts.transactionTimeoutMs ?? 5_000;
  const statementTimeoutMs = opts.statementTimeoutMs ?? 5_000;
  const maxResponseBytes = opts.maxResponseBytes ?? 10 * 1024 * 1024;
  const executors = createExecutorPool({
    size: opts.executors ?? Math.max(2, os.availableParallelism()),
    settings: {
      dataDir: engine.dataDir,
      busyTimeoutMs: 50,
      maxResponseBytes,
      sessionCacheSize: 256,
    },
    statementTimeoutMs,
    onStreamsLost: (ids) => streams.lose(ids),
    log,
  });
  const streams: Streams = new Streams(
    {
      idleMs: opts.streamIdleMs ?? 10_000,
      transactionMs,
      maxStreams,
      maxStreamsPerToken: Math.min(opts.maxStreamsPerToken ?? 100, maxStreams),
      maxStreamsPerDatabase: Math.min(opts.maxStreamsPerDatabase ?? 200, maxStreams),
    },
    (stream) => {
      if (stream.executor !== null) executors.closeStream(stream.executor, stream.id);
    },
  );
  const callers = createTokenCache(engine);
  const inline = createInlineReads(engine, { maxResponseBytes, sessions: 64 });
  const resumer = startJobResumer(engine, opts.jobResumeEveryMs ?? 1000, log);
  let port = opts.port ?? DEFAULT_PORT;
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  const ctx: ServerContext = {
    engine,
    org,
    address: () => `${hostInUrl}:${port}`,
    streams,
    executors,
    inline,
    callers,
    limits: {
      lockWaitMs: opts.lockWaitMs ?? transactionMs + 1_000,
      fenceWaitMs: opts.fenceWaitMs ?? DEFAULT_FENCE_WAIT_MS,
    },
    logRequest: requestLog,
    logError: (e) => log(`tenantdb serve: unexpected error: ${(e as Error)?.stack ?? String(e)}`),
  };
  const answer = createApp(ctx);
  const maxBodyBytes = opts.maxBodyBytes ?? 10 * 1024 * 1024;

  // Requests in flight through node:http; the lean front counts its own (front.busy()).
  let inFlight = 0;
  let onDrained: (() => void) | undefined;
  // Only a shutdown waits for the last answer: counting busy connections is not for every request.
  const answered = () => {
    if (onDrained && inFlight === 0 && front.busy() === 0) onDrained();
  };
  const handle = nodeHandler(ctx, answer, maxBodyBytes);
  // Never listens: the lean front hands it the connections it does not read itself.
  const fallback = http.createServer((req, res) => {
    inFlight++;
    res.on("close", () => {
      inFlight--;
      answered();
    });
    handle(req, res).catch(ctx.logError);
  });
  const front = createFront({
    answer,
    fallback,
    maxBodyBytes,
    idleMs: fallback.keepAliveTimeout,
    logRequest: requestLog,
    onAnswered: answered,
  });
  const server = front.server;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) => reject(listenError(e, host, port)));
      server.listen(port, host, () => resolve());
    });
  } catch (e) {
    await Promise.all([executors.close(), resumer.stop()]);
    inline.close();
    stderr.stop();
    throw e;
  }
  port = (server.address() as AddressInfo).port;
  server.on("error", ctx.logError);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      fallback.closeIdleConnections();
      front.closeIdle();
      streams.closeIdle();
      if (inFlight > 0 || front.busy() > 0) {
        await new Promise<void>((resolve) => {
          onDrained = resolve;
          setTimeout(resolve, opts.shutdownGraceMs ?? 10_000).unref();
        });
      }
      fallback.closeAllConnections();
      front.closeAll();
      await stopped;
      streams.closeAll();
      await Promise.all([executors.close(), resumer.stop()]);
      inline.close();
      stderr.stop();
    })();
    return closing;
  };

  return { port, url: `http://${hostInUrl}:${port}`, org, close };
}

/**
 * Standard error, written in batches: a line per request, without a write per request or per turn of the
 * event loop. A line waits at most FLUSH_MS (a request log, like nginx's buffered access log); an error,
 * a full batch and the process's exit flush at once. Standard error is synchronous for files and pipes on
 * Linux, so lines flushed at exit are written.
 */
function bufferedStderr(): { line: (line: string) => void; error: (line: string) => void; stop: () => void } {
  let lines: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return;
    const text = `${lines.join("\n")}\n`;
    lines = [];
    process.stderr.write(text);
  };
  process.on("exit", flush);
  return {
    line(line) {
      lines.push(line);
      if (lines.length >= FLUSH_LINES) flush();
      else timer ??= setTimeout(flush, FLUSH_MS).unref();
    },
    error(line) {
      lines.push(line);
      flush();
    },
    stop() {
      flush();
      process.off("exit", flush);
    },
  };
}

const FLUSH_MS = 25;
const FLUSH_LINES = 512;

function listenError(e: NodeJS.ErrnoException, host: string, port: number): Error {
  if (e.code === "EADDRINUSE") {
    return new TenantDbError(
      "FAILED_PRECONDITION",
      `${host}:${port} is already in use; pick another port with --port (0 picks a free one)`,
    );
  }
  if (e.code === "EACCES" || e.code === "EADDRNOTAVAIL") {
    return new TenantDbError("FAILED_PRECONDITION", `cannot listen on ${host}:${port}: ${e.message}`);
  }
  return e;
}
