import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { type Engine, openEngine } from "../engine/index.js";

/**
 * The baselines every benchmark prints beside its figure, measured in the same run on the same disk:
 * the raw floor (write + fsync of small files) and the naive better-sqlite3 loops a team would write first.
 */

export function fsyncFloor(dir: string, count: number, bytes = 8192): number {
  fs.mkdirSync(dir, { recursive: true });
  const data = Buffer.alloc(bytes, 7);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const fd = fs.openSync(path.join(dir, `f${i}`), "w");
    fs.writeSync(fd, data);
    fs.fdatasyncSync(fd);
    fs.closeSync(fd);
  }
  return perSecond(count, start);
}

/** Per database: open, CREATE TABLE + CREATE INDEX, close. Returns databases per second. */
export function naiveCreate(dir: string, count: number, first = 0): number {
  fs.mkdirSync(dir, { recursive: true });
  const start = performance.now();
  for (let i = first; i < first + count; i++) {
    const db = new Database(path.join(dir, `t${i}.db`));
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)");
    db.exec("CREATE INDEX users_email ON users(email)");
    db.close();
  }
  return perSecond(count, start);
}

/** Per database: open, BEGIN, ALTER, COMMIT, close — no dry run. */
export function naiveAlter(files: string[], sql: string): number {
  const start = performance.now();
  for (const file of files) {
    const db = new Database(file);
    db.exec("BEGIN");
    db.exec(sql);
    db.exec("COMMIT");
    db.close();
  }
  return perSecond(files.length, start);
}

export interface Round {
  /** Runs half of the baseline's work (`half` 0 or 1) and returns its rate. */
  baseline(half: 0 | 1): number;
  /** Runs the engine's work and returns its rate. */
  engine(): Promise<number>;
}

/**
 * Runs `rounds` rounds and keeps the medians. Within a round the baseline runs in two halves, before and
 * after the engine, so both see the same moment of a disk whose speed drifts (shared virtual disks do, by
 * 2–3× within a minute); the reported ratio is the median of the rounds' own ratios.
 */
export async function measureRounds(
  rounds: number,
  round: (index: number) => Round,
  floor: (index: number) => number,
): Promise<{
  enginePerSecond: number;
  naivePerSecond: number;
  floorPerSecond: number;
  ratioToNaive: number;
}> {
  const floors: number[] = [];
  const naives: number[] = [];
  const engines: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    floors.push(floor(i));
    const r = round(i);
    const first = r.baseline(0);
    const engine = await r.engine();
    const second = r.baseline(1);
    // Both halves cover the same number of items: their combined rate is the harmonic mean.
    const naive = 2 / (1 / first + 1 / second);
    naives.push(naive);
    engines.push(engine);
    ratios.push(engine / naive);
  }
  return {
    enginePerSecond: median(engines),
    naivePerSecond: median(naives),
    floorPerSecond: median(floors),
    ratioToNaive: median(ratios),
  };
}

/** A temporary root with an engine holding one schema database `app` at its first migration. */
export async function withSchemaDatabase<T>(
  name: string,
  migration: string,
  fn: (engine: Engine, root: string) => Promise<T>,
): Promise<T> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tenantdb-bench-${name}-`));
  const engine = await openEngine(path.join(root, "engine"));
  try {
    engine.createGroup("default");
    await engine.createDatabase("app", { type: "schema" });
    await engine.migrate("app", migration);
    return await fn(engine, root);
  } finally {
    engine.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export function perSecond(count: number, start: number): number {
  return count / ((performance.now() - start) / 1000);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
