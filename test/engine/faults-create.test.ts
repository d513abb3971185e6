import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { listFiles, ROOT, tempDir } from "../helpers.js";

const FIXTURE = path.join(ROOT, "test", "fixtures", "create-children.mjs");
const CHILDREN = 40;
// A create of N children takes 2N + 3 steps: N files written, their sync, the intent, N moves, the commit.
const STEPS = 2 * CHILDREN + 3;
const MOMENTS = [
  1, 2, 20, 39, 40, 41, 42, 43, 44, 60, 70, 81, 82, 83,
  // the same moments again, so each is followed once by an open and once by a create
  1, 40, 41, 42, 43, 62, 82, 83,
];

function createAndDie(dataDir: string, prefix: string, dieAt: number): Promise<"killed" | "finished"> {
  return new Promise((resolve, reject) => {
    const args = [FIXTURE, dataDir, "parent", prefix, String(CHILDREN), String(dieAt)];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve("killed");
      else if (code === 0) resolve("finished");
      else reject(new Error(`create exited with ${code}: ${stderr}`));
    });
  });
}

/** Every database file under dbs/ that the catalog does not name, read from the catalog file itself. */
function unnamedFiles(dataDir: string): string[] {
  const catalog = new Database(path.join(dataDir, "catalog.db"), { readonly: true });
  try {
    const named = new Set(catalog.prepare("SELECT path FROM databases").pluck().all() as string[]);
    return listFiles(path.join(dataDir, "dbs"))
      .map((f) => path.join("dbs", f))
      .filter((f) => f.endsWith(".db") && !named.has(f));
  } finally {
    catalog.close();
  }
}

describe("a killed create", () => {
  it(`leaves no temporary or orphan file after the next open or create, killed at ${MOMENTS.length} moments of a ${STEPS}-step create`, async () => {
    const dataDir = path.join(tempDir(), "data");
    const engine = await openEngine(dataDir, { workers: 1 });
    try {
      engine.createGroup("default");
      await engine.createDatabase("parent", { type: "schema" });
      await engine.migrate("parent", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");

      const outcomes: string[] = [];
      let tempLeft = 0;
      let orphansLeft = 0;
      for (const [i, moment] of MOMENTS.entries()) {
        const prefix = `t${i}`;
        outcomes.push(await createAndDie(dataDir, prefix, moment));
        // What the dead process left, before anyone cleans: half the moments leave something.
        tempLeft += fs.readdirSync(path.join(dataDir, "tmp")).length;
        orphansLeft += unnamedFiles(dataDir).length;

        if (i % 2 === 0) {
          // The next create, by a process that was already running, settles what the dead one left.
          await engine.createDatabase(`probe-${i}`, { schemaParent: "parent" });
        } else {
          const next = await openEngine(dataDir, { workers: 1 });
          next.close();
        }
        expect(fs.readdirSync(path.join(dataDir, "tmp"))).toEqual([]);
        expect(unnamedFiles(dataDir)).toEqual([]);
        // All or none of the burst exists, each named file present and whole.
        const made = engine
          .listDatabases({ schemaParent: "parent" })
          .filter((d) => d.name.startsWith(`${prefix}-`));
        expect([0, CHILDREN]).toContain(made.length);
        if (outcomes[i] === "finished") expect(made).toHaveLength(CHILDREN);
        for (const db of made) {
          const file = new Database(db.path, { readonly: true, fileMustExist: true });
          expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
          file.close();
        }
      }
      expect(outcomes.filter((o) => o === "killed").length).toBeGreaterThanOrEqual(20);
      // The moments did catch the create with files in flight — half-written ones, and ones already moved
      // into dbs/ before the catalog committed — or this test proves nothing.
      expect(tempLeft).toBeGreaterThan(0);
      expect(orphansLeft).toBeGreaterThan(0);
    } finally {
      engine.close();
    }
  }, 300_000);
});
