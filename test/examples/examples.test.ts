import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

/**
 * Each example is its own TypeScript project: it type-checks with its own tsconfig and whatever install it
 * has (its own node_modules after `npm install` in it, else this repository's), and the root's checks never
 * read it — so installing every example side by side cannot break the root's `tsc`.
 */

const run = promisify(execFile);
const EXAMPLES = ["saas-tenants", "ecommerce-promotions", path.join("gitops", "infra")];
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

describe("the examples as their own projects", () => {
  // One `tsc -b` over the examples checks each as its own project (its own tsconfig, its own program) and
  // parses the libraries they share once. --force: never skipped as up to date by a .tsbuildinfo, which
  // -b writes even with --noEmit, and which is removed again.
  it("each example type-checks with its own tsconfig", async () => {
    const projects = EXAMPLES.slice(0, 2).map((example) => path.join(ROOT, "examples", example));
    const result = await run(process.execPath, [TSC, "-b", "--force", "--noEmit", ...projects]).catch(
      (e) => e,
    );
    for (const project of projects) fs.rmSync(path.join(project, "tsconfig.tsbuildinfo"), { force: true });
    expect(`${result.stdout ?? ""}${result.stderr ?? ""}`).toBe("");
  });

  it("the root project reads no file of any example", async () => {
    const { stdout } = await run(process.execPath, [TSC, "--listFilesOnly", "-p", ROOT]);
    const files = stdout.split("\n").filter(Boolean);
    expect(files.length).toBeGreaterThan(50);
    for (const example of EXAMPLES) {
      expect(files.filter((f) => f.startsWith(path.join(ROOT, "examples", example)))).toEqual([]);
      expect(fs.existsSync(path.join(ROOT, "examples", example, "tsconfig.json"))).toBe(true);
    }
  });
});
