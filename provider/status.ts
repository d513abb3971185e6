import grpc from "@grpc/grpc-js";
import { type ErrorCode, isTenantDbError } from "../engine/index.js";

/**
 * The one place engine error codes become gRPC statuses, and the wrapper that makes every handler answer
 * with a status instead of throwing: the engine shows the status message to the user, so it carries the
 * engine's message as-is, and never a stack trace.
 */

const STATUS: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  CONFLICT: grpc.status.ABORTED,
  BLOCKED: grpc.status.FAILED_PRECONDITION,
  INTERNAL: grpc.status.INTERNAL,
  DISK_FULL: grpc.status.RESOURCE_EXHAUSTED,
  IO_ERROR: grpc.status.UNAVAILABLE,
};

export function toStatus(method: string, e: unknown): grpc.StatusObject {
  if (isTenantDbError(e)) {
    return {
      code: STATUS[e.code] ?? grpc.status.INTERNAL,
      details: e.message,
      metadata: new grpc.Metadata(),
    };
  }
  // A bug of ours: the engine gets a message without internals, stderr (traced by the engine) the stack.
  process.stderr.write(
    `tenantdb provider: unexpected error in ${method}: ${(e as Error)?.stack ?? String(e)}\n`,
  );
  const message = e instanceof Error ? e.message : String(e);
  return {
    code: grpc.status.INTERNAL,
    details: `internal error in ${method}: ${message}; please report this`,
    metadata: new grpc.Metadata(),
  };
}

/** Wraps a handler so that whatever it throws (sync or async) becomes a status, never a crash. */
export function unary<Req, Res>(
  method: string,
  fn: (req: Req) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (e) => callback(toStatus(method, e)),
      );
  };
}
