/**
 * The entry point: answers --version on its own, loads the command declarations (commander) for the rest,
 * and turns every outcome into an exit code. Nothing here loads the engine.
 */
import { EXIT_BROKEN_PIPE, EXIT_CODES, reportError } from "./errors.js";
import { readVersion } from "./version.js";

/** `tenantdb help db shell` is `tenantdb db shell --help` (commander's help command takes one word). */
function helpArgs(argv: string[]): string[] {
  const [node, script, first, ...rest] = argv;
  if (first !== "help" || rest.length < 2) return argv;
  return [node as string, script as string, ...rest, "--help"];
}

async function main(argv: string[]): Promise<number> {
  // The one command scripts call in a loop answers without loading commander.
  if (argv.length === 3 && (argv[2] === "--version" || argv[2] === "-V")) {
    process.stdout.write(`${readVersion()}\n`);
    return 0;
  }
  const [{ CommanderError }, { json, program }] = await Promise.all([
    import("commander"),
    import("./program.js"),
  ]);
  try {
    await program.parseAsync(helpArgs(argv));
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_CODES.INVALID_ARGUMENT;
    return reportError(e, json);
  }
}

// `tenantdb db list | head -2`: the reader went away, which is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(EXIT_BROKEN_PIPE);
    throw e;
  });
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
