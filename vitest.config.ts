import path from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Longest files first, whatever their project, so that no long file starts last and runs alone at the end.
 * The durations are vitest's own from the last run (with or without a project name in the key); a file
 * it has not timed yet goes first.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache;
    const duration = (spec: TestSpecification) => {
      const file = path.relative(this.ctx.config.root, spec.moduleId);
      return (
        cache.getFileTestResults(`${spec.project.name}:${file}`)?.duration ??
        cache.getFileTestResults(`:${file}`)?.duration ??
        Number.POSITIVE_INFINITY
      );
    };
    return [...files].sort((a, b) => duration(b) - duration(a) || (a.moduleId < b.moduleId ? -1 : 1));
  }
}

// Files that run a Pulumi program in-process (setMocks sets Pulumi's global runtime state) keep a fresh
// module graph each; every other file shares its worker's modules with the files before it, which saves
// loading the engine, the server and their dependencies again for each of the ~60 files.
const ISOLATED = ["test/sdk/**/*.test.ts", "test/examples/**/*.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: suites that spawn processes and worker pools fight each other when run wide.
    maxWorkers: 2,
    setupFiles: ["test/setup.ts"],
    globalSetup: ["test/global-setup.ts"],
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: { name: "shared", include: ["test/**/*.test.ts"], exclude: ISOLATED, isolate: false },
      },
      { extends: true, test: { name: "isolated", include: ISOLATED } },
    ],
  },
});
