import type { Engine } from "../../engine/index.js";
import type { GlobalOptions } from "../context.js";
import type { RenderOptions } from "./render.js";
import type { ShellSession } from "./session.js";
import type { SessionProcess } from "./session-process.js";

/** One shell: its session and settings, the same whether it reads a terminal, a pipe or one argument. */
export interface Shell extends RenderOptions {
  g: GlobalOptions;
  engine: Engine;
  session: ShellSession;
  /** Interactive only: the session is in a child process, which Ctrl-C kills (see session-process.ts). */
  sessionProcess?: SessionProcess;
  /** A terminal: errors are reported and the shell goes on; a script stops at the first one. */
  interactive: boolean;
  timer: boolean;
  /** Statements run so far, numbered from 1 across the whole script (for error messages). */
  statements: number;
  /** The last statement whose effects are committed (0: none). */
  committedThrough: number;
  /** With --json: results collected for one JSON array. */
  json?: unknown[];
}
