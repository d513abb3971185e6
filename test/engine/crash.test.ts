import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { listFiles, ROOT, tempDir } from "../helpers.js";

const CHILDREN = 500;
const FIXTURE = path.join(ROOT, "test", "fixtures", "migrate.mjs");

/** Where to kill the migrating process: once it reports `phase` with at least `done` databases. */
interface KillPoint {
  phase: "dry_run" | "run";
  done: number;
}

// 22 moments spread over the dry run, the commit point (the run phase starting at 0) and the run.
const KILL_POINTS: KillPoint[] = [
  ...[0, 8, 60, 150, 250, 350, 450, 496].map((done) => ({ phase: "dry_run" as const, done })),
  { phase: "run", done: 0 },
  { phase: "run", done: 0 },
  ...[8, 40, 100, 160, 220, 280, 340, 400, 440, 480, 496, 501].map((done) => ({
    phase: "run" as const,
    done,
  })),
];

/** Runs the migration in a child process and SIGKILLs it at the kill point (or lets it finish). */
function migrateAndKill(dataDir: string, sql: string, at: KillPoint): Promise<"killed" | "finished"> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, dataDir, "parent", sql], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    let killed = false;
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const event = JSON.parse(line) as { phase?: string; done?: number; error?: string };
      if (event.error) reject(new Error(`migration failed in the child: ${event.error}`));
      if (!killed && event.phase === at.phase && (event.done ?? 0) >= at.done) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve("killed");
      else if (code === 0) resolve("finished");
      else reject(new Error(`migration process exited with ${code}: ${stderr}`));
    });
  });
}

describe("crash safety", () => {
  it(`keeps ${CHILDREN} children all-old or all-new when the migrating process is killed at ${KILL_POINTS.length} moments`, async () => {
    const dataDir = path.join(tempDir(), "data");
    const setup = await openEngine(dataDir, { workers: 2 });
    setup.createGroup("default");
    await setup.createDatabase("parent", { type: "schema" });
    await setup.migrate("parent", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    await setup.createChildren(
      "parent",
      Array.from({ length: CHILDREN }, (_, i) => `tenant-${i}`),
    );
    // Every child holds a row of its own that must survive every crash.
    for (const child of setup.listDatabases({ schemaParent: "parent" })) {
      const db = (await import("better-sqlite3")).default(child.path);
      db.prepare("INSERT INTO users (name) VALUES (?)").run(child.name);
      db.close();
    }
    setup.close();

    const outcomes: { at: KillPoint; process: string; result: "old" | "new" }[] = [];
    let version = 1;
    for (const [i, at] of KILL_POINTS.entries()) {
      const column = `c${i}`;
      const processOutcome = await migrateAndKill(dataDir, `ALTER TABLE users ADD COLUMN ${column} TEXT`, at);

      // Reopening recovers: a job killed before its commit point fails, one killed after it is resumed.
      const engine = await openEngine(dataDir, { workers: 2 });
      try {
        const [job] = engine.listJobs("parent");
        expect(job?.state === "succeeded" || job?.state === "failed").toBe(true);
        const expected = job?.state === "succeeded" ? version + 1 : version;
        const databases = engine.listDatabases();
        expect(databases).toHaveLength(CHILDREN + 1);
        for (const db of databases) {
          expect(db.schemaVersion).toBe(expected);
          const [r] = await engine.execute(
            db.name,
            `SELECT (SELECT value FROM _tenantdb_ WHERE key = 'schema_version'),
                    (SELECT count(*) FROM pragma_table_info('users') WHERE name = '${column}'),
                    (SELECT group_concat(name) FROM users)`,
          );
          const [stamped, hasColumn, names] = r?.rows[0] ?? [];
          expect(Number(stamped)).toBe(expected);
          expect(Number(hasColumn)).toBe(expected > version ? 1 : 0);
          expect(names).toBe(db.type === "child" ? db.name : null);
        }
        expect(listFiles(path.join(dataDir, "dbs")).filter((f) => /-journal$|-wal$/.test(f))).toEqual([]);
        outcomes.push({ at, process: processOutcome, result: expected > version ? "new" : "old" });
        version = expected;
      } finally {
        engine.close();
      }
    }
    // The kill points must really have straddled the commit point: some jobs rolled back, some resumed.
    expect(outcomes.filter((o) => o.process === "killed").length).toBeGreaterThanOrEqual(20);
    expect(outcomes.some((o) => o.result === "old")).toBe(true);
    expect(outcomes.some((o) => o.result === "new" && o.process === "killed")).toBe(true);
    expect(fs.readdirSync(path.join(dataDir, "tmp"))).toEqual([]);
  }, 300_000);
});
