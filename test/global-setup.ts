import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { TestProject } from "vitest/node";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Bundles the engine's job worker from its sources once per run, for engine/jobs/pool.ts to start its
 * threads from (TENANTDB_TEST_JOB_WORKER): tsx registered in each thread costs several times the CPU, and
 * the suite starts a few hundred threads. The bundle sits under node_modules so that its packages
 * (better-sqlite3) resolve as they do from the sources. Not in watch mode, where sources change under a
 * running vitest: there each thread goes on loading them through tsx.
 */
export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (project.config.watch) return undefined;
  const outfile = path.join(ROOT, "node_modules", ".cache", "tenantdb-test", `job-worker-${process.pid}.mjs`);
  await build({
    entryPoints: [path.join(ROOT, "engine", "jobs", "worker.ts")],
    outfile,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "inline",
    logLevel: "error",
  });
  process.env.TENANTDB_TEST_JOB_WORKER = outfile;
  return () => fs.rmSync(outfile, { force: true });
}
