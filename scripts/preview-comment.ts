import fs from "node:fs";
import { parsePreviewDigest } from "./preview-digest.js";
import { renderPreviewComment } from "./preview-markdown.js";

/**
 * `node dist/scripts/preview-comment.js [--stack NAME] [--exit-code N] [preview.json]`: prints the Markdown
 * PR comment for a `pulumi preview --json` output (read from the file, else stdin; empty input means
 * the preview failed before it planned anything). Exit status 2 and a
 * message on stderr when the input is not a preview.
 */

const USAGE = "usage: preview-comment [--stack NAME] [--exit-code N] [preview.json]";

function main(argv: string[]): void {
  let stack: string | undefined;
  let exitCode: number | undefined;
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--stack") stack = argv[++i];
    else if (arg === "--exit-code") {
      exitCode = Number(argv[++i]);
      if (!Number.isInteger(exitCode))
        throw new Error(`INVALID_ARGUMENT: --exit-code takes an integer\n${USAGE}`);
    } else if (arg?.startsWith("-")) throw new Error(`INVALID_ARGUMENT: unknown option ${arg}\n${USAGE}`);
    else file = arg;
  }
  const text = fs.readFileSync(file ?? 0, "utf8");
  // pulumi prints nothing on stdout when it fails before the engine runs (login, program crash).
  const noPreview = text.trim() === "";
  const digest = noPreview ? {} : parsePreviewDigest(text);
  process.stdout.write(renderPreviewComment(digest, { stack, exitCode, noPreview }));
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`preview-comment: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
}
