import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { ROOT } from "../helpers.js";

/** Tenants writing in processes of their own (test/fixtures/writer.mjs) while a test runs jobs. */

const WRITER = path.join(ROOT, "test", "fixtures", "writer.mjs");

export interface Writers {
  logs: string[];
  /** Resolves once every writer has had a write acknowledged: they are really running. */
  started(): Promise<void>;
  /** Asks every writer to stop after its current write and waits for it to exit. */
  stop(): Promise<void>;
}

export interface WriterLog {
  acked: { database: string; name: string; at: number }[];
  refused: string[];
}

export function startWriters(
  dataDir: string,
  dir: string,
  assignments: string[][],
  options: { pauseMs?: number; read?: boolean; engine?: Record<string, unknown> } = {},
): Writers {
  const logs = assignments.map((_, i) => path.join(dir, `writer-${i}.log`));
  const children: ChildProcess[] = assignments.map((databases, i) =>
    spawn(
      process.execPath,
      [WRITER, dataDir, logs[i] as string, databases.join(","), `w${i}`, JSON.stringify(options)],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    ),
  );
  const exits = children.map((c) => new Promise<void>((resolve) => c.on("exit", () => resolve())));
  return {
    logs,
    async started() {
      for (;;) {
        if (logs.every((log) => readWriterLog(log).acked.length > 0)) return;
        await sleep(20);
      }
    },
    async stop() {
      for (const log of logs) fs.writeFileSync(`${log}.stop`, "");
      await Promise.all(exits);
    },
  };
}

export function readWriterLog(log: string): WriterLog {
  const out: WriterLog = { acked: [], refused: [] };
  let text: string;
  try {
    text = fs.readFileSync(log, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const [kind, database, name, at] = line.split(" ");
    if (kind === "ok" && database && name) out.acked.push({ database, name, at: Number(at) });
    if (kind === "refused") out.refused.push(line);
  }
  return out;
}

/**
 * The acknowledged writes that are not in their database's file, read straight from the files (paths
 * from the catalog), each name looked up in `users`.
 */
export function missingWrites(dataDir: string, acked: WriterLog["acked"]): string[] {
  const catalog = new Database(path.join(dataDir, "catalog.db"), { readonly: true });
  const pathOf = catalog.prepare("SELECT path FROM databases WHERE name = ?").pluck();
  const missing: string[] = [];
  const byDatabase = new Map<string, WriterLog["acked"]>();
  for (const a of acked) byDatabase.set(a.database, [...(byDatabase.get(a.database) ?? []), a]);
  for (const [database, writes] of byDatabase) {
    const file = new Database(path.join(dataDir, pathOf.get(database) as string), { readonly: true });
    const has = file.prepare("SELECT count(*) FROM users WHERE name = ?").pluck();
    for (const w of writes) if (has.get(w.name) !== 1) missing.push(`${database}: ${w.name}`);
    file.close();
  }
  catalog.close();
  return missing;
}
