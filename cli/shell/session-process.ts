import { type ChildProcess, fork } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ErrorCode, TenantDbError } from "../../engine/errors.js";
import type { ProgressListener, QueryResult, SqlArgs } from "../../engine/index.js";
import { splitStatements } from "../../engine/sql/statements.js";
import type { ShellSession } from "./session.js";
import type { FromSession, SessionSpec, SettledJob, ToSession, WireError } from "./session-protocol.js";

/**
 * The interactive shell's session, held by a child process that runs its statements. Ctrl-C must stop a
 * statement wherever it is, and better-sqlite3 can neither interrupt one nor let a thread inside SQLite
 * be stopped: only a process can be killed there (the server's executors do the same, for the same
 * reason). Killing it loses what only that connection held — its open transaction, which SQLite rolls
 * back, and temporary tables and pragmas; its attachments are restored in the next process, started
 * for the next statement.
 */
export interface SessionProcess extends ShellSession {
  /**
   * Kills the process if it is running a request: that request fails with `Interrupted`. Returns what
   * happened: `protected` when the request is finishing a migration past its commit point, which must
   * not be stopped; `idle` when nothing was running.
   */
  interrupt(): "stopped" | "protected" | "idle";
  /** Finishes or abandons the database's unfinished migration job (one a killed process left). */
  settleMigration(onProgress?: ProgressListener): Promise<SettledJob | null>;
  /** Starts the process ahead of the first statement (when the user starts typing one). */
  warm(): void;
  /** CPU time the processes spent, as of their last answers (for `.timer`). */
  cpuUsage(): NodeJS.CpuUsage;
}

/** A request stopped by Ctrl-C. Nothing it did was kept, beyond what had committed before it. */
export class Interrupted extends Error {
  override readonly name = "Interrupted";
  /** Notes for the user: what was lost, what became of a migration. */
  readonly notes: string[] = [];
  constructor(
    /** A transaction was open when the statement started: it is rolled back. */
    readonly inTransaction: boolean,
  ) {
    super("Interrupted");
  }
}

interface Request {
  resolve(msg: FromSession): void;
  reject(e: unknown): void;
  onProgress?: ProgressListener;
  inTransaction: boolean;
}

