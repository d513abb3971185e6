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
  /** No space left where the data directory lives (SQLITE_FULL, ENOSPC, EDQUOT). */
  "DISK_FULL",
  /** The operating system failed a read or a write (SQLITE_IOERR, EIO). */
  "IO_ERROR",
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

/**
 * A SQLite error raised by a user's statement: reported as-is, with SQLite's code, as INVALID_ARGUMENT; a
 * full disk or an I/O error as such, naming `database` (the session's, when the statement ran on one).
 */
export function fromSqliteError(e: unknown, database?: string): TenantDbError {
  if (e instanceof TenantDbError) return e;
  const err = e as { code?: string; message?: string };
  const storage = storageError(e, database === undefined ? { phase: "query" } : { phase: "query", database });
  if (storage) return storage;
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

export type StorageFailure = "DISK_FULL" | "IO_ERROR";

/**
 * Whether an error is the storage failing rather than the request: SQLite's SQLITE_FULL and
 * SQLITE_IOERR_* (extended codes included), and Node's ENOSPC, EDQUOT and EIO from our own file writes.
 */
export function storageFailure(e: unknown): StorageFailure | undefined {
  if (e instanceof TenantDbError) return e.code === "DISK_FULL" || e.code === "IO_ERROR" ? e.code : undefined;
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== "string") return undefined;
  if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT") return "DISK_FULL";
  if (code.startsWith("SQLITE_IOERR") || code === "EIO") return "IO_ERROR";
  return undefined;
}

/** Where a storage failure happened, for a message a person can act on. */
export interface FailureSite {
  /** What was being done: `create`, `dry run`, `run`, `commit`, `open`, `query`, … */
  phase: string;
  /** The database it happened on; omitted for the catalog as a whole. */
  database?: string;
}

/**
 * A storage failure as a DISK_FULL or IO_ERROR error naming the database and the phase; undefined for any
 * other error. SQLite's code stays in the details (Hrana clients match on it).
 */
export function storageError(e: unknown, site: FailureSite, hint?: string): TenantDbError | undefined {
  const kind = storageFailure(e);
  if (!kind) return undefined;
  if (e instanceof TenantDbError) return e;
  const err = e as { code: string; message?: string };
  return new TenantDbError(kind, storageMessage(kind, site, err.message ?? err.code, hint), {
    ...(err.code.startsWith("SQLITE_") ? { sqliteCode: err.code } : { osCode: err.code }),
    phase: site.phase,
    ...(site.database ? { database: site.database } : {}),
  });
}

export function storageMessage(
  kind: StorageFailure,
  site: FailureSite,
  cause: string | undefined,
  hint?: string,
): string {
  const what = kind === "DISK_FULL" ? "disk full" : "I/O error";
  const where = site.database ? `database "${site.database}"` : "the catalog";
  const advice =
    hint ??
    (kind === "DISK_FULL" ? "free space in the data directory and retry" : "check the disk and retry");
  return `${what} during ${site.phase} on ${where}${cause ? `: ${cause}` : ""}; ${advice}`;
}

/**
 * Wraps every method of an API so that a storage failure escaping it (a catalog write on a full disk, say)
 * leaves as DISK_FULL or IO_ERROR naming the operation, never as an unexpected failure.
 */
export function namingStorageFailures<T extends object>(api: T): T {
  const rethrow = (phase: string) => (e: unknown) => {
    throw storageError(e, { phase }) ?? e;
  };
  const wrapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(api)) {
    if (typeof value !== "function") {
      wrapped[key] = value;
      continue;
    }
    wrapped[key] = (...args: unknown[]) => {
      try {
        const result = value(...args);
        return result instanceof Promise ? result.catch(rethrow(key)) : result;
      } catch (e) {
        return rethrow(key)(e);
      }
    };
  }
  return wrapped as T;
}
