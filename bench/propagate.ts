import fs from "node:fs";
import path from "node:path";
import {
  fsyncFloor,
  measureRounds,
  naiveAlter,
  peakRssMb,
  perSecond,
  withSchemaDatabase,
} from "./baselines.js";
import { withWriter } from "./propagate-stall.js";
import { report } from "./report.js";

const ROUNDS = 5;
const SCHEMA = `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
  CREATE INDEX users_email ON users(email);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
  INSERT INTO users (name, email) SELECT 'user ' || i, 'user' || i || '@example.com' FROM n;`;

/**
 * A whole migration job (fence, dry run everywhere, commit point, durable run, parent last) over 2,000
 * children holding rows, against a naive loop that applies the same ALTER to copies of the same files
 * with no dry run, and against the disk's write+fdatasync floor.
 */
export async function benchPropagate(opts: { json: boolean; count?: number }) {
  const count = opts.count ?? 2000;
  await withSchemaDatabase("propagate", SCHEMA, async (engine, root) => {
    await engine.createChildren(
      "app",
      Array.from({ length: count }, (_, i) => `tenant-${i}`),
    );
    // The naive loop gets byte-identical copies of the same children.
    const naiveDir = path.join(root, "naive");
    fs.mkdirSync(naiveDir);
    const naiveFiles = engine.listDatabases({ schemaParent: "app" }).map((db, i) => {
      const file = path.join(naiveDir, `t${i}.db`);
      fs.copyFileSync(db.path, file);
      return file;
    });
    const half = naiveFiles.length / 2;
    const figures = await measureRounds(
      ROUNDS,
      (round) => {
        const sql = `ALTER TABLE users ADD COLUMN phone_${round} TEXT`;
        return {
          baseline: (h) => naiveAlter(naiveFiles.slice(h * half, (h + 1) * half), sql),
          engine: async () => {
            const start = performance.now();
            await engine.migrate("app", sql);
            return perSecond(count, start);
          },
        };
      },
      (round) => fsyncFloor(path.join(root, `floor-${round}`), count),
    );
    // A tenant writing meanwhile, to children early, midway and last in the job's order: an additive job
    // fences each only for its own batch; a data-dependent one until it has committed.
    const written = [0, Math.floor(count / 2), count - 1].map((i) => `tenant-${i}`);
    const stalls = await withWriter(path.join(root, "engine"), written, async (measure) => ({
      additive: await measure(() => engine.migrate("app", "ALTER TABLE users ADD COLUMN stall_probe TEXT")),
      data: await measure(() => engine.migrate("app", "UPDATE users SET email = lower(email)")),
    }));
    report(
      opts.json,
      `propagate: a migration job over ${count} children (200 rows each), median of ${ROUNDS} rounds`,
      { ...figures, peakRssMb: peakRssMb() },
      {
        additiveJobMs: stalls.additive.jobMs,
        additiveMaxStallMs: stalls.additive.maxStallMs,
        dataJobMs: stalls.data.jobMs,
        dataMaxStallMs: stalls.data.maxStallMs,
        writesDuringJobs: stalls.additive.writes + stalls.data.writes,
        refusedDuringJobs: stalls.additive.refused + stalls.data.refused,
      },
    );
  });
}
