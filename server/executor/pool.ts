import { type ChildProcess, fork } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ClientGone } from "../http.js";
import { HttpError } from "../http-errors.js";
import type { ExecutorSettings, ExecutorTask, FromExecutor, StreamSpec, ToExecutor } from "./protocol.js";

/**
 * The executors: child processes that run every statement the data plane sends (but the reads SQLite
 * proves bounded: see inline-reads.ts), so that the server's own thread never waits on SQLite. Processes,
 * not worker threads: better-sqlite3 can neither interrupt a statement nor stop a thread that is inside
 * SQLite (Worker.terminate() never returns from an unbounded recursive CTE), and only a process can be
 * killed wherever it is.
 *
 * An executor runs its pipelines one after another, in the order sent, a few in flight at a time so
 * that the hop between processes is paid once per batch rather than once per request. The one at the
 * head has a clock: past the statement time limit the executor is asked if it is alive (one waiting on
 * a migration job's threads answers and goes on), and if it does not answer it is killed and replaced.
 * Its streams are lost — their transactions roll back, as SQLite guarantees for a dead connection —
 * while the work queued behind the runaway never started, so whatever is not tied to a lost stream runs
 * elsewhere. An executor whose head has run long gets no new work, so a runaway delays almost nobody.
 *
 * A stream keeps the executor it first ran on (its session lives there); autocommit work goes to the
 * executor already running its database's work, or to the one its database prefers (its cached sessions
 * and its write lock are there), else to the least loaded healthy one, else waits in line here.
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
  /** Who asks (a hash of the token): one owner's long-running work may not hold every executor. */
  owner: string;
  /** Aborted when the client goes away: work not yet started is dropped. */
  signal?: ClientGone;
  /** Platform work instead of a pipeline (stream and requests unused): see tasks.ts. */
  task?: ExecutorTask;
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
  /** Its engine is open; until then its clock does not run and it takes no shared work. */
  ready: boolean;
  /** Sent and unanswered, in the order sent: the head is running, the rest have not started. */
  inFlight: Pending[];
  /** When the head started (the previous one's answer, or its sending). */
  headSince: number;
  timer: NodeJS.Timeout | undefined;
  /** Work for streams whose session is on this executor, waiting for room. */
  queue: Pending[];
  /** Pipelines running migration jobs: not on the clock, and not holding the line. */
  background: Map<number, Pending>;
  streams: Set<number>;
  /** Messages to send at the end of this turn, together. */
  outbox: ToExecutor[];
}

export interface ExecutorPool {
  run(job: PipelineJob): Promise<PipelineOutcome>;
  /** Runs Platform work on any executor; resolves to its reply's JSON, or throws its failure. */
  runTask(task: ExecutorTask, owner: string, signal?: ClientGone): Promise<string>;
  /** Closes a stream's session (rolling back its transaction), between pipelines. */
  closeStream(executor: number, stream: number): void;
  close(): Promise<void>;
}

/** How long an executor past the time limit has to answer a ping before it is killed. */
const PING_GRACE_MS = 1500;
/** Pipelines sent to one executor ahead of its answers. */
const MAX_IN_FLIGHT = 4;
/** The same, when they are all one caller's on one database (see pick). */
const MAX_IN_FLIGHT_ONE_DATABASE = 16;
/** An executor whose current pipeline has run this long gets no new work until it answers. */
const SUSPECT_AFTER_MS = 250;

