import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "../helpers.js";

/**
 * The real `tenantdb serve` process over a data directory, for suites that must see the server as a
 * client does (whatever runs inside it), and a raw Hrana pipeline client: it keeps one stream open by
 * its baton, as @libsql/client's interactive transactions do, but sends exactly the statements given.
 */
export interface Served {
  url: string;
  /** Runs requests on a stream (a new one without a baton); each result is "ok" or the error's code. */
  pipeline(
    db: string,
    token: string,
    sqls: string[],
    baton?: string | null,
    opts?: { close?: boolean },
  ): Promise<PipelineOutcome>;
  describe(db: string, token: string, sql: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PipelineOutcome {
  baton: string | null;
  outcomes: string[];
  rows: unknown[][][];
}

export async function serve(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child: ChildProcess = spawn(CLI, ["--data-dir", dataDir, "serve", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1] as string);
    });
    child.on("exit", () => reject(new Error(`serve exited early: ${stderr}`)));
  });
  const post = async (db: string, token: string, body: unknown) => {
    const res = await fetch(`${url}/db/${db}/v3/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`);
    return JSON.parse(text) as {
      baton: string | null;
      results: {
        type: string;
        response?: { result?: { rows?: { value?: unknown }[][]; is_readonly?: boolean } };
        error?: { code: string };
      }[];
    };
  };
  return {
    url,
    async pipeline(db, token, sqls, baton = null, opts = {}) {
      const requests: unknown[] = sqls.map((sql) => ({ type: "execute", stmt: { sql } }));
      if (opts.close) requests.push({ type: "close" });
      const body = await post(db, token, { baton, requests });
      if (opts.close) body.results.pop();
      return {
        baton: body.baton,
        outcomes: body.results.map((r) => (r.type === "ok" ? "ok" : (r.error?.code ?? "error"))),
        rows: body.results.map((r) => (r.response?.result?.rows ?? []).map((row) => row.map((v) => v.value))),
      };
    },
    async describe(db, token, sql) {
      const body = await post(db, token, {
        baton: null,
        requests: [{ type: "describe", sql }, { type: "close" }],
      });
      const [first] = body.results;
      return first?.type === "ok" ? "ok" : (first?.error?.code ?? "error");
    },
    async stop() {
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
