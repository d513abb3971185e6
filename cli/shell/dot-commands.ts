import fs from "node:fs";
import { invalidArgument } from "../../engine/errors.js";
import type { QueryResult } from "../../engine/query/values.js";
import { dumpSql, quoteText } from "../dump-sql.js";
import { printLine, resultJson } from "../output.js";
import { MODES, type Mode, render } from "./render.js";
import type { Shell } from "./state.js";

/** What a dot-command asks of the shell after it ran. */
export type DotOutcome = "continue" | "quit";

/** Runs a script of SQL and dot-commands (for .read); provided by script.ts to avoid an import cycle. */
export type ScriptRunner = (shell: Shell, text: string) => Promise<DotOutcome>;

const USER_OBJECTS = "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name != '_tenantdb_'";

const HELP: [string, string][] = [
  [".dump [TABLE]", "print the database (or one table) as SQL text"],
  [".exit, .quit", "leave the shell"],
  [".headers on|off", "show or hide column headers"],
  [".help", "show this list"],
  [".indexes [TABLE]", "list indexes (of one table)"],
  [".mode [MODE]", `set the output mode: ${MODES.join(", ")} (no MODE: show it)`],
  [".read FILE", "run the SQL and dot-commands in FILE"],
  [".schema [TABLE]", "show CREATE statements (of one table)"],
  [".tables", "list tables and views"],
  [".timer on|off", "print how long each statement took"],
];

export async function dotCommand(shell: Shell, line: string, runScript: ScriptRunner): Promise<DotOutcome> {
  const [name = "", ...args] = splitArgs(line);
  switch (name) {
    case ".quit":
    case ".exit":
      return "quit";
    case ".help":
      for (const [usage, what] of HELP) printLine(`${usage.padEnd(20)}${what}`);
      printLine(
        "Statements end with ';' and may span lines. Ctrl-C cancels the input or stops the running statement; Ctrl-D leaves.",
      );
      printLine("DDL on a schema database runs as one migration of all its children.");
      return "continue";
    case ".tables":
      await query(
        shell,
        `SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND ${USER_OBJECTS} ORDER BY name`,
      );
      return "continue";
    case ".schema": {
      const filter = args[0] ? ` AND tbl_name = ${quoteText(args[0])}` : "";
      const r = await select(
        shell,
        `SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND ${USER_OBJECTS}${filter} ORDER BY tbl_name, type DESC, name`,
      );
      if (shell.json) shell.json.push(resultJson(r));
      else for (const [sql] of r.rows) printLine(`${String(sql)};`);
      return "continue";
    }
    case ".indexes":
    case ".indices": {
      const filter = args[0] ? ` AND tbl_name = ${quoteText(args[0])}` : "";
      await query(
        shell,
        `SELECT name, tbl_name AS "table" FROM sqlite_schema WHERE type = 'index' AND ${USER_OBJECTS}${filter} ORDER BY tbl_name, name`,
      );
      return "continue";
    }
    case ".mode":
      if (args[0] === undefined) printLine(`current output mode: ${shell.mode}`);
      else if ((MODES as readonly string[]).includes(args[0])) shell.mode = args[0] as Mode;
      else throw invalidArgument(`unknown mode "${args[0]}": use one of ${MODES.join(", ")}`);
      return "continue";
    case ".headers":
    case ".header":
      shell.headers = onOff(name, args[0]);
      return "continue";
    case ".timer":
      shell.timer = onOff(name, args[0]);
      return "continue";
    case ".read": {
      if (!args[0]) throw invalidArgument(".read needs a file: .read FILE");
      let text: string;
      try {
        text = fs.readFileSync(args[0], "utf8");
      } catch (e) {
        throw invalidArgument(`cannot read ${args[0]}: ${(e as Error).message}`);
      }
      return runScript(shell, text);
    }
    case ".dump": {
      const lines: string[] = [];
      // In the shell's own session: its rights, and Ctrl-C stops it like any statement.
      await dumpSql(
        async (sql) => (await shell.session.execute(sql))[0]?.rows ?? [],
        (l) => (shell.json ? lines.push(l) : printLine(l)),
        args[0],
      );
      if (shell.json) shell.json.push({ sql: `${lines.join("\n")}\n` });
      return "continue";
    }
    default:
      throw invalidArgument(`unknown command "${name}"; .help lists the dot-commands`);
  }
}

async function select(shell: Shell, sql: string): Promise<QueryResult> {
  const [r] = await shell.session.execute(sql);
  if (!r) throw new Error(`no result for ${sql}`);
  return r;
}

async function query(shell: Shell, sql: string): Promise<void> {
  const r = await select(shell, sql);
  if (shell.json) shell.json.push(resultJson(r));
  else render(r, shell);
}

function onOff(command: string, value: string | undefined): boolean {
  if (value === "on" || value === "1" || value === "yes") return true;
  if (value === "off" || value === "0" || value === "no") return false;
  throw invalidArgument(`${command} takes on or off`);
}

/** Words, with '...' or "..." quoting a word that holds spaces (a file name, a table). */
function splitArgs(line: string): string[] {
  return [...line.trim().matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}