export function createExecutorPool(opts: PoolOptions): ExecutorPool {
  const shared: Pending[] = [];
  let nextId = 1;
  let closing = false;
  const slots: Slot[] = Array.from({ length: opts.size }, (_, index) => {
    const slot: Slot = {
      index,
      child: undefined as unknown as ChildProcess,
      ready: false,
      inFlight: [],
      headSince: 0,
      timer: undefined,
      queue: [],
      background: new Map(),
      streams: new Set(),
      outbox: [],
    };
    slot.child = spawn(slot);
    return slot;
  });

  function spawn(slot: Slot): ChildProcess {
    const fromSource = import.meta.url.endsWith(".ts");
    const entry = fileURLToPath(new URL(fromSource ? "./main.ts" : "./main.js", import.meta.url));
    // A heap ceiling: should a pipeline's results outgrow every limit anyway, only this process dies.
    const execArgv = [
      "--max-old-space-size=1024",
      ...(fromSource ? ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href] : []),
    ];
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
    slot.outbox = [];
    child.send({ kind: "init", settings: opts.settings } satisfies ToExecutor);
    // A server that is shutting down must not be kept alive by idle executors.
    child.unref();
    (child as unknown as { channel?: { unref(): void } }).channel?.unref();
    return child;
  }

  function onMessage(slot: Slot, child: ChildProcess, msg: FromExecutor): void {
    if (slot.child !== child) return;
    switch (msg.kind) {
      case "batch":
        for (const m of msg.messages) onMessage(slot, child, m);
        return;
      case "unexpected":
        opts.log(`tenantdb serve: unexpected error in executor ${slot.index}: ${msg.message}`);
        return;
      case "ready":
        slot.ready = true;
        startClock(slot);
        pump();
        return;
      case "pong":
        // Alive, waiting on something other than SQLite: give it more time.
        if (slot.inFlight[0]?.id === msg.id) arm(slot);
        return;
      case "background": {
        const p = takeHead(slot, msg.id);
        if (p) slot.background.set(p.id, p);
        pump();
        return;
      }
      default: {
        const p = takeHead(slot, msg.id) ?? slot.background.get(msg.id);
        if (!p) return;
        slot.background.delete(p.id);
        if (msg.closed) slot.streams.delete(p.job.stream);
        else slot.streams.add(p.job.stream);
        p.resolve({ ...msg, executor: slot.index });
        pump();
      }
    }
  }

  /** The head, answered (or gone to the background): the next one starts now. */
  function takeHead(slot: Slot, id: number): Pending | undefined {
    if (slot.inFlight[0]?.id !== id) return undefined;
    const p = slot.inFlight.shift();
    startClock(slot);
    return p;
  }

  function startClock(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.headSince = Date.now();
    if (slot.ready && slot.inFlight.length > 0) arm(slot);
  }

  function arm(slot: Slot): void {
    clearTimeout(slot.timer);
    const head = slot.inFlight[0];
    if (!head) return;
    slot.timer = setTimeout(() => {
      if (slot.inFlight[0] !== head) return;
      post(slot, { kind: "ping", id: head.id });
      slot.timer = setTimeout(() => {
        if (slot.inFlight[0] === head)
          replace(slot, "QUERY_TIMEOUT", timeoutMessage(opts.statementTimeoutMs));
      }, PING_GRACE_MS);
    }, opts.statementTimeoutMs);
  }

  function send(slot: Slot, p: Pending): void {
    const { job } = p;
    slot.inFlight.push(p);
    if (job.task) post(slot, { kind: "task", id: p.id, task: job.task });
    else
      post(slot, {
        kind: "pipeline",
        id: p.id,
        stream: job.stream,
        open: job.open,
        requests: job.requests,
        version: job.version,
      });
    if (slot.inFlight.length === 1) startClock(slot);
  }

  function post(slot: Slot, msg: ToExecutor): void {
    if (slot.outbox.length === 0) {
      const child = slot.child;
      setImmediate(() => {
        if (slot.child !== child || slot.outbox.length === 0) return;
        const messages = slot.outbox;
        slot.outbox = [];
        child.send(messages.length === 1 ? (messages[0] as ToExecutor) : { kind: "batch", messages });
      });
    }
    slot.outbox.push(msg);
  }

  const healthy = (slot: Slot, now: number) =>
    slot.ready && (slot.inFlight.length === 0 || now - slot.headSince < SUSPECT_AFTER_MS);
  const hasRoom = (slot: Slot, now: number) => slot.inFlight.length < MAX_IN_FLIGHT && healthy(slot, now);

  /** Sends whatever waits to executors with room: their own streams' work first, then anyone's. */
  function pump(): void {
    if (closing) return;
    const now = Date.now();
    for (const slot of slots) {
      while (slot.queue.length > 0 && hasRoom(slot, now)) {
        const p = takeLive(slot.queue);
        if (p) send(slot, p);
      }
    }
    for (let i = 0; i < shared.length; ) {
      const p = shared[i] as Pending;
      if (p.job.signal?.aborted) {
        shared.splice(i, 1);
        p.reject(new HttpError(499, "CLIENT_CLOSED", "the client went away before its request ran"));
        continue;
      }
      // Someone whose work already runs long on all but one executor waits; the others go ahead.
      if (hogging(p.job.owner, now)) {
        i++;
        continue;
      }
      const slot = pick(p.job, now);
      if (!slot) return;
      shared.splice(i, 1);
      send(slot, p);
    }
  }

  function hogging(owner: string, now: number): boolean {
    if (slots.length < 2) return false;
    let slow = 0;
    for (const slot of slots) {
      const head = slot.inFlight[0];
      if (head?.job.owner === owner && now - slot.headSince >= SUSPECT_AFTER_MS) slow++;
    }
    return slow >= slots.length - 1;
  }

  function pick(job: PipelineJob, now: number): Slot | undefined {
    // One caller's concurrent work on one database stays together while its executor has room: its writes
    // then never fight over SQLite's lock from two processes (each waiting out the other's commits), and
    // its bursts travel in one message. Only that caller's own work can wait behind one of its statements
    // that runs away (until it is suspect); anyone else's is placed as it always was.
    for (const slot of slots) {
      if (
        slot.inFlight.length < MAX_IN_FLIGHT_ONE_DATABASE &&
        healthy(slot, now) &&
        slot.inFlight.length > 0 &&
        slot.inFlight.every((p) => p.job.affinity === job.affinity && p.job.owner === job.owner)
      )
        return slot;
    }
    const preferred = slots[job.affinity % slots.length] as Slot;
    if (hasRoom(preferred, now) && preferred.inFlight.length === 0) return preferred;
    let best: Slot | undefined;
    for (const slot of slots) {
      if (hasRoom(slot, now) && (!best || slot.inFlight.length < best.inFlight.length)) best = slot;
    }
    return best;
  }

  function takeLive(queue: Pending[]): Pending | undefined {
    for (;;) {
      const p = queue.shift();
      if (!p?.job.signal?.aborted) return p;
      p.reject(new HttpError(499, "CLIENT_CLOSED", "the client went away before its request ran"));
    }
  }

  /**
   * Kills an executor (or buries one that died) and starts a fresh one in its place. The head fails with
   * `code`; what was sent after it never started, so work not tied to a stream of this executor is sent
   * elsewhere; the executor's streams are lost.
   */
  function replace(slot: Slot, code: string, message: string): void {
    clearTimeout(slot.timer);
    const old = slot.child;
    old.removeAllListeners("exit");
    old.kill("SIGKILL");
    const [culprit, ...unstarted] = slot.inFlight;
    const stranded = [...slot.queue, ...slot.background.values()];
    // The culprit's own stream is told by its answer, below; the others learn it at their next request.
    const lost = [...slot.streams].filter((id) => id !== culprit?.job.stream);
    slot.inFlight = [];
    slot.queue = [];
    slot.background.clear();
    slot.ready = false;
    slot.streams = new Set();
    opts.onStreamsLost(lost, code);
    culprit?.reject(new HttpError(code === "QUERY_TIMEOUT" ? 400 : 500, code, message));
    for (const p of unstarted) {
      if (p.job.executor === null) shared.unshift(p);
      else stranded.push(p);
    }
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
    pump();
  }

  return {
    run(job) {
      return new Promise<PipelineOutcome>((resolve, reject) => {
        const p: Pending = { id: nextId++, job, resolve, reject };
        if (job.executor !== null) (slots[job.executor] as Slot).queue.push(p);
        else shared.push(p);
        pump();
      });
    },
    async runTask(task, owner, signal) {
      // Stream 0 is never a Hrana stream's: the executor answers a task as closed, so nothing is kept.
      const outcome = await this.run({
        stream: 0,
        requests: [],
        version: 2,
        executor: null,
        affinity: nextId,
        owner,
        signal,
        task,
      });
      if (outcome.kind === "failed") {
        throw new HttpError(outcome.error.status, outcome.error.code, outcome.error.message);
      }
      return outcome.results;
    },
    closeStream(executor, stream) {
      const slot = slots[executor];
      if (!slot?.streams.delete(stream)) return;
      post(slot, { kind: "close", stream });
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
