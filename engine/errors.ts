/**
 * Every failure the engine reports to a person carries one of these codes. The CLI, the server and the
 * provider each map them in exactly one place (exit code, HTTP status, gRPC status), so the codes are
 * part of the public contract: add new ones, never rename.
 */
export const ERROR_CODES = [
  "INVALID_ARGUMENT",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "FAILED_PRECONDITION",
  "BLOCKED",
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
  "CONFLICT",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class TenantDbError extends Error {
  override readonly name = "TenantDbError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable detail, e.g. the databases a migration failed on. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const invalidArgument = (message: string, details?: Record<string, unknown>) =>
  new TenantDbError("INVALID_ARGUMENT", message, details);
export const notFound = (message: string) => new TenantDbError("NOT_FOUND", message);
export const alreadyExists = (message: string) => new TenantDbError("ALREADY_EXISTS", message);
export const failedPrecondition = (message: string, details?: Record<string, unknown>) =>
  new TenantDbError("FAILED_PRECONDITION", message, details);
export const blocked = (reason: string) => new TenantDbError("BLOCKED", `Operation was blocked: ${reason}`);
export const unauthenticated = (message: string) => new TenantDbError("UNAUTHENTICATED", message);
export const permissionDenied = (message: string) => new TenantDbError("PERMISSION_DENIED", message);
export const conflict = (message: string) => new TenantDbError("CONFLICT", message);

export function isTenantDbError(e: unknown): e is TenantDbError {
  return e instanceof TenantDbError;
}

/** A SQLite error raised by a user's statement: reported as-is, with SQLite's code, as INVALID_ARGUMENT. */
export function fromSqliteError(e: unknown): TenantDbError {
  if (e instanceof TenantDbError) return e;
  const err = e as { code?: string; message?: string };
  if (typeof err?.code === "string" && err.code.startsWith("SQLITE_")) {
    if (err.code === "SQLITE_BUSY" || err.code === "SQLITE_LOCKED") {
      return new TenantDbError("CONFLICT", `database is busy: ${err.message}; retry shortly`, {
        sqliteCode: err.code,
      });
    }
    return new TenantDbError("INVALID_ARGUMENT", `SQLite error: ${err.message}`, { sqliteCode: err.code });
  }
  // better-sqlite3 reports bad bindings (too many or too few values, unsupported types) this way.
  if (e instanceof RangeError || e instanceof TypeError) {
    return new TenantDbError("INVALID_ARGUMENT", `bad statement arguments: ${e.message}`);
  }
  return new TenantDbError("INTERNAL", `internal error: ${err?.message ?? String(e)}; please report this`);
}
