import { type ChildProcess, fork } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { HttpError } from "../http-errors.js";
import type { ExecutorSettings, FromExecutor, StreamSpec, ToExecutor } from "./protocol.js";

/**
 * The executors: child processes that run every statement the data plane sends, so the server's own
 * thread never runs SQLite. Processes, not worker threads: better-sqlite3 can neither interrupt a
 * statement nor stop a thread that is inside SQLite (Worker.terminate() never returns from an unbounded
 * recursive CTE), and only a process can be killed wherever it is. So each executor runs one pipeline at
 * a time; one that overruns the statement time limit is asked if it is alive (a migration job waits on
 * its own threads and answers), and if it does not answer it is killed and replaced. Its streams are
 * lost — their transactions roll back, as SQLite guarantees for a dead connection — and the work of
 * every other executor goes on untouched.
 *
 * A stream keeps the executor it first ran on (its session lives there); autocommit work goes to the
 * executor its database prefers when that one is free (its cached sessions are there), else to any free
 * one, else waits in line here, never behind a busy executor.
 */

export interface PoolOptions {
  size: number;
  settings: ExecutorSettings;
  /** A pipeline running longer than this, on an executor that does not answer, is killed. */
  statementTimeoutMs: number;
  /** Streams that died with their executor, so the server can say so to their next request. */
  onStreamsLost(streams: number[], reason: string): void;
  log(line: string): void;
}

export interface PipelineJob {
  stream: number;
  /** Sent with the stream's first pipeline: how to open its session. */
  open?: StreamSpec;
  requests: unknown;
  version: 2 | 3;
  /** The executor holding the stream's session, or null for any. */
  executor: number | null;
  /** Where the job's session is most likely cached (any number; taken modulo the pool size). */
  affinity: number;
  /** Aborted when the client goes away: work not yet started is dropped. */
  signal?: AbortSignal;
}

export type PipelineOutcome = Extract<FromExecutor, { kind: "done" | "failed" }> & { executor: number };

interface Pending {
  id: number;
  job: PipelineJob;
  resolve(outcome: PipelineOutcome): void;
  reject(e: unknown): void;
}

interface Slot {
  index: number;
  child: ChildProcess;
  current: Pending | null;
  /** Its engine is open; until then its clock does not run. */
  ready: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Work for streams whose session is on this executor. */
  queue: Pending[];
  /** Pipelines running migration jobs: not on the clock, and not holding the executor. */
  background: Map<number, Pending>;
  streams: Set<number>;
}

export interface ExecutorPool {
  run(job: PipelineJob): Promise<PipelineOutcome>;
  /** Closes a stream's session (rolling back its transaction), between pipelines. */
  closeStream(executor: number, stream: number): void;
  close(): Promise<void>;
}

/** How long an executor past the time limit has to answer a ping before it is killed. */
const PING_GRACE_MS = 1500;

