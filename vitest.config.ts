import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: suites that spawn processes and worker pools fight each other when run wide.
    maxWorkers: 2,
  },
});
