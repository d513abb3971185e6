import { invalidArgument } from "../../engine/errors.js";
import { wholeNumber } from "../../engine/whole-number.js";
import { DEFAULT_PORT, startServer } from "../../server/index.js";
import type { GlobalOptions } from "../context.js";
import { fenceWaitMs, withEngine } from "../context.js";
import { printJson, printLine } from "../output.js";

export interface ServeOptions {
  port?: string;
  host?: string;
  org?: string;
  statementTimeout?: string;
  transactionTimeout?: string;
  executors?: string;
}

/**
 * `serve`: the Platform API and the Hrana data plane over this data directory, until SIGTERM or SIGINT;
 * then it stops accepting, lets requests in flight finish, closes every stream and the engine, and exits 0.
 */
export async function serve(g: GlobalOptions, opts: ServeOptions) {
  const port = parsePort(opts.port);
  const statementTimeoutMs = seconds("--statement-timeout", opts.statementTimeout);
  const transactionTimeoutMs = seconds("--transaction-timeout", opts.transactionTimeout);
  const executors = count("--executors", opts.executors);
  await withEngine(
    g,
    async (engine) => {
      const server = await startServer(engine, {
        port,
        host: opts.host,
        org: opts.org,
        statementTimeoutMs,
        transactionTimeoutMs,
        executors,
        fenceWaitMs: fenceWaitMs(g),
      });
      process.stderr.write(`tenantdb serve: serving data directory ${engine.dataDir} on ${server.url}\n`);
      // One line, so a script (or a test) can read the address, the actual port included with --port 0.
      if (g.json) printJson({ url: server.url, port: server.port, org: server.org });
      else printLine(`tenantdb serve listening on ${server.url} (org ${server.org})`);
      const signal = await nextSignal();
      process.stderr.write(`tenantdb serve: ${signal}, shutting down\n`);
      await server.close();
    },
    { create: true },
  );
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65535) {
    throw invalidArgument(
      `--port must be a port number from 0 to 65535 (0 picks a free one), not "${value}"`,
    );
  }
  return port;
}

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > 86_400) {
    throw invalidArgument(
      `${flag} must be a number of seconds greater than 0, such as 5 or 0.5, not "${value}"`,
    );
  }
  return Math.round(n * 1000);
}

function count(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = wholeNumber(value, 1, 256);
  if (n === undefined) throw invalidArgument(`${flag} must be a whole number from 1 to 256, not "${value}"`);
  return n;
}

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolve(signal);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}
