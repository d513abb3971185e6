import { benchCreate } from "./create.js";
import { benchPropagate } from "./propagate.js";
import { benchServe } from "./serve.js";

/** `npm run bench -- [create|propagate|serve] [--json]`: each benchmark beside its baselines, never in npm test. */
const BENCHMARKS: Record<string, (opts: { json: boolean }) => Promise<void>> = {
  create: benchCreate,
  propagate: benchPropagate,
  serve: benchServe,
};

const args = process.argv.slice(2);
const json = args.includes("--json");
const names = args.filter((a) => !a.startsWith("--"));
const unknown = names.filter((n) => !(n in BENCHMARKS));
if (unknown.length) {
  process.stderr.write(
    `Error: unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(BENCHMARKS).join(", ")}\n`,
  );
  process.exit(1);
}
for (const name of names.length ? names : Object.keys(BENCHMARKS)) await BENCHMARKS[name]?.({ json });
