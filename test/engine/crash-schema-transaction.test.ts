import { spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { ROOT, tempDir } from "../helpers.js";

/**
 * A transaction on a schema database turned into a job keeps the job's promise when its process dies at
 * any moment: before COMMIT nothing reached any file; after it, every database ends all-old or all-new.
 */

const CHILDREN = 60;
const FIXTURE = path.join(ROOT, "test", "fixtures", "schema-transaction.mjs");

type KillPoint = { step: "begun" | "created" | "inserted" } | { phase: "dry_run" | "run"; done: number };

const KILL_POINTS: KillPoint[] = [
  { step: "begun" },
  { step: "created" },
  { step: "inserted" },
  ...[0, 20, 59].map((done) => ({ phase: "dry_run" as const, done })),
  ...[0, 0, 15, 40, 60].map((done) => ({ phase: "run" as const, done })),
];

function transactAndKill(dataDir: string, table: string, at: KillPoint): Promise<"killed" | "finished"> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, dataDir, "parent", table], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    let killed = false;
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const event = JSON.parse(line) as { step?: string; phase?: string; done?: number; error?: string };
      if (event.error) reject(new Error(`the transaction failed in the child: ${event.error}`));
      const reached =
        "step" in at ? event.step === at.step : event.phase === at.phase && (event.done ?? 0) >= at.done;
      if (!killed && reached) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve("killed");
      else if (code === 0) resolve("finished");
      else reject(new Error(`the transaction's process exited with ${code}: ${stderr}`));
    });
  });
}

describe("crash safety of a transaction on a schema database", () => {
  it(`leaves ${CHILDREN} children and the parent all-old or all-new at ${KILL_POINTS.length} kill points`, async () => {
    const dataDir = path.join(tempDir(), "data");
    const setup = await openEngine(dataDir, { workers: 2 });
    setup.createGroup("default");
    await setup.createDatabase("parent", { type: "schema" });
    await setup.createChildren(
      "parent",
      Array.from({ length: CHILDREN }, (_, i) => `tenant-${i}`),
    );
    setup.close();

    const results: string[] = [];
    let version = 0;
    for (const [i, at] of KILL_POINTS.entries()) {
      const table = `t${i}`;
      const process = await transactAndKill(dataDir, table, at);
      const engine = await openEngine(dataDir, { workers: 2 }); // recovers: fails or resumes the job
      try {
        const databases = engine.listDatabases();
        const present = await Promise.all(
          databases.map(async (db) => {
            const [r] = await engine.execute(
              db.name,
              `SELECT (SELECT count(*) FROM sqlite_schema WHERE name = '${table}'),
                      (SELECT value FROM _tenantdb_ WHERE key = 'schema_version')`,
            );
            const [tables, stamped] = r?.rows[0] ?? [];
            expect(Number(stamped)).toBe(db.schemaVersion);
            return Number(tables);
          }),
        );
        const applied = present[0] === 1;
        expect(new Set(present), `kill point ${JSON.stringify(at)}`).toEqual(new Set([applied ? 1 : 0]));
        if (applied) {
          version++;
          for (const db of databases) {
            expect(db.schemaVersion).toBe(version);
            const [rows] = await engine.execute(db.name, `SELECT v FROM ${table}`);
            expect(rows?.rows).toEqual([[table]]);
          }
        } else {
          for (const db of databases) expect(db.schemaVersion).toBe(version);
        }
        // Before COMMIT there is not even a job.
        if ("step" in at) expect(applied).toBe(false);
        results.push(`${process}:${applied ? "new" : "old"}`);
      } finally {
        engine.close();
      }
    }
    expect(results.filter((r) => r.startsWith("killed")).length).toBeGreaterThanOrEqual(9);
    expect(results).toContain("killed:old");
    expect(results).toContain("killed:new");
  }, 300_000);
});
