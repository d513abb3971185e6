import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { listFiles, ROOT, tempDir } from "../helpers.js";
import { missingWrites, readWriterLog, startWriters } from "./concurrent-writers.js";

const CHILDREN = 100;
const FIXTURE = path.join(ROOT, "test", "fixtures", "migrate.mjs");

/** Where to kill the migrating process: once it reports `phase` with at least `done` databases. */
interface KillPoint {
  phase: "dry_run" | "run";
  done: number;
}

const at = (fraction: number) => Math.round(fraction * CHILDREN);
// 22 moments spread over the dry run, the commit point (the run phase starting at 0) and the run, the
// last one after the parent (every database done, the job not yet marked succeeded).
const KILL_POINTS: KillPoint[] = [
  ...[0, 0.015, 0.12, 0.3, 0.5, 0.7, 0.9, 0.99].map((f) => ({ phase: "dry_run" as const, done: at(f) })),
  { phase: "run", done: 0 },
  { phase: "run", done: 0 },
  ...[0.015, 0.08, 0.2, 0.32, 0.44, 0.56, 0.68, 0.8, 0.88, 0.96, 0.99].map((f) => ({
    phase: "run" as const,
    done: at(f),
  })),
  { phase: "run", done: CHILDREN + 1 },
];

/**
 * The job of kill point i: additive (no fleet-wide fence: writers go on) and data-dependent (it updates
 * rows: each database fenced until it commits) in turn, so that both fences meet a kill at every stage.
 */
function migrationOf(i: number): string {
  const column = `c${i}`;
  return i % 2 === 0
    ? `ALTER TABLE users ADD COLUMN ${column} TEXT`
    : `ALTER TABLE users ADD COLUMN ${column} INTEGER; UPDATE users SET ${column} = id`;
}

// Tenants that write throughout, from processes of their own: early, middle and late in the job's order.
const WRITTEN = [
  ["tenant-1", `tenant-${CHILDREN / 2}`],
  ["tenant-2", `tenant-${CHILDREN - 1}`],
];

/**
 * Runs the migration in a child process and SIGKILLs it at the kill point (or lets it finish, or die by
 * an injected fault).
 */
