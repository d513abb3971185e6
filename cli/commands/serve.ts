import { invalidArgument } from "../../engine/errors.js";
import { DEFAULT_PORT, startServer } from "../../server/index.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson, printLine } from "../output.js";

export interface ServeOptions {
  port?: string;
  host?: string;
  org?: string;
}

/**
 * `serve`: the Platform API and the Hrana data plane over this data directory, until SIGTERM or SIGINT;
 * then it stops accepting, lets requests in flight finish, closes every stream and the engine, and exits 0.
 */
export async function serve(g: GlobalOptions, opts: ServeOptions) {
  const port = parsePort(opts.port);
  await withEngine(
    g,
    async (engine) => {
      const server = await startServer(engine, { port, host: opts.host, org: opts.org });
      // One line, so a script (or a test) can read the address, the actual port included with --port 0.
      if (g.json) printJson({ url: server.url, port: server.port, org: server.org });
      else printLine(`tenantdb serve listening on ${server.url} (org ${server.org})`);
      // Jobs dead processes left are finished in the background; requests meanwhile see their fence.
      engine
        .recoverJobs()
        .then(({ recovered }) => {
          if (recovered.length > 0)
            process.stderr.write(`tenantdb serve: finished job(s) ${recovered.join(", ")}\n`);
        })
        .catch((e) => process.stderr.write(`tenantdb serve: recovering jobs: ${(e as Error).message}\n`));
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
