import { isComplete } from "./complete.js";
import { type DotOutcome, dotCommand } from "./dot-commands.js";
import { runSql } from "./run-sql.js";
import type { Shell } from "./state.js";

/**
 * Runs a script the way sqlite3 reads one from a pipe: a line starting with "." between statements is a
 * dot-command; SQL between two dot-commands runs as one chunk (on a schema database, one migration). The
 * first error ends the script.
 */
export async function runScript(shell: Shell, text: string): Promise<DotOutcome> {
  let buffer = "";
  for (const line of text.split(/\r?\n/)) {
    if (line.trim().startsWith(".") && (buffer.trim() === "" || isComplete(buffer))) {
      await runSql(shell, buffer);
      buffer = "";
      if ((await dotCommand(shell, line, runScript)) === "quit") return "quit";
      continue;
    }
    buffer += `${line}\n`;
  }
  await runSql(shell, buffer);
  return "continue";
}
