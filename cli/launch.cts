import fs from "node:fs";
import Module from "node:module";
import path from "node:path";
import vm from "node:vm";

/**
 * How bin/tenantdb starts the bundled CLI (dist/bundle/tenantdb.cjs, made by scripts/bundle-cli.ts): as
 * Node's CommonJS loader would, but compiled with a V8 code cache that the build made by running a few
 * commands, so the functions every start runs are not compiled again each time (Node 20 has no compile
 * cache of its own). A cache is used only if its name carries the bundle's build id, so it always belongs
 * to this very bundle; V8 refuses one from another V8 version or other flags, and without one the bundle
 * compiles as usual. With --enable-source-maps it is required as usual instead, so traces lead to the
 * TypeScript. CommonJS, so that nothing in it waits for Node's ES module loader.
 */

const BUNDLE = path.join(__dirname, "..", "bundle", "tenantdb.cjs");

/** The bundle's first line names its build; its cache is named after it. */
export function codeCacheOf(source: string): string | undefined {
  const id = /^\/\/ tenantdb build ([0-9a-f]+)\n/.exec(source)?.[1];
  return id && path.join(path.dirname(BUNDLE), `tenantdb.${id}.v8cache`);
}

/** Runs the CLI on process.argv. `writeCache` (the build) saves the code cache when the process exits. */
export function launch(opts: { writeCache?: boolean } = {}): void {
  // Node maps stack traces through source maps (--enable-source-maps) only for what its loaders load.
  if (process.sourceMapsEnabled && !opts.writeCache) {
    require(BUNDLE);
    return;
  }
  const source = fs.readFileSync(BUNDLE, "utf8");
  const cacheFile = codeCacheOf(source);
  let cachedData: Buffer | undefined;
  try {
    if (cacheFile) cachedData = fs.readFileSync(cacheFile);
  } catch {
    // not made (yet): compile without
  }
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData });
  if (opts.writeCache && cacheFile) {
    // What this run compiled, added to what the cache it started from held.
    process.on("exit", () => fs.writeFileSync(cacheFile, script.createCachedData()));
  }
  const mod = new Module(BUNDLE, module);
  mod.filename = BUNDLE;
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(mod.exports, mod.exports, Module.createRequire(BUNDLE), mod, BUNDLE, path.dirname(BUNDLE));
}
