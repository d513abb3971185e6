import readline from "node:readline";
import { isTenantDbError } from "../../engine/errors.js";
import { reportError } from "../errors.js";
import { printJson, printLine } from "../output.js";
import { isComplete } from "./complete.js";
import { dotCommand } from "./dot-commands.js";
import { HISTORY_LIMIT, historyFile, loadHistory, saveHistory } from "./history.js";
import { reportInterrupted } from "./interrupt.js";
import { runSql } from "./run-sql.js";
import { runScript } from "./script.js";
import { Interrupted, openSessionProcess, type SessionProcess } from "./session-process.js";
import type { Shell } from "./state.js";

const PROMPT = "tenantdb> ";
const CONTINUE = "   ...> ";

/** How the shell's session was opened, for the process that holds it to open it the same way. */
export interface SessionAccess {
  token?: string;
  attach?: string[];
}

/**
 * The interactive shell. Ctrl-C drops the statement being typed, or stops the one running, and keeps the
 * shell and its settings (like sqlite3). Statements run in a child process holding the session, which is
 * what Ctrl-C kills (see session-process.ts). Ctrl-D or .quit leaves.
 */
export async function repl(shell: Shell, access: SessionAccess = {}): Promise<void> {
  const proc = openSessionProcess({
    dataDir: shell.engine.dataDir,
    database: shell.session.database,
    token: access.token,
    attach: access.attach ?? [],
  });
  shell.session = proc;
  shell.sessionProcess = proc;
  try {
    await readLines(shell, proc);
  } finally {
    proc.close();
  }
}

async function readLines(shell: Shell, proc: SessionProcess): Promise<void> {
  const db = shell.engine.getDatabase(shell.session.database);
  printLine(
    `Connected to ${db.name} (${db.type}${db.schemaParent ? ` of ${db.schemaParent}` : ""}). Type .help for help, .quit to exit.`,
  );
  const file = historyFile();
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: PROMPT,
    history: loadHistory(file),
    historySize: HISTORY_LIMIT,
    removeHistoryDuplicates: true,
  });
  rl.on("history", (h: string[]) => saveHistory(file, h));
  // Started as soon as a statement is being typed: ready by the time it is entered, and never in the
  // way of the prompt.
  process.stdin.once("keypress", () => proc.warm());
  let buffer = "";
  // Lines entered and not yet handled: the first one runs, the others were typed (or pasted) ahead.
  let unhandled = 0;
  // Lines Ctrl-C caught entered but not started yet: they never run.
  let dropped = 0;
  rl.on("line", () => unhandled++);
  rl.on("SIGINT", () => {
    if (unhandled > 0) {
      const outcome = proc.interrupt();
      if (outcome === "protected") {
        process.stderr.write(
          "\n^C settling the interrupted migration, all or none: it cannot be abandoned halfway. Waiting for it.\n",
        );
        return;
      }
      process.stdout.write("^C\n");
      if (outcome === "idle") dropped = unhandled;
      return;
    }
    buffer = "";
    // Drop what was typed on this line: to its end, then everything before the cursor.
    rl.write(null, { ctrl: true, name: "e" });
    rl.write(null, { ctrl: true, name: "u" });
    process.stdout.write("^C\n");
    rl.setPrompt(PROMPT);
    rl.prompt();
  });
  rl.prompt();
  for await (const line of rl) {
    if (dropped > 0) {
      dropped--;
      unhandled--;
      buffer = "";
      if (dropped > 0) continue;
      reportInterrupted(shell, new Interrupted(false));
      rl.setPrompt(PROMPT);
      rl.prompt();
      continue;
    }
    try {
      if (buffer === "" && line.trim().startsWith(".")) {
        if ((await dotCommand(shell, line, runScript)) === "quit") break;
      } else {
        buffer += `${line}\n`;
        if (isComplete(buffer)) {
          const sql = buffer;
          buffer = "";
          await runSql(shell, sql);
        }
      }
    } catch (e) {
      if (e instanceof Interrupted) reportInterrupted(shell, e);
      else if (isTenantDbError(e)) reportError(e, Boolean(shell.g.json));
      else throw e;
    } finally {
      unhandled--;
      flushJson(shell);
      shell.statements = 0; // each input is numbered on its own
    }
    rl.setPrompt(buffer ? CONTINUE : PROMPT);
    rl.prompt();
  }
  rl.close();
}

function flushJson(shell: Shell) {
  if (shell.json && shell.json.length > 0) printJson(shell.json.splice(0));
}
