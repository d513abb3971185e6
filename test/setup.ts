import { afterEach } from "vitest";
import { runCleanups } from "./helpers.js";

// A setup file runs for every test file even when files share a worker's modules (isolate: false), so
// the temporary directories and engines of each file's tests are cleaned up after each test.
afterEach(runCleanups);
