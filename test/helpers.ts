import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { type Engine, type OpenOptions, openEngine } from "../engine/index.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CLI = path.join(ROOT, "bin", "tenantdb");

const cleanups: (() => void)[] = [];
/** Runs after every test of every file (test/setup.ts): files share this module when not isolated. */
export function runCleanups(): void {
  for (const fn of cleanups.splice(0).reverse()) fn();
}

/** A temporary directory removed after the test. */
export function tempDir(prefix = "tenantdb-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh engine over a temporary data directory, closed after the test. */
export async function tempEngine(opts: OpenOptions = {}): Promise<Engine & { dir: string }> {
  const dir = path.join(tempDir(), "data");
  const engine = await openEngine(dir, { workers: 2, ...opts });
  cleanups.push(() => engine.close());
  return Object.assign(engine, { dir });
}

/** A temp engine with schema database `parent` (a `users` table) and `children` children, tenant-0… */
export async function schemaFleet(
  children: number,
  opts: OpenOptions = {},
  schema = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
) {
  const engine = await tempEngine(opts);
  engine.createGroup("default");
  await engine.createDatabase("parent", { type: "schema" });
  await engine.migrate("parent", schema);
  const names = Array.from({ length: children }, (_, i) => `tenant-${i}`);
  await engine.createChildren("parent", names);
  return { engine, names };
}

/** An engine shared by a suite (set up in beforeAll): the caller disposes of it in afterAll. */
export async function suiteEngine(
  opts: OpenOptions = {},
): Promise<Engine & { dir: string; dispose(): void }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-suite-"));
  const engine = await openEngine(path.join(root, "data"), { workers: 2, ...opts });
  return Object.assign(engine, {
    dir: path.join(root, "data"),
    dispose() {
      engine.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  });
}

/** Every file below a directory, relative to it (to assert that nothing appeared). */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (built by `npm test` before vitest) as a process. */
export function runCli(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      CLI,
      args,
      { env: { ...process.env, ...opts.env }, cwd: opts.cwd ?? ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Asserts that a promise rejects with a TenantDbError of `code`, and returns its message. */
export async function rejectsWith(
  promise: Promise<unknown> | (() => unknown),
  code: string,
): Promise<string> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code !== code) throw new Error(`expected ${code}, got ${err.code}: ${err.message}`);
    return err.message ?? "";
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

export async function columnsOf(engine: Engine, db: string, table: string): Promise<string[]> {
  const [r] = await engine.execute(db, `SELECT name FROM pragma_table_info('${table}')`);
  return (r?.rows ?? []).map((row) => String(row[0]));
}

export async function scalar(engine: Engine, db: string, sql: string): Promise<unknown> {
  const results = await engine.execute(db, sql);
  return results.at(-1)?.rows[0]?.[0];
}

export type Rng = () => number;

/** mulberry32: small, fast, and the same sequence everywhere for a seed (what generated tests draw from). */
export function rngFor(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;

/**
 * Leaves a job committed and incomplete in `dir`, as a run phase that fails on one child does (an injected
 * I/O error): its other databases migrated, that one fenced until the job is resumed.
 */
export async function leaveJobIncomplete(
  dir: string,
  parent: string,
  sql: string,
  failOn: string,
): Promise<void> {
  const faulty = await openEngine(dir, { workers: 2, faultInjection: { failRunOn: [failOn] } });
  try {
    await expect(faulty.migrate(parent, sql)).rejects.toThrow(/incomplete/);
  } finally {
    faulty.close();
  }
}
