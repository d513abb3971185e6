import { openEngine } from "../engine/index.js";

/**
 * One migration job in a process of its own, so its peak RSS is the job's and nothing else's:
 * `node scale-job.js <dataDir> <parent> <sql>` prints `{"ms", "peakRssMb", "databases"}`.
 */
const [dataDir, parent, sql] = process.argv.slice(2);
if (!dataDir || !parent || !sql) throw new Error("usage: scale-job.js <dataDir> <parent> <sql>");
const engine = await openEngine(dataDir, { recover: false });
try {
  const start = performance.now();
  const result = await engine.migrate(parent, sql);
  const ms = performance.now() - start;
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify({ ms, peakRssMb, databases: result.databases })}\n`);
} finally {
  engine.close();
}
