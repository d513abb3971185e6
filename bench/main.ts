import { benchCreate } from "./create.js";
import { benchLarge } from "./large.js";
import { benchPropagate } from "./propagate.js";
import { benchScale } from "./scale.js";
import { benchServe } from "./serve.js";
import { benchStartup } from "./startup.js";

/**
 * `npm run bench -- [create|propagate|large|scale|serve|startup] [--json] [--children N]`: each benchmark beside
 * its baselines, never in npm test. `--children` sizes `scale` (default 100,000).
 */
const BENCHMARKS: Record<string, (opts: { json: boolean; children?: number }) => Promise<void>> = {
  create: benchCreate,
  propagate: benchPropagate,
  large: benchLarge,
  scale: benchScale,
  serve: benchServe,
  startup: benchStartup,
};

const args = process.argv.slice(2);
const json = args.includes("--json");
const childrenAt = args.indexOf("--children");
const children = childrenAt >= 0 ? Number(args[childrenAt + 1]) : undefined;
if (children !== undefined && !(Number.isSafeInteger(children) && children >= 1)) {
  process.stderr.write("Error: --children takes a whole number of children, e.g. --children 10000\n");
  process.exit(1);
}
const names = args.filter((a, i) => !a.startsWith("--") && !(childrenAt >= 0 && i === childrenAt + 1));
const unknown = names.filter((n) => !(n in BENCHMARKS));
if (unknown.length) {
  process.stderr.write(
    `Error: unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(BENCHMARKS).join(", ")}\n`,
  );
  process.exit(1);
}
// `scale` builds 100,000 databases by default (minutes): it runs when named, not with the rest.
const everyday = Object.keys(BENCHMARKS).filter((n) => n !== "scale");
for (const name of names.length ? names : everyday) await BENCHMARKS[name]?.({ json, children });