function migrateAndKill(
  dataDir: string,
  sql: string,
  at: KillPoint | null,
  faults?: object,
): Promise<"killed" | "finished"> {
  return new Promise((resolve, reject) => {
    const args = [FIXTURE, dataDir, "parent", sql, ...(faults ? [JSON.stringify(faults)] : [])];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    let killed = false;
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const event = JSON.parse(line) as { phase?: string; done?: number; error?: string };
      if (event.error) reject(new Error(`migration failed in the child: ${event.error}`));
      if (at && !killed && event.phase === at.phase && (event.done ?? 0) >= at.done) {
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

/** A data directory with a schema database and its children, each child holding a row of its own. */
async function fleetWithRows(children: number): Promise<string> {
  const dataDir = path.join(tempDir(), "data");
  const setup = await openEngine(dataDir, { workers: 2 });
  try {
    setup.createGroup("default");
    await setup.createDatabase("parent", { type: "schema" });
    await setup.migrate("parent", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    await setup.createChildren(
      "parent",
      Array.from({ length: children }, (_, i) => `tenant-${i}`),
    );
    for (const child of setup.listDatabases({ schemaParent: "parent" })) {
      await setup.execute(child.name, "INSERT INTO users (name) VALUES (?)", { args: [child.name] });
    }
  } finally {
    setup.close();
  }
  return dataDir;
}

describe("crash safety", () => {
  it(`keeps ${CHILDREN} children all-old or all-new and every acknowledged write, with tenants writing, when the migrating process is killed at ${KILL_POINTS.length} moments`, async () => {
    const dataDir = await fleetWithRows(CHILDREN);
    const writers = startWriters(dataDir, tempDir(), WRITTEN, { pauseMs: 5 });
    const writerFiles = WRITTEN.flat().map((name) => path.basename(childPath(dataDir, name)));
    await writers.started();

    const outcomes: { at: KillPoint; process: string; result: "old" | "new" }[] = [];
    let version = 1;
    try {
      for (const [i, at] of KILL_POINTS.entries()) {
        const column = `c${i}`;
        const processOutcome = await migrateAndKill(dataDir, migrationOf(i), at);

        // Reopening recovers: a job killed before its commit point fails, one killed after it is resumed.
        const engine = await openEngine(dataDir, { workers: 2 });
        try {
          const [job] = engine.listJobs("parent");
          expect(job?.state === "succeeded" || job?.state === "failed").toBe(true);
          expect(job?.class).toBe(i % 2 === 0 ? "additive" : "data");
          const expected = job?.state === "succeeded" ? version + 1 : version;
          const databases = engine.listDatabases();
          expect(databases).toHaveLength(CHILDREN + 1);
          for (const db of databases) {
            expect(db.schemaVersion).toBe(expected);
            const [r] = await engine.execute(
              db.name,
              `SELECT (SELECT value FROM _tenantdb_ WHERE key = 'schema_version'),
                      (SELECT count(*) FROM pragma_table_info('users') WHERE name = '${column}'),
                      (SELECT name FROM users ORDER BY id LIMIT 1)`,
            );
            const [stamped, hasColumn, first] = r?.rows[0] ?? [];
            expect(Number(stamped)).toBe(expected);
            expect(Number(hasColumn)).toBe(expected > version ? 1 : 0);
            expect(first).toBe(db.type === "child" ? db.name : null);
          }
          // A writer's own transaction may be open right now: its journal is judged once they stop.
          const others = interruptedCommits(path.join(dataDir, "dbs")).filter(
            (f) => !writerFiles.some((file) => path.basename(f).startsWith(`${file}-`)),
          );
          expect(others).toEqual([]);
          outcomes.push({ at, process: processOutcome, result: expected > version ? "new" : "old" });
          version = expected;
        } finally {
          engine.close();
        }
      }
    } finally {
      await writers.stop();
    }
    // Every write a tenant was told had committed is in its file, through every kill and every resume.
    const acked = writers.logs.flatMap((log) => readWriterLog(log).acked);
    expect(acked.length).toBeGreaterThan(KILL_POINTS.length);
    expect(missingWrites(dataDir, acked)).toEqual([]);
    expect(interruptedCommits(path.join(dataDir, "dbs"))).toEqual([]);
    // The kill points must really have straddled the commit point: some jobs rolled back, some resumed.
    expect(outcomes.filter((o) => o.process === "killed").length).toBeGreaterThanOrEqual(20);
    expect(outcomes.some((o) => o.result === "old")).toBe(true);
    expect(outcomes.some((o) => o.result === "new" && o.process === "killed")).toBe(true);
    expect(fs.readdirSync(path.join(dataDir, "tmp"))).toEqual([]);
    expect(fs.readdirSync(path.join(dataDir, "undo"))).toEqual([]);
  }, 300_000);

  it("repairs a database torn in the middle of its commit from the undo log, then finishes the job", async () => {
    const dataDir = await fleetWithRows(40);

    // The process commits tenant-23, overwrites its first page with garbage as a crash mid-write would
    // leave it, and dies.
    const outcome = await migrateAndKill(dataDir, "ALTER TABLE users ADD COLUMN phone TEXT", null, {
      tearOn: "tenant-23",
    });
    expect(outcome).toBe("killed");
    const torn = new Database(path.join(dataDir, childPath(dataDir, "tenant-23")));
    expect(() => torn.pragma("integrity_check")).toThrow(/not a database|malformed/);
    torn.close();

    const engine = await openEngine(dataDir, { workers: 2 });
    try {
      expect(engine.listJobs("parent")[0]?.state).toBe("succeeded");
      for (const db of engine.listDatabases({ schemaParent: "parent" })) {
        const file = new Database(db.path, { readonly: true });
        expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
        expect(file.prepare("SELECT name FROM users").pluck().all()).toEqual([db.name]);
        expect(
          file.prepare("SELECT count(*) FROM pragma_table_info('users') WHERE name = 'phone'").pluck().get(),
        ).toBe(1);
        file.close();
      }
      expect(fs.readdirSync(path.join(dataDir, "undo"))).toEqual([]);
    } finally {
      engine.close();
    }
  }, 120_000);
});

/**
 * Journals SQLite would play back: every database keeps its journal between commits, header zeroed, so a
 * journal that still starts with SQLite's magic is a commit left half-done. A WAL would be one too.
 */
function interruptedCommits(dir: string): string[] {
  const magic = Buffer.from("d9d505f920a163d7", "hex");
  return listFiles(dir).filter(
    (f) =>
      f.endsWith("-wal") ||
      (f.endsWith("-journal") && fs.readFileSync(path.join(dir, f)).subarray(0, 8).equals(magic)),
  );
}

/** A database's file, from the catalog, without opening an engine (which would recover the job). */
function childPath(dataDir: string, name: string): string {
  const catalog = new Database(path.join(dataDir, "catalog.db"), { readonly: true });
  try {
    return catalog.prepare("SELECT path FROM databases WHERE name = ?").pluck().get(name) as string;
  } finally {
    catalog.close();
  }
}
