import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "../helpers.js";

/** The real `tenantdb serve` process (built by `npm test` before vitest) on a free port. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything it wrote to standard error so far. */
  stderr(): string;
  /** SIGTERM, and its exit code. */
  stop(): Promise<number | null>;
}

export async function startServeProcess(dataDir: string, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(CLI, ["--data-dir", dataDir, "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (d) => {
      stdout += d;
      const match = /^tenantdb serve listening on (http:\/\/127\.0\.0\.1:\d+) \(org local\)\n/.exec(stdout);
      if (match) resolve(match[1] as string);
    });
    child.on("exit", () => reject(new Error(`serve exited early: ${stderr}`)));
  });
  return {
    url,
    child,
    stderr: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface PipelineReply {
  status: number;
  body: {
    baton?: string | null;
    code?: string;
    message?: string;
    results?: {
      type: string;
      error?: { code: string; message: string };
      response?: { result?: { rows: unknown[][] } };
    }[];
  };
}

/** One Hrana pipeline over raw HTTP. */
export async function hrana(
  url: string,
  db: string,
  token: string,
  body: { baton?: string | null; requests: unknown[] },
): Promise<PipelineReply> {
  const res = await fetch(`${url}/db/${db}/v2/pipeline`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as PipelineReply["body"] };
}

export const exec = (sql: string) => ({ type: "execute", stmt: { sql } });
