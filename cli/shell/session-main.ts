import { isTenantDbError } from "../../engine/errors.js";
import { type Engine, type JobProgress, OWNER, openEngine, type Session } from "../../engine/index.js";
import type { FromSession, SessionSpec, ToSession, WireError } from "./session-protocol.js";

/**
 * The process that runs an interactive shell's statements on its engine session, for the shell that
 * forked it. The shell kills it on Ctrl-C wherever it is (inside SQLite included), so nothing here needs
 * to be interruptible: SQLite rolls back what a killed connection left, and the engine resumes or
 * abandons a migration job a killed process left.
 */

let engine: Engine | undefined;
let session: Session | undefined;

function send(msg: FromSession): void {
  process.send?.(msg);
}

async function open(spec: SessionSpec): Promise<FromSession> {
  engine = await openEngine(spec.dataDir, { recover: "lazy", create: false });
  const principal = spec.token !== undefined ? await engine.authenticate(spec.token, spec.database) : OWNER;
  session = engine.openSession(spec.database, principal);
  const replayFailures: string[] = [];
  for (const sql of spec.replay) {
    try {
      await session.execute(sql);
    } catch (e) {
      replayFailures.push(`${sql}: ${(e as Error).message}`);
    }
  }
  return { kind: "opened", replayFailures, cpu: process.cpuUsage() };
}

async function handle(msg: ToSession): Promise<FromSession> {
  if (msg.kind === "open") return open(msg.spec);
  if (!engine || !session) throw new Error("the session is not open");
  const onProgress = (progress: JobProgress) => send({ kind: "progress", progress });
  if (msg.kind === "execute") {
    const results = await session.execute(msg.sql, msg.args, { onProgress });
    return { kind: "done", results, inTransaction: session.inTransaction, cpu: process.cpuUsage() };
  }
  const job = await engine.resumeMigrations(session.database, { onProgress });
  return { kind: "settled", job: job && { state: job.state, version: job.version } };
}

function wire(e: unknown): WireError {
  if (isTenantDbError(e)) return { code: e.code, message: e.message, details: e.details };
  return { message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack };
}

// Requests come one at a time (the shell waits for each answer), so they are handled as they come.
process.on("message", (msg: ToSession) => {
  handle(msg).then(send, (e) =>
    send({ kind: "failed", error: wire(e), inTransaction: session?.inTransaction ?? false }),
  );
});
// The shell is gone (it quit, or died): roll back and leave, as closing the session does.
process.on("disconnect", () => {
  session?.close();
  engine?.close();
  process.exit(0);
});
