import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openEngine } from "../engine/index.js";
import { median } from "./baselines.js";

/**
 * `startup`: how long `tenantdb --help` and `tenantdb db show` take from exec to exit, as users run them
 * (bin/tenantdb), against `node -e 0` in the same rounds. Each round runs the three back to back, so a
 * burst of load on a shared machine lands on all of them. Reported per command: the median and the
 * fastest wall time (other work only ever adds time, so the fastest is the command's own cost), and the
 * CPU time the processes used (Linux: what this process's waited-for children add up to), which waiting
 * for a core does not inflate.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ROUNDS = 21;

export interface StartupTimes {
  medianMs: number;
  minMs: number;
  /** Mean CPU time per run (user + system), or undefined where /proc is not there to ask. */
  cpuMs?: number;
}

export interface Startup {
  node: StartupTimes;
  help: StartupTimes;
  show: StartupTimes;
}

/** `dataDir` must hold a database named `show` names. */
export function measureStartup(dataDir: string, show: string): Startup {
  const bin = path.join(ROOT, "bin", "tenantdb");
  const runs = {
    node: [process.execPath, ["-e", "0"]],
    help: [bin, ["--help"]],
    show: [bin, ["--data-dir", dataDir, "db", "show", show]],
  } as const;
  const walls = { node: [] as number[], help: [] as number[], show: [] as number[] };
  const cpus = { node: 0, help: 0, show: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of ["node", "help", "show"] as const) {
      const [file, args] = runs[name];
      const cpu = childrenCpuMs();
      const start = performance.now();
      execFileSync(file, args, { stdio: "ignore" });
      walls[name].push(performance.now() - start);
      cpus[name] += (childrenCpuMs() ?? Number.NaN) - (cpu ?? Number.NaN);
    }
  }
  const times = (name: keyof typeof walls): StartupTimes => ({
    medianMs: median(walls[name]),
    minMs: Math.min(...walls[name]),
    cpuMs: Number.isNaN(cpus[name]) ? undefined : cpus[name] / ROUNDS,
  });
  return { node: times("node"), help: times("help"), show: times("show") };
}

/** Each command's time over `node -e 0`'s: by median wall time, fastest wall time and CPU time. */
export function startupRatios(s: Startup) {
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : Math.round((a / b) * 100) / 100;
  const of = (t: StartupTimes) => ({
    median: ratio(t.medianMs, s.node.medianMs),
    min: ratio(t.minMs, s.node.minMs),
    cpu: ratio(t.cpuMs, s.node.cpuMs),
  });
  return { help: of(s.help), dbShow: of(s.show) };
}

export function describeStartup(s: Startup): string[] {
  const r = startupRatios(s);
  const x = (v: number | undefined) => (v === undefined ? "" : ` (${v.toFixed(2)}x)`.padEnd(9));
  const line = (label: string, t: StartupTimes, r?: ReturnType<typeof startupRatios>["help"]) =>
    `  ${label.padEnd(10)} median ${ms(t.medianMs)}${x(r?.median).padEnd(9)}  fastest ${ms(t.minMs)}${x(r?.min).padEnd(9)}  cpu ${t.cpuMs === undefined ? "n/a" : ms(t.cpuMs)}${x(r?.cpu)}`;
  return [
    `  CLI start-up, ${ROUNDS} rounds (ratios to node -e 0 in the same rounds; load ${os.loadavg()[0]?.toFixed(2)}):`,
    line("node -e 0", s.node),
    line("--help", s.help, r.help),
    line("db show", s.show, r.dbShow),
  ];
}

/** CPU time of the children this process has waited for, from /proc (clock ticks of 10 ms, summed). */
function childrenCpuMs(): number | undefined {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(fields[13]) + Number(fields[14]); // cutime, cstime (fields 16 and 17)
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS : undefined;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;

/** `npm run bench -- startup`: the measurement above on a small data directory of its own. */
export async function benchStartup(opts: { json: boolean }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-bench-startup-"));
  try {
    const engine = await openEngine(root);
    try {
      engine.createGroup("default");
      await engine.createDatabase("app", { type: "schema" });
      await engine.migrate("app", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
      await engine.createChildren("app", ["tenant-1", "tenant-2"]);
    } finally {
      engine.close();
    }
    const s = measureStartup(root, "tenant-1");
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...round(s), ratios: startupRatios(s) })}\n`);
    else process.stdout.write(`startup:\n${describeStartup(s).join("\n")}\n`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function round(s: Startup) {
  const r = (t: StartupTimes) => ({
    medianMs: Math.round(t.medianMs),
    minMs: Math.round(t.minMs),
    cpuMs: t.cpuMs === undefined ? undefined : Math.round(t.cpuMs),
  });
  return { node: r(s.node), help: r(s.help), show: r(s.show) };
}

const ms = (x: number) => `${x.toFixed(0)} ms`.padStart(7);
