import { isTenantDbError } from "../../engine/errors.js";
import { jobProgress } from "../progress.js";
import type { Interrupted } from "./session-process.js";
import type { Shell } from "./state.js";

/**
 * After Ctrl-C killed a statement on a schema database: the job the killed process may have left is
 * settled now, not at some later statement, so the fleet is neither left fenced nor half-migrated. Before
 * its commit point the job is abandoned (nothing changed); past it, it is finished everywhere. Says which.
 */
export async function settleInterruptedMigration(
  shell: Shell,
  e: Interrupted,
  before: number,
): Promise<void> {
  const proc = shell.sessionProcess;
  if (!proc) return;
  const name = shell.session.database;
  const progress = jobProgress(!shell.g.json);
  let job: Awaited<ReturnType<typeof proc.settleMigration>>;
  try {
    job = await proc.settleMigration(progress.onProgress);
  } catch (err) {
    if (!isTenantDbError(err)) throw err;
    e.notes.push(`the migration could not be settled: ${err.message}`);
    return;
  } finally {
    progress.done();
  }
  const after = shell.engine.getDatabase(name).schemaVersion;
  if (after !== before) {
    const children = shell.engine.countDatabases({ schemaParent: name });
    e.notes.push(
      `the migration had passed its commit point, so it was finished: ${name} and ${children} child database${children === 1 ? "" : "s"} are at schema version ${after}`,
    );
  } else if (job) {
    e.notes.push(
      `the migration stopped before its commit point, so nothing changed (${name} stays at schema version ${before})`,
    );
  }
}

/** sqlite3 says "Interrupted"; this also says what was lost and what became of a migration. */
export function reportInterrupted(shell: Shell, e: Interrupted): void {
  const notes = [...(e.inTransaction ? ["the open transaction was rolled back"] : []), ...e.notes];
  const message = `Interrupted${notes.length > 0 ? `: ${notes.join("; ")}` : ""}.`;
  process.stderr.write(`${message}\n`);
  if (shell.g.json) process.stderr.write(`${JSON.stringify({ error: { code: "INTERRUPTED", message } })}\n`);
}
