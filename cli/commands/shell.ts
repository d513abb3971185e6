import readline from "node:readline";
import type { Engine, QueryResult, Session } from "../../engine/index.js";
import { isTenantDbError, OWNER } from "../../engine/index.js";
import { splitStatements } from "../../engine/sql/statements.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson, printLine, printResult, resultJson } from "../output.js";
import { jobProgress } from "../progress.js";

export interface ShellOptions {
  token?: string;
  attach?: string[];
}

/**
 * `db shell`: with SQL, run it and exit; without, read statements until `.quit` (from a terminal) or the
 * end of standard input (from a pipe, like `sqlite3 db < file.sql`).
 */
export async function dbShell(g: GlobalOptions, name: string, sql: string | undefined, opts: ShellOptions) {
  await withEngine(g, async (engine) => {
    const principal = opts.token !== undefined ? await engine.authenticate(opts.token, name) : OWNER;
    const session = engine.openSession(name, principal);
    try {
      for (const db of opts.attach ?? [])
        await session.execute(`ATTACH "${db.replaceAll('"', '""')}" AS "${db.replaceAll('"', '""')}"`);
      if (sql !== undefined) return void (await runAndPrint(g, session, sql));
      if (process.stdin.isTTY) return await repl(g, engine, session);
      const input = await readAll(process.stdin);
      if (input.trim()) await runAndPrint(g, session, input);
    } finally {
      session.close();
    }
  });
}

async function runAndPrint(g: GlobalOptions, session: Session, sql: string): Promise<QueryResult[]> {
  const progress = jobProgress(!g.json);
  try {
    const results = await session.execute(sql, undefined, { onProgress: progress.onProgress });
    progress.done();
    if (g.json) printJson(results.map(resultJson));
    else results.forEach(printResult);
    return results;
  } catch (e) {
    progress.done();
    throw e;
  }
}

async function repl(g: GlobalOptions, engine: Engine, session: Session) {
  const db = engine.getDatabase(session.database);
  printLine(
    `Connected to ${db.name} (${db.type}${db.schemaParent ? ` of ${db.schemaParent}` : ""}). Type .help for help, .quit to exit.`,
  );
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: "tenantdb> " });
  let buffer = "";
  rl.prompt();
  for await (const line of rl) {
    if (buffer === "" && line.trim().startsWith(".")) {
      if (await dotCommand(g, session, line.trim())) break;
    } else {
      buffer += `${line}\n`;
      if (isComplete(buffer)) {
        const sql = buffer;
        buffer = "";
        try {
          await runAndPrint(g, session, sql);
        } catch (e) {
          if (!isTenantDbError(e)) throw e;
          process.stderr.write(`Error: ${e.message}\n`);
        }
      }
    }
    rl.setPrompt(buffer ? "   ...> " : "tenantdb> ");
    rl.prompt();
  }
  rl.close();
}

/** Returns true when the shell should end. */
async function dotCommand(g: GlobalOptions, session: Session, command: string): Promise<boolean> {
  const [name, arg] = command.split(/\s+/, 2);
  switch (name) {
    case ".quit":
    case ".exit":
      return true;
    case ".tables":
      await runAndPrint(
        g,
        session,
        "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name != '_tenantdb_' ORDER BY name",
      );
      return false;
    case ".schema":
      await runAndPrint(
        g,
        session,
        arg
          ? `SELECT sql FROM sqlite_schema WHERE tbl_name = '${arg.replaceAll("'", "''")}' AND sql IS NOT NULL`
          : "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name != '_tenantdb_'",
      );
      return false;
    default:
      printLine(".tables            list tables and views");
      printLine(".schema [TABLE]    show CREATE statements");
      printLine(".quit              leave the shell");
      printLine("Statements end with ';'. DDL on a schema database runs as a migration of all its children.");
      return false;
  }
}

/** A statement is complete at a `;`, except inside a CREATE TRIGGER body that has not reached END yet. */
export function isComplete(buffer: string): boolean {
  if (!buffer.trim().endsWith(";")) return false;
  const last = splitStatements(buffer).at(-1);
  const createsTrigger =
    last?.kind === "ddl" && last.ddl.object === "trigger" && last.ddl.action === "create";
  if (!last || !createsTrigger) return true;
  const tokens = last.tokens.filter((t) => t.text !== ";");
  return tokens.at(-1)?.text.toUpperCase() === "END";
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
