import { benchCreate } from "./create.js";
import { benchLarge } from "./large.js";
import { benchPropagate } from "./propagate.js";

/** `npm run bench -- [create|propagate|large] [--json]`: each benchmark beside its baselines, never in npm test. */
const BENCHMARKS: Record<string, (opts: { json: boolean }) => Promise<void>> = {
  create: benchCreate,
  propagate: benchPropagate,
  large: benchLarge,
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
