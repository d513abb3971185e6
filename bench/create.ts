import path from "node:path";
import {
  fsyncFloor,
  measureRounds,
  naiveCreate,
  peakRssMb,
  perSecond,
  withSchemaDatabase,
} from "./baselines.js";
import { report } from "./report.js";

const ROUNDS = 3;
const SCHEMA =
  "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT); CREATE INDEX users_email ON users(email)";

/** 2,000 children of one schema database, created in one burst, against the naive loop and the floor. */
export async function benchCreate(opts: { json: boolean; count?: number }) {
  const count = opts.count ?? 2000;
  await withSchemaDatabase("create", SCHEMA, async (engine, root) => {
    const figures = await measureRounds(
      ROUNDS,
      (round) => ({
        baseline: (half) => naiveCreate(path.join(root, `naive-${round}`), count / 2, (half * count) / 2),
        engine: async () => {
          const start = performance.now();
          await engine.createChildren(
            "app",
            Array.from({ length: count }, (_, i) => `tenant-${round}-${i}`),
          );
          return perSecond(count, start);
        },
      }),
      (round) => fsyncFloor(path.join(root, `floor-${round}`), count),
    );
    report(
      opts.json,
      `create: ${count} children of one schema database in one call, median of ${ROUNDS} rounds`,
      {
        ...figures,
        peakRssMb: peakRssMb(),
      },
    );
  });
}
