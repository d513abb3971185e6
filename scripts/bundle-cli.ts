import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

/**
 * `npm run build`'s last step: the CLI as one CommonJS file, dist/bundle/tenantdb.cjs, which bin/tenantdb
 * runs (through cli/launch.cts, with the V8 code cache made here). Start-up is most of what a command like
 * `tenantdb db show` costs, and as ES modules the CLI is some seventy files: Node resolves, reads (through
 * its thread pool), compiles and links each, and parses commander's CommonJS for its export names. One
 * CommonJS file is read once and compiled lazily, and each command's modules (with the Node built-ins they
 * use) still initialise only when that command runs. commander, jose and better-sqlite3's JavaScript are
 * bundled; its native addon stays in node_modules. tsc's dist/ is unchanged: tests and the other entry
 * points use it, and the bundle points at it where a file must exist on its own (the migration worker, the
 * server's executor processes, package.json).
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const OUT = path.join(ROOT, "dist", "bundle");

/**
 * A CommonJS bundle has no `import.meta`. Each module of ours that asks for its URL gets the one its
 * tsc-built twin has in dist/ (the bundle sits in dist/bundle), so `new URL("./worker.js", ...)` still
 * names dist/engine/jobs/worker.js.
 */
const ownUrls: Plugin = {
  name: "own-import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const built = path.relative(ROOT, args.path).replace(/\.ts$/, ".js").split(path.sep).join("/");
      const url = `require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(`../${built}`)})).href`;
      return { contents: source.replaceAll("import.meta.url", url), loader: "ts" };
    });
  },
};

/**
 * better-sqlite3's JavaScript is bundled too (a dozen small files otherwise resolved and compiled one by
 * one); its native addon stays where npm put it. It finds the addon with `bindings`, which guesses the
 * package's directory from the caller's stack (the bundle's, once bundled): told the directory outright,
 * it searches the same places as before.
 */
const sqliteAddon: Plugin = {
  name: "better-sqlite3-addon",
  setup(b) {
    b.onLoad({ filter: /[\\/]better-sqlite3[\\/]lib[\\/]database\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, "utf8");
      const call = "require('bindings')('better_sqlite3.node')";
      if (!source.includes(call)) throw new Error(`better-sqlite3 no longer loads its addon with ${call}`);
      const pkg = 'require.resolve("better-sqlite3/package.json")';
      const located = `require("node:module").createRequire(${pkg})("bindings")({ bindings: "better_sqlite3.node", module_root: require("node:path").dirname(${pkg}) })`;
      return { contents: source.replace(call, located), loader: "js" };
    });
  },
};

/**
 * The launcher runs the bundle as a vm.Script, which has no loader for `import()`: a Node built-in
 * imported on demand (`await import("node:readline")`) becomes a require of it when the import runs.
 */
const builtinsOnDemand: Plugin = {
  name: "builtins-on-demand",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "dynamic-import" ? { path: args.path, namespace: "builtin-on-demand" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtin-on-demand" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

fs.rmSync(OUT, { recursive: true, force: true });
const built = await build({
  entryPoints: [path.join(ROOT, "cli", "main.ts")],
  outfile: path.join(OUT, "tenantdb.cjs"),
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  external: ["better-sqlite3/package.json"],
  // Less text to scan at start-up; names stay, and the source map leads back to the TypeScript.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: true,
  // Names the build, and so the code cache that belongs to it (cli/launch.cts).
  banner: { js: `// tenantdb build ${crypto.randomBytes(8).toString("hex")}` },
  plugins: [ownUrls, sqliteAddon, builtinsOnDemand],
  metafile: true,
  logLevel: "warning",
  // Any other `import.meta` (dirname, filename) would be empty in the bundle: refuse it here.
  logOverride: { "empty-import-meta": "error" },
});
const dynamic = Object.values(built.metafile.outputs)
  .flatMap((o) => o.imports)
  .filter((i) => i.kind === "dynamic-import");
if (dynamic.length > 0) {
  throw new Error(
    `the CLI bundle would import ${dynamic.map((i) => i.path).join(", ")} with import(), which the launcher (a vm.Script) cannot: import it statically, or bundle it`,
  );
}

/**
 * The code cache: a few commands run through the launcher, each adding what it compiled to the cache the
 * one before left, so it holds what start-up, help, opening the engine and a read run.
 */
const launcher = path.join(ROOT, "dist", "cli", "launch.cjs");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-build-"));
try {
  const dir = path.join(scratch, "data");
  for (const args of [
    ["--help"],
    ["--data-dir", dir, "db", "create", "probe"],
    ["--data-dir", dir, "db", "show", "probe"],
  ]) {
    const run = `require(${JSON.stringify(launcher)}).launch({ writeCache: true })`;
    execFileSync(process.execPath, ["-e", run, "tenantdb", ...args], { stdio: "ignore" });
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
