import { OWNER } from "../../engine/index.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson } from "../output.js";
import { repl } from "../shell/repl.js";
import { runScript } from "../shell/script.js";
import type { Shell } from "../shell/state.js";

export interface ShellOptions {
  token?: string;
  attach?: string[];
}

/**
 * `db shell`: with SQL (or a dot-command), run it and exit; without, read statements until `.quit` (from a
 * terminal) or the end of standard input (from a pipe, like `sqlite3 db < file.sql`).
 */
export async function dbShell(g: GlobalOptions, name: string, sql: string | undefined, opts: ShellOptions) {
  await withEngine(g, async (engine) => {
    const principal = opts.token !== undefined ? await engine.authenticate(opts.token, name) : OWNER;
    const session = engine.openSession(name, principal);
    const interactive = sql === undefined && Boolean(process.stdin.isTTY);
    const shell: Shell = {
      g,
      engine,
      session,
      interactive,
      mode: "column",
      headers: true,
      timer: false,
      statements: 0,
      committedThrough: 0,
      json: g.json ? [] : undefined,
    };
    try {
      for (const db of opts.attach ?? [])
        await session.execute(`ATTACH "${db.replaceAll('"', '""')}" AS "${db.replaceAll('"', '""')}"`);
      if (interactive) return await repl(shell, opts);
      try {
        await runScript(shell, sql ?? (await readAll(process.stdin)));
      } finally {
        // What ran before a failure is shown too: it did run, and may have committed.
        if (shell.json) printJson(shell.json);
      }
    } finally {
      session.close();
    }
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
