import { type ErrorCode, isTenantDbError, storageError, type TenantDbError } from "../engine/index.js";

/**
 * How failures leave the server. Engine errors carry a stable code; this file is the one place that turns
 * a code into an HTTP status. Failures of HTTP itself (a body too large, a route that does not exist, a
 * stale baton) are HttpErrors, which carry their status directly.
 */

/** The one mapping from engine error codes to HTTP statuses. */
const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  // sqld answers 400 for "cannot delete … because databases are still referring to it".
  FAILED_PRECONDITION: 400,
  BLOCKED: 403,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  CONFLICT: 409,
  INTERNAL: 500,
  // WebDAV's Insufficient Storage: the request was fine, the server has no room to carry it out.
  DISK_FULL: 507,
  IO_ERROR: 500,
};

export function httpStatusOf(e: TenantDbError): number {
  return HTTP_STATUS[e.code] ?? 500;
}

/** A failure of the HTTP exchange itself, not of the engine. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    /** A stable machine-readable code, e.g. `STREAM_EXPIRED`. */
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  /**
   * `error` is what Turso's Platform API and its clients read; `message` and `code` are what a Hrana
   * client reads from a JSON error body (hrana-client's `errorFromResponse`). Both are the same text.
   */
  body: { error: string; message: string; code: string };
}

/**
 * The response for anything a handler threw. `wireCode` names engine errors in the vocabulary of the API
 * that failed (Platform codes, or Hrana's `AUTH_*`/`SQLITE_*`); unknown errors become a 500 that says
 * nothing about internals — the caller logs them.
 */
export function errorReply(
  thrown: unknown,
  wireCode: (e: TenantDbError) => string = (x) => x.code,
): ErrorReply {
  const e = storageError(thrown, { phase: "the request" }) ?? thrown;
  if (e instanceof HttpError) return reply(e.status, e.code, e.message, e.headers);
  if (isTenantDbError(e)) return reply(httpStatusOf(e), wireCode(e), e.message);
  return reply(500, "INTERNAL", "internal server error; please report this (the server log has details)");
}

function reply(status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return { status, headers, body: { error: message, message, code } };
}

/** Whether an error is one we expect to report to a client, as opposed to a bug worth logging. */
export function isExpected(e: unknown): boolean {
  return (
    e instanceof HttpError ||
    (isTenantDbError(e) && e.code !== "INTERNAL") ||
    storageError(e, { phase: "" }) !== undefined
  );
}

export const badRequest = (message: string, code = "BAD_REQUEST") => new HttpError(400, code, message);
