import readline from "node:readline";
import { failedPrecondition } from "../engine/errors.js";

/**
 * Asks before something that cannot be undone, like turso: on a terminal it asks, with --yes it does not,
 * and without a terminal (a script, a pipe) it refuses rather than guess.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) {
    throw failedPrecondition(
      `${question.replace(/\?$/, "")}: refusing without --yes, because standard input is not a terminal to ask on`,
    );
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.on("SIGINT", () => resolve(""));
      rl.on("close", () => resolve(""));
      rl.question(`${question} [y/N] `, resolve);
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
