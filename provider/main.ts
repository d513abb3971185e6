import grpc from "@grpc/grpc-js";
import grpcPb from "@pulumi/pulumi/proto/provider_grpc_pb.js";
import { TenantDbProvider } from "./server.js";

/**
 * The plugin's entry: `pulumi-resource-tenantdb [--logtostderr] [-v=N] [--tracing X] <engine address>`.
 * The engine reads the port from the first line of stdout, so nothing may be printed before it; anything
 * a dependency logs goes to stderr instead, which the engine only traces.
 */

function engineAddress(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--tracing")
      i++; // its value is the next argument
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

for (const method of ["log", "info", "debug"] as const) console[method] = console.error;

const provider = new TenantDbProvider({
  cwd: process.cwd(),
  env: process.env,
  engineAddress: engineAddress(process.argv.slice(2)),
});
// Pulumi's own plugins allow messages up to 400 MiB; a big stack's state can exceed gRPC's 4 MiB default.
const MAX_MESSAGE = 400 * 1024 * 1024;
const server = new grpc.Server({
  "grpc.max_receive_message_length": MAX_MESSAGE,
  "grpc.max_send_message_length": MAX_MESSAGE,
});
server.addService(grpcPb.ResourceProviderService, provider.handlers() as grpc.UntypedServiceImplementation);

server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`tenantdb provider: cannot listen: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${port}\n`);
});

// Never crash on a stray error: report it on stderr and keep serving the engine.
process.on("uncaughtException", (e) =>
  process.stderr.write(`tenantdb provider: uncaught: ${e.stack ?? e}\n`),
);
process.on("unhandledRejection", (e) =>
  process.stderr.write(`tenantdb provider: unhandled rejection: ${(e as Error)?.stack ?? String(e)}\n`),
);

const shutdown = () => {
  server.forceShutdown();
  provider.close();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
