import grpc from "@grpc/grpc-js";
import engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb.js";
import enginePb from "@pulumi/pulumi/proto/engine_pb.js";

/**
 * Messages to the person running Pulumi, through the engine's own Engine.Log service: the engine starts
 * the plugin with its address as the last argument and repeats it in Handshake (provider_plugin.go,
 * NewProvider: `[]string{host.ServerAddr()}`, ProviderHandshakeRequest.EngineAddress). Logging is best
 * effort: a message that cannot be delivered never fails the operation it describes.
 */

export type Severity = "debug" | "info" | "warning" | "error";

export interface EngineLog {
  log(severity: Severity, message: string, opts?: { urn?: string; ephemeral?: boolean }): Promise<void>;
  close(): void;
}

const SEVERITY: Record<Severity, enginePb.LogSeverity> = {
  debug: enginePb.LogSeverity.DEBUG,
  info: enginePb.LogSeverity.INFO,
  warning: enginePb.LogSeverity.WARNING,
  error: enginePb.LogSeverity.ERROR,
};

/** A logger that goes nowhere: before the engine's address is known, or in-process use. */
export const silentLog: EngineLog = { log: async () => {}, close() {} };

export function engineLog(address: string): EngineLog {
  const client = new engineGrpc.EngineClient(address, grpc.credentials.createInsecure());
  return {
    log(severity, message, opts = {}) {
      const req = new enginePb.LogRequest()
        .setSeverity(SEVERITY[severity])
        .setMessage(message)
        .setUrn(opts.urn ?? "")
        .setEphemeral(opts.ephemeral ?? false);
      return new Promise((resolve) => {
        client.log(req, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (e) => {
          if (e) process.stderr.write(`tenantdb provider: could not log to the engine: ${e.message}\n`);
          resolve();
        });
      });
    },
    close: () => client.close(),
  };
}
