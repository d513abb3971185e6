import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { openEngine } from "../engine/index.js";
import { median } from "./baselines.js";

/**
 * `bench serve`: `tenantdb serve` under load from a separate, cheap load generator (bench/load.ts), next
 * to a bare Node HTTP server answering the same bytes (bench/bare-server.ts), in the same run: simple
 * reads by primary key and autocommit inserts, at 1, 8 and 64 connections. Reads alternate between the
 * two servers in short rounds, and each figure is the median over the rounds (the ratio: the median of
 * each round's ratio), so that a shared machine's slow moments fall on both alike.
 * Inserts have their own baseline, the disk's: a naive better-sqlite3 loop of autocommit inserts in this
 * process, into a database kept as the engine keeps its own (a persistent journal), also in two halves.
 */

const LEVELS = [1, 8, 64];
/** Rounds of reads per level, each a slice on either server. */
const READ_ROUNDS = 4;
const READ_SLICE_MS = 1500;
const WRITE_MS = 3000;
const ROWS = 1000;
/** Each half of the disk's baseline at each level. */
const DISK_MS = 750;

interface Run {
  perSecond: number;
  p99Ms: number;
  failed: number;
}

export async function benchServe(opts: { json: boolean }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-bench-serve-"));
  const dataDir = path.join(root, "data");
  const children: ChildProcess[] = [];
  let naive: Database.Database | undefined;
  try {
    const engine = await openEngine(dataDir);
    engine.createGroup("default");
    await engine.createDatabase("bench", { group: "default" });
    await engine.execute("bench", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    await engine.execute(
      "bench",
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT ${ROWS}) INSERT INTO t SELECT i, 'row ' || i FROM n`,
    );
    const { jwt } = await engine.createToken({ database: "bench" });
    engine.close();
    naive = new Database(path.join(root, "naive.db"));
    naive.pragma("journal_mode = PERSIST");
    naive.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const naiveInsert = naive.prepare("INSERT INTO t (v) VALUES (?)");
    const disk = (ms: number) => {
      const start = performance.now();
      let n = 0;
      while (performance.now() - start < ms) naiveInsert.run(`new ${n++}`);
      return n / ((performance.now() - start) / 1000);
    };

    const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
    const server = spawn(process.execPath, [cli, "--data-dir", dataDir, "serve", "--port", "0"], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? "16" },
    });
    children.push(server);
    const url = (await firstLine(server)).match(/listening on (http:\/\/\S+)/)?.[1] as string;
    const port = Number(new URL(url).port);

    const pipeline = (stmt: unknown) =>
      JSON.stringify({ requests: [{ type: "execute", stmt }, { type: "close" }] });
    const post = (body: string) =>
      `POST /db/bench/v2/pipeline HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${jwt}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const reads = Array.from({ length: 200 }, (_, i) =>
      post(
        pipeline({
          sql: "SELECT * FROM t WHERE id = ?",
          args: [{ type: "integer", value: String((i % ROWS) + 1) }],
        }),
      ),
    );
    const writes = Array.from({ length: 200 }, (_, i) =>
      post(pipeline({ sql: "INSERT INTO t (v) VALUES (?)", args: [{ type: "text", value: `new ${i}` }] })),
    );
    const sample = await fetch(`${url}/db/bench/v2/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${jwt}` },
      body: pipeline({ sql: "SELECT * FROM t WHERE id = ?", args: [{ type: "integer", value: "1" }] }),
    });
    const bare = spawn(process.execPath, [here("bare-server.js"), await sample.text()], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(bare);
    const barePort = Number(await firstLine(bare));

    await load(port, reads, 8, 1000); // warm up: JIT, executors' session caches
    const rows: {
      connections: number;
      reads: Run;
      bare: Run;
      readRatio: number;
      writes: Run;
      disk: number;
    }[] = [];
    for (const connections of LEVELS) {
      const rounds: { ours: Run; bare: Run }[] = [];
      for (let i = 0; i < READ_ROUNDS; i++) {
        const bare = await load(barePort, reads, connections, READ_SLICE_MS);
        rounds.push({ bare, ours: await load(port, reads, connections, READ_SLICE_MS) });
      }
      const diskFirst = disk(DISK_MS);
      const written = await load(port, writes, connections, WRITE_MS);
      const diskSecond = disk(DISK_MS);
      rows.push({
        disk: (diskFirst + diskSecond) / 2,
        connections,
        reads: medianRun(rounds.map((r) => r.ours)),
        bare: medianRun(rounds.map((r) => r.bare)),
        readRatio: median(rounds.map((r) => r.ours.perSecond / r.bare.perSecond)),
        writes: written,
      });
    }
    const peak = peakRssMb(server.pid as number);
    const busy = rows.filter((r) => r.connections >= 8);
    const best = busy.reduce((a, b) => (b.reads.perSecond > a.reads.perSecond ? b : a));
    const mostWrites = rows.reduce((a, b) => (b.writes.perSecond > a.writes.perSecond ? b : a));
    const failures = rows.reduce((n, r) => n + r.reads.failed + r.writes.failed, 0);
    const figures = {
      readsPerSecond: Math.round(best.reads.perSecond),
      bareReadsPerSecond: Math.round(best.bare.perSecond),
      readRatio: Math.round(best.readRatio * 100) / 100,
      writesPerSecond: Math.round(mostWrites.writes.perSecond),
      diskWritesPerSecond: Math.round(mostWrites.disk),
      writeRatio: Math.round((mostWrites.writes.perSecond / mostWrites.disk) * 100) / 100,
      p99Ms: Math.round(best.reads.p99Ms * 10) / 10,
      peakRssMb: peak,
      failed: failures,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(figures)}\n`);
    } else {
      const lines = ["serve: tenantdb serve vs a bare Node HTTP server answering the same bytes"];
      for (const r of rows) {
        lines.push(
          `  ${String(r.connections).padStart(2)} conn  reads ${fmt(r.reads.perSecond)}/s (p99 ${r.reads.p99Ms.toFixed(1)} ms)   bare ${fmt(r.bare.perSecond)}/s   ${r.readRatio.toFixed(2)}x   inserts ${fmt(r.writes.perSecond)}/s (p99 ${r.writes.p99Ms.toFixed(1)} ms)   disk ${fmt(r.disk)}/s   ${(r.writes.perSecond / r.disk).toFixed(2)}x`,
        );
      }
      lines.push(
        `  reads at ${best.connections} connections: ${figures.readRatio}x the bare server; inserts ${figures.writeRatio}x a naive better-sqlite3 loop on this disk; peak RSS ${peak} MB (server and executors)${failures ? `; ${failures} requests failed` : ""}`,
        "",
      );
      process.stdout.write(lines.join("\n"));
    }
  } finally {
    naive?.close();
    for (const child of children) child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 500));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The median rate of several runs, their worst p99 and all their failures. */
function medianRun(runs: Run[]): Run {
  return {
    perSecond: median(runs.map((r) => r.perSecond)),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
    failed: runs.reduce((n, r) => n + r.failed, 0),
  };
}

function here(file: string): string {
  return fileURLToPath(new URL(`./${file}`, import.meta.url));
}

function fmt(n: number): string {
  return String(Math.round(n)).padStart(6);
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (d) => {
      text += d;
      const nl = text.indexOf("\n");
      if (nl >= 0) resolve(text.slice(0, nl));
    });
    child.on("exit", (code) => reject(new Error(`the process exited (${code}) before it was ready`)));
  });
}

function load(port: number, requests: string[], connections: number, durationMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [here("load.js")], { stdio: ["pipe", "pipe", "inherit"] });
    child.stdin.end(JSON.stringify({ port, requests, connections, durationMs }));
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`the load generator exited with ${code}`));
      const r = JSON.parse(out) as { completed: number; failed: number; p99Ms: number };
      resolve({ perSecond: r.completed / (durationMs / 1000), p99Ms: r.p99Ms, failed: r.failed });
    });
  });
}

/** The peak resident memory of the server and its executor processes (Linux /proc), summed. */
function peakRssMb(pid: number): number {
  const hwm = (p: number) => {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, "utf8");
      return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).map(Number);
  } catch {
    // no children file: count the server alone
  }
  return Math.round([pid, ...children.filter((c) => c > 0)].reduce((kb, p) => kb + hwm(p), 0) / 1024);
}
