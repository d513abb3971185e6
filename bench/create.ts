import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openEngine } from "../engine/index.js";
import { bracketed, fsyncFloor, median, naiveCreate, peakRssMb, perSecond } from "./baselines.js";

const ROUNDS = 3;

import { report } from "./report.js";

/** 2,000 children of one schema database, created in one burst, against the naive loop and the floor. */
export async function benchCreate(opts: { json: boolean; count?: number }) {
  const count = opts.count ?? 2000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-bench-create-"));
  try {
    const engine = await openEngine(path.join(root, "engine"));
    engine.createGroup("default");
    await engine.createDatabase("app", { type: "schema" });
    await engine.migrate(
      "app",
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT); CREATE INDEX users_email ON users(email)",
    );
    // Disks here are shared and noisy: interleave rounds of each and keep the medians.
    const floors: number[] = [];
    const naives: number[] = [];
    const engines: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      floors.push(fsyncFloor(path.join(root, `floor-${round}`), count));
      const names = Array.from({ length: count }, (_, i) => `tenant-${round}-${i}`);
      const half = count / 2;
      const measured = await bracketed(
        (h) => naiveCreate(path.join(root, `naive-${round}`), half, h * half),
        async () => {
          const start = performance.now();
          await engine.createChildren("app", names);
          return perSecond(count, start);
        },
      );
      naives.push(measured.baseline);
      engines.push(measured.engine);
      ratios.push((engines.at(-1) as number) / (naives.at(-1) as number));
    }
    engine.close();
    const [floorPerSecond, naivePerSecond, enginePerSecond] = [floors, naives, engines].map(median) as [
      number,
      number,
      number,
    ];

    report(
      opts.json,
      `create: ${count} children of one schema database in one call, median of ${ROUNDS} rounds`,
      {
        enginePerSecond,
        naivePerSecond,
        floorPerSecond,
        // Each round's ratio compares runs seconds apart; their median resists the disk's bursts best.
        ratioToNaive: median(ratios),
        peakRssMb: peakRssMb(),
      },
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