export function openSessionProcess(spec: Omit<SessionSpec, "replay"> & { attach: string[] }): SessionProcess {
  // The session's attachments, replayed by each new process: the --attach ones, then the user's own.
  const replay = spec.attach.map((db) => `ATTACH ${quoted(db)} AS ${quoted(db)}`);
  let child: ChildProcess | undefined;
  let opened: Promise<void> | undefined;
  let current: Request | undefined;
  let killing = false;
  // Settling a migration, from the start of its process on: past a commit point it must not be stopped.
  let settling = false;
  let inTransaction = false;
  // CPU time of the processes before this one, and of this one as of its last answer.
  let cpuBefore: NodeJS.CpuUsage = { user: 0, system: 0 };
  let cpuNow: NodeJS.CpuUsage = { user: 0, system: 0 };

  // Should the shell go with a statement running, the statement must not run on without it: a process
  // inside SQLite would not even notice the channel closing. (A closing terminal hangs up both.)
  const stopRunaway = () => {
    if (current) child?.kill("SIGKILL");
  };
  process.once("exit", stopRunaway);
  process.once("SIGTERM", () => process.exit(143));

  function start(): Promise<void> {
    if (opened) return opened;
    const proc = spawn();
    child = proc;
    killing = false;
    proc.on("message", (msg: FromSession) => {
      if (child === proc) receive(msg);
    });
    proc.on("exit", (code, signal) => {
      if (child !== proc) return;
      child = undefined;
      opened = undefined;
      cpuBefore = addCpu(cpuBefore, cpuNow);
      cpuNow = { user: 0, system: 0 };
      const request = current;
      current = undefined;
      inTransaction = false;
      if (!request) return;
      if (killing) return request.reject(new Interrupted(request.inTransaction));
      request.reject(
        new TenantDbError(
          "INTERNAL",
          `the process running this shell's statements stopped (${signal ?? `exit ${code}`})${request.inTransaction ? "; the open transaction was rolled back" : ""}`,
        ),
      );
    });
    opened = call({ kind: "open", spec: { ...spec, replay: [...replay] } }).then(
      (msg) => {
        if (msg.kind !== "opened") return;
        for (const failure of msg.replayFailures) process.stderr.write(`Could not restore ${failure}\n`);
      },
      (e) => {
        // Nothing useful runs without a session: the next request starts over (and says why, if it fails again).
        if (child === proc) {
          child = undefined;
          opened = undefined;
          proc.kill("SIGKILL");
        }
        throw e;
      },
    );
    return opened;
  }

  function call(msg: ToSession, onProgress?: ProgressListener): Promise<FromSession> {
    const proc = child;
    if (!proc) return Promise.reject(new Error("the session process is not running"));
    if (current) return Promise.reject(new Error("the session process is busy"));
    return new Promise((resolve, reject) => {
      current = { resolve, reject, onProgress, inTransaction };
      holdOpen(proc, true);
      proc.send(msg);
    });
  }

  function receive(msg: FromSession): void {
    if (msg.kind === "progress") {
      current?.onProgress?.(msg.progress);
      return;
    }
    const request = current;
    current = undefined;
    if (child) holdOpen(child, false);
    if (msg.kind === "done" || msg.kind === "failed") inTransaction = msg.inTransaction;
    if (msg.kind === "done" || msg.kind === "opened") cpuNow = msg.cpu;
    if (msg.kind === "failed") request?.reject(fromWire(msg.error));
    else request?.resolve(msg);
  }

  async function execute(sql: string, args?: SqlArgs, opts?: { onProgress?: ProgressListener }) {
    await start();
    const msg = await call({ kind: "execute", sql, args }, opts?.onProgress);
    for (const s of splitStatements(sql)) if (s.kind === "attach" || s.kind === "detach") replay.push(s.sql);
    return (msg as { results: QueryResult[] }).results;
  }

  return {
    database: spec.database,
    get inTransaction() {
      return inTransaction;
    },
    execute,
    async settleMigration(onProgress) {
      settling = true;
      try {
        await start();
        const msg = await call({ kind: "settle" }, onProgress);
        return (msg as { job: SettledJob | null }).job;
      } finally {
        settling = false;
      }
    },
    interrupt() {
      if (!child || !current) return "idle";
      if (settling) return "protected";
      killing = true;
      child.kill("SIGKILL");
      return "stopped";
    },
    cpuUsage: () => addCpu(cpuBefore, cpuNow),
    warm() {
      start().catch(() => {
        // Said again by the statement that needs the session.
      });
    },
    close() {
      // Idle, it rolls back and leaves on its own; busy, it is stopped where it is.
      if (current) child?.kill("SIGKILL");
      else child?.disconnect();
      child = undefined;
    },
  };
}

/** CPU time of two processes (or two spans) together. */
export function addCpu(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): NodeJS.CpuUsage {
  return { user: a.user + b.user, system: a.system + b.system };
}

function spawn(): ChildProcess {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = fileURLToPath(
    new URL(fromSource ? "./session-main.ts" : "./session-main.js", import.meta.url),
  );
  const proc = fork(entry, [], {
    execArgv: fromSource
      ? ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href]
      : [],
    serialization: "advanced", // bigints and blobs as they are
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  // The shell must be able to leave without waiting for it; it leaves when the channel closes.
  proc.unref();
  holdOpen(proc, false);
  return proc;
}

/** Whether the shell waits for the process: while a request runs, and never when idle. */
function holdOpen(proc: ChildProcess, hold: boolean): void {
  const channel = (proc as unknown as { channel?: { ref(): void; unref(): void } }).channel;
  if (hold) channel?.ref();
  else channel?.unref();
}

function fromWire(e: WireError): Error {
  if (e.code) return new TenantDbError(e.code as ErrorCode, e.message, e.details);
  const err = new Error(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}

function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
