import { TenantDbError } from "../../engine/errors.js";
import type { QueryResult } from "../../engine/query/values.js";
import { splitStatements } from "../../engine/sql/statements.js";
import { printLine, resultJson } from "../output.js";
import { jobProgress } from "../progress.js";
import { settleInterruptedMigration } from "./interrupt.js";
import { render } from "./render.js";
import { addCpu, Interrupted } from "./session-process.js";
import type { Shell } from "./state.js";

/**
 * Runs a chunk of SQL. On a schema database the chunk is one migration (all or none, one job); elsewhere
 * statements run one at a time like sqlite3, each printed as soon as it ran, so a failure can say which
 * statement failed and what had already committed.
 */
export async function runSql(shell: Shell, sql: string): Promise<void> {
  const statements = splitStatements(sql);
  if (statements.length === 0) return;
  const db = shell.engine.getDatabase(shell.session.database);
  if (db.type === "schema") return runMigration(shell, sql.trim(), db.schemaVersion);
  const several = statements.length > 1 || shell.statements > 0;
  for (const s of statements) {
    const number = ++shell.statements;
    const started = timing(shell);
    let results: QueryResult[];
    try {
      results = await shell.session.execute(s.sql);
    } catch (e) {
      throw several ? failedStatement(shell, e, number, s.sql) : e;
    }
    if (!shell.session.inTransaction) shell.committedThrough = number;
    show(shell, results);
    if (shell.timer) printLine(started());
  }
}

async function runMigration(shell: Shell, sql: string, before: number): Promise<void> {
  const started = timing(shell);
  const t0 = Date.now();
  const progress = jobProgress(!shell.g.json);
  let results: QueryResult[];
  try {
    results = await shell.session.execute(sql, undefined, { onProgress: progress.onProgress });
  } catch (e) {
    progress.done();
    if (e instanceof Interrupted) await settleInterruptedMigration(shell, e, before);
    throw e;
  }
  progress.done();
  shell.statements += splitStatements(sql).length;
  shell.committedThrough = shell.statements;
  show(shell, results);
  const name = shell.session.database;
  const after = shell.engine.getDatabase(name).schemaVersion;
  if (after !== before && !shell.g.json) {
    const children = shell.engine.countDatabases({ schemaParent: name });
    printLine(
      `Migrated ${name} and ${children} child database${children === 1 ? "" : "s"} to schema version ${after} in ${((Date.now() - t0) / 1000).toFixed(2)}s.`,
    );
  }
  if (shell.timer) printLine(started());
}

function show(shell: Shell, results: QueryResult[]) {
  if (shell.json) shell.json.push(...results.map(resultJson));
  else for (const r of results) render(r, shell);
}

/** The error of statement `number`, saying what before it committed and what did not. */
function failedStatement(shell: Shell, e: unknown, number: number, sql: string): unknown {
  if (!(e instanceof TenantDbError)) return e;
  const committed = shell.committedThrough;
  const done =
    committed === 0
      ? "nothing before it committed"
      : `${committed === 1 ? "statement 1" : `statements 1-${committed}`} ran and committed`;
  const open =
    committed < number - 1
      ? `; statements ${committed + 1}-${number - 1} ran inside a transaction that ${shell.interactive ? "is still open" : "was rolled back"}`
      : "";
  return new TenantDbError(
    e.code,
    `statement ${number} failed: ${e.message}\n  in: ${oneLine(sql)}\n  (${done}${open})`,
    {
      ...e.details,
      statement: number,
      sql,
      committedThrough: committed,
    },
  );
}

function oneLine(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}

/** sqlite3's .timer line: wall time and CPU time of what just ran (here and where the session runs). */
function timing(shell: Shell): () => string {
  const start = process.hrtime.bigint();
  const cpu = cpuUsage(shell);
  return () => {
    const real = Number(process.hrtime.bigint() - start) / 1e9;
    const now = cpuUsage(shell);
    const used = { user: now.user - cpu.user, system: now.system - cpu.system };
    return `Run Time: real ${real.toFixed(3)} user ${(used.user / 1e6).toFixed(6)} sys ${(used.system / 1e6).toFixed(6)}`;
  };
}

function cpuUsage(shell: Shell): NodeJS.CpuUsage {
  const own = process.cpuUsage();
  const child = shell.sessionProcess?.cpuUsage();
  return child ? addCpu(own, child) : own;
}
