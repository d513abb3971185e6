import readline from "node:readline";
import { isTenantDbError } from "../../engine/errors.js";
import { reportError } from "../errors.js";
import { printJson, printLine } from "../output.js";
import { isComplete } from "./complete.js";
import { dotCommand } from "./dot-commands.js";
import { HISTORY_LIMIT, historyFile, loadHistory, saveHistory } from "./history.js";
import { runSql } from "./run-sql.js";
import { runScript } from "./script.js";
import type { Shell } from "./state.js";

const PROMPT = "tenantdb> ";
const CONTINUE = "   ...> ";

/**
 * The interactive shell. Ctrl-C drops the statement being typed and keeps the shell (like sqlite3); while
 * a statement runs it says so and the shell stays usable afterwards. Ctrl-D or .quit leaves.
 */
export async function repl(shell: Shell): Promise<void> {
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
  let buffer = "";
  let running = false;
  rl.on("SIGINT", () => {
    if (running) {
      process.stderr.write(
        "\n^C a statement is running; a migration finishes all or none and cannot be abandoned halfway. Waiting for it.\n",
      );
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
    running = true;
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
      if (!isTenantDbError(e)) throw e;
      reportError(e, Boolean(shell.g.json));
    } finally {
      running = false;
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
