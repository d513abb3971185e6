import { storageError, TenantDbError } from "../engine/errors.js";

/**
 * Exit codes, one per error class, so scripts can tell "not found" from "already exists" without parsing
 * text. Documented in `tenantdb --help` and the README; add new ones, never renumber.
 */
export const EXIT_CODES = {
  INTERNAL: 1,
  INVALID_ARGUMENT: 2,
  NOT_FOUND: 3,
  ALREADY_EXISTS: 4,
  FAILED_PRECONDITION: 5,
  BLOCKED: 6,
  UNAUTHENTICATED: 7,
  PERMISSION_DENIED: 8,
  CONFLICT: 9,
  DISK_FULL: 10,
  IO_ERROR: 11,
} as const;

/** Ctrl-C (128 + SIGINT) and a closed pipe (128 + SIGPIPE), as a shell reports a process killed by them. */
export const EXIT_INTERRUPTED = 130;
export const EXIT_BROKEN_PIPE = 141;

export type CliErrorCode = keyof typeof EXIT_CODES;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  unexpected failure (please report it)
  2  invalid argument or usage (INVALID_ARGUMENT)
  3  not found (NOT_FOUND)
  4  already exists (ALREADY_EXISTS)
  5  failed precondition, e.g. not a tenantdb data directory (FAILED_PRECONDITION)
  6  blocked, e.g. DDL on a child or block_writes set (BLOCKED)
  7  unauthenticated: bad, expired or revoked token (UNAUTHENTICATED)
  8  permission denied (PERMISSION_DENIED)
  9  conflict: busy or a migration in progress (CONFLICT)
  10  the disk is full (DISK_FULL)
  11  an I/O error (IO_ERROR)
  130  interrupted (Ctrl-C)
  141  output pipe closed (e.g. | head)
With --json, errors are also printed on stderr as {"error": {"code", "message"}}.`;

/** Prints an error the way every command does (text, plus JSON on stderr with --json) and returns the exit code. */
export function reportError(e: unknown, json: boolean): number {
  const { code, message, details } = describe(e);
  process.stderr.write(`Error: ${message}\n`);
  if (json) {
    process.stderr.write(
      `${JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } })}\n`,
    );
  }
  if (code === "INTERNAL" && process.env.TENANTDB_DEBUG) console.error(e);
  return EXIT_CODES[code];
}

function describe(e: unknown): { code: CliErrorCode; message: string; details?: Record<string, unknown> } {
  const known = e instanceof TenantDbError ? e : storageError(e, { phase: "the command" });
  if (known) return { code: known.code, message: known.message, details: known.details };
  // Not ours: still no stack trace for the user, but enough to report it.
  return {
    code: "INTERNAL",
    message: `unexpected failure: ${(e as Error)?.message ?? String(e)}; please report this (TENANTDB_DEBUG=1 shows details)`,
  };
}
