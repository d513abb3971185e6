import { execFile } from "node:child_process";
import path from "node:path";
import { CLI, ROOT } from "../helpers.js";

export type PtyStep = { send: string } | { waitFor: string } | { waitForSql: [file: string, query: string] };

/**
 * Runs the real CLI under a pseudo-terminal (python3's pty module, see pty-driver.py): `waitFor` steps wait
 * for output, `send` steps type (Ctrl-C is "\x03", Ctrl-D "\x04"), `waitForSql` steps wait for a query on a
 * SQLite file to return a row (a state on disk the terminal does not show). Resolves with everything the
 * terminal showed, the exit code, and the text (or query) a step waited for in vain (null if none).
 */
export function runCliInPty(
  args: string[],
  steps: PtyStep[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<{ output: string; code: number | null; missing: string | null }> {
  const driver = path.join(ROOT, "test", "cli", "pty-driver.py");
  const spec = JSON.stringify({ cmd: [CLI, ...args], steps, timeout: 90 });
  return new Promise((resolve, reject) => {
    execFile(
      "python3",
      [driver, spec],
      { env: { ...process.env, ...opts.env }, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) return reject(error);
        resolve(JSON.parse(stdout));
      },
    );
  });
}
