import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { withSchemaDatabase } from "./baselines.js";

const TENANTS = 3;
const ROWS_PER_STATEMENT = 200_000;
const SCHEMA = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)";
const MIGRATION = "UPDATE users SET name = upper(name)";

/**
 * Memory of a job over large tenants: a migration whose statement rewrites every page of each of a few
 * tenants of ~210 MB, run in a process of its own so its peak RSS is the job's alone, against the same
 * UPDATE run directly with better-sqlite3 on one of those files (also in its own process). The job's
 * peak must stay flat whatever the tenants' size: dry runs past `dryRunMemory` keep their journal on disk.
 */
export async function benchLarge(opts: { json: boolean; mb?: number }) {
  const targetMb = opts.mb ?? 185;
  await withSchemaDatabase("large", SCHEMA, async (engine) => {
    const names = Array.from({ length: TENANTS }, (_, i) => `big-${i}`);
    await engine.createChildren("app", names);
    // ~220 bytes a row (SQLite adds ~12%); filled through the engine, a few statements per tenant.
    const statements = Math.ceil((targetMb * 1024 * 1024) / 220 / ROWS_PER_STATEMENT);
    for (const name of names) {
      for (let s = 0; s < statements; s++) {
        await engine.execute(
          name,
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS_PER_STATEMENT})
           INSERT INTO users (name) SELECT lower(hex(randomblob(100))) FROM n`,
        );
      }
    }
    const files = engine.listDatabases({ schemaParent: "app" }).map((d) => d.path);
    const sizeMb = Math.round(fs.statSync(files[0] as string).size / 1024 / 1024);

    const engineModule = new URL("../engine/index.js", import.meta.url).href;
    const job = inOwnProcess(`
      const { openEngine } = await import(${JSON.stringify(engineModule)});
      const engine = await openEngine(${JSON.stringify(engine.dataDir)}, { recover: false });
      await engine.migrate("app", ${JSON.stringify(MIGRATION)});
      engine.close();`);
    const direct = inOwnProcess(`
      const { default: Database } = await import("better-sqlite3");
      const db = new Database(${JSON.stringify(files[0])});
      db.exec("BEGIN; UPDATE users SET name = lower(name); COMMIT");
      db.close();`);
    const version = engine.getDatabase("big-0").schemaVersion;
    if (version !== 2) throw new Error(`the job did not reach the tenants (version ${version})`);

    const figures = {
      tenants: TENANTS,
      tenantMb: sizeMb,
      jobPeakRssMb: job.peakMb,
      jobSeconds: job.seconds,
      directPeakRssMb: direct.peakMb,
      ratioToDirect: Math.round((job.peakMb / direct.peakMb) * 100) / 100,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(figures)}\n`);
      return;
    }
    process.stdout.write(
      [
        `large: a migration job rewriting every page of ${TENANTS} tenants of ${sizeMb} MB each (${MIGRATION})`,
        `  tenantdb job (dry run + run)       peak RSS ${String(job.peakMb).padStart(5)} MB   ${figures.ratioToDirect}x the direct UPDATE, ${(job.peakMb / sizeMb).toFixed(2)}x one tenant, ${job.seconds} s`,
        `  the UPDATE run directly (1 tenant) peak RSS ${String(direct.peakMb).padStart(5)} MB   baseline, same run`,
        "",
      ].join("\n"),
    );
  });
}

/**
 * Runs an ES module body in a fresh Node process and returns its peak RSS and wall time. The module is a
 * file beside this one (worker threads inherit `--input-type`, which only an eval'd script may carry),
 * so bare imports resolve from the package.
 */
function inOwnProcess(body: string): { peakMb: number; seconds: number } {
  const script = `const start = performance.now();${body}
    process.stdout.write(JSON.stringify({ maxRss: process.resourceUsage().maxRSS, ms: performance.now() - start }));`;
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), `large-child-${process.pid}.mjs`);
  fs.writeFileSync(file, script);
  let out: string;
  try {
    out = execFileSync(process.execPath, [file], { encoding: "utf8" });
  } finally {
    fs.rmSync(file, { force: true });
  }
  const { maxRss, ms } = JSON.parse(out) as { maxRss: number; ms: number };
  return { peakMb: Math.round(maxRss / 1024), seconds: Math.round(ms / 100) / 10 };
}