export function createExecutorPool(opts: PoolOptions): ExecutorPool {
  const shared: Pending[] = [];
  let nextId = 1;
  let closing = false;
  const slots: Slot[] = Array.from({ length: opts.size }, (_, index) => {
    const slot: Slot = {
      index,
      child: undefined as unknown as ChildProcess,
      current: null,
      ready: false,
      timer: undefined,
      queue: [],
      background: new Map(),
      streams: new Set(),
    };
    slot.child = spawn(slot);
    return slot;
  });

  function spawn(slot: Slot): ChildProcess {
    const fromSource = import.meta.url.endsWith(".ts");
    const entry = fileURLToPath(new URL(fromSource ? "./main.ts" : "./main.js", import.meta.url));
    const execArgv = fromSource
      ? ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href]
      : [];
    const child = fork(entry, [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.on("message", (msg: FromExecutor) => onMessage(slot, child, msg));
    child.on("error", (e) => opts.log(`tenantdb serve: executor ${slot.index}: ${e.message}`));
    child.on("exit", (code, signal) => {
      if (slot.child !== child || closing) return;
      opts.log(
        `tenantdb serve: executor ${slot.index} stopped (${signal ?? `exit ${code}`}); starting another`,
      );
      replace(slot, "EXECUTOR_STOPPED", "the process running this statement stopped unexpectedly");
    });
    child.send({ kind: "init", settings: opts.settings } satisfies ToExecutor);
    // A server that is shutting down must not be kept alive by idle executors.
    child.unref();
    (child as unknown as { channel?: { unref(): void } }).channel?.unref();
    return child;
  }

  function onMessage(slot: Slot, child: ChildProcess, msg: FromExecutor): void {
    if (slot.child !== child) return;
    if (msg.kind === "unexpected") {
      opts.log(`tenantdb serve: unexpected error in executor ${slot.index}: ${msg.message}`);
      return;
    }
    if (msg.kind === "ready") {
      slot.ready = true;
      if (slot.current) arm(slot, slot.current);
      return;
    }
    if (msg.kind === "pong") {
      // Alive, waiting on something other than SQLite (a migration job's threads): give it more time.
      if (slot.current?.id === msg.id) arm(slot, slot.current);
      return;
    }
    if (msg.kind === "background") {
      const p = slot.current;
      if (p?.id !== msg.id) return;
      clearTimeout(slot.timer);
      slot.current = null;
      slot.background.set(p.id, p);
      next(slot);
      return;
    }
    const p = slot.current?.id === msg.id ? slot.current : slot.background.get(msg.id);
    if (!p) return;
    if (p === slot.current) {
      clearTimeout(slot.timer);
      slot.current = null;
    } else {
      slot.background.delete(p.id);
    }
    if (msg.closed) slot.streams.delete(p.job.stream);
    else slot.streams.add(p.job.stream);
    p.resolve({ ...msg, executor: slot.index });
    next(slot);
  }

  function arm(slot: Slot, p: Pending): void {
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      if (slot.current !== p) return;
      slot.child.send({ kind: "ping", id: p.id } satisfies ToExecutor);
      slot.timer = setTimeout(() => {
        if (slot.current === p) replace(slot, "QUERY_TIMEOUT", timeoutMessage(opts.statementTimeoutMs));
      }, PING_GRACE_MS);
    }, opts.statementTimeoutMs);
  }

  function start(slot: Slot, p: Pending): void {
    slot.current = p;
    const { job } = p;
    slot.child.send({
      kind: "pipeline",
      id: p.id,
      stream: job.stream,
      open: job.open,
      requests: job.requests,
      version: job.version,
    } satisfies ToExecutor);
    if (slot.ready) arm(slot, p);
  }

  /** The next piece of work for a free executor: its own streams' first, then anyone's. */
  function next(slot: Slot): void {
    if (slot.current || closing) return;
    const p = takeLive(slot.queue) ?? takeLive(shared);
    if (p) start(slot, p);
  }

  function takeLive(queue: Pending[]): Pending | undefined {
    for (;;) {
      const p = queue.shift();
      if (!p?.job.signal?.aborted) return p;
      p.reject(new HttpError(499, "CLIENT_CLOSED", "the client went away before its request ran"));
    }
  }

  /**
   * Kills an executor (or buries one that died), fails what it was running, loses its streams, and
   * starts a fresh one in its place.
   */
  function replace(slot: Slot, code: string, message: string): void {
    clearTimeout(slot.timer);
    const old = slot.child;
    old.removeAllListeners("exit");
    old.kill("SIGKILL");
    const culprit = slot.current;
    // The culprit's own stream is told by its answer, below; the others learn it at their next request.
    const lost = [...slot.streams].filter((id) => id !== culprit?.job.stream);
    const stranded = [...slot.queue.splice(0), ...slot.background.values()];
    slot.background.clear();
    slot.current = null;
    slot.ready = false;
    slot.streams = new Set();
    opts.onStreamsLost(lost, code);
    culprit?.reject(new HttpError(code === "QUERY_TIMEOUT" ? 400 : 500, code, message));
    for (const p of stranded) {
      p.reject(
        new HttpError(
          400,
          "STREAM_CLOSED",
          "The stream was closed: the server stopped a runaway statement on the process holding it, and its transaction was rolled back",
        ),
      );
    }
    if (closing) return;
    slot.child = spawn(slot);
    next(slot);
  }

  return {
    run(job) {
      return new Promise<PipelineOutcome>((resolve, reject) => {
        const p: Pending = { id: nextId++, job, resolve, reject };
        if (job.executor !== null) {
          const slot = slots[job.executor] as Slot;
          if (slot.current) slot.queue.push(p);
          else start(slot, p);
          return;
        }
        const preferred = slots[job.affinity % slots.length] as Slot;
        const free = preferred.current ? slots.find((s) => !s.current) : preferred;
        if (free) start(free, p);
        else shared.push(p);
      });
    },
    closeStream(executor, stream) {
      const slot = slots[executor];
      if (!slot?.streams.delete(stream)) return;
      slot.child.send({ kind: "close", stream } satisfies ToExecutor);
    },
    async close() {
      closing = true;
      const exits = slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            if (slot.child.exitCode !== null || slot.child.signalCode !== null) return resolve();
            slot.child.once("exit", () => resolve());
            // A statement still running would hold the exit back: past a moment, stop waiting for it.
            setTimeout(() => slot.child.kill("SIGKILL"), 3000).unref();
            slot.child.send({ kind: "shutdown" } satisfies ToExecutor);
          }),
      );
      await Promise.all(exits);
      for (const p of shared.splice(0))
        p.reject(new HttpError(503, "SHUTTING_DOWN", "the server is stopping"));
    },
  };
}

function timeoutMessage(limitMs: number): string {
  return `the statement ran longer than the server's limit of ${limitMs / 1000} s and was stopped (its stream's transaction, if any, was rolled back); make it cheaper or bound it with LIMIT`;
}
