import { isTenantDbError, type TenantDbError } from "../../engine/index.js";
import { HttpError } from "../http-errors.js";
import type { HranaError } from "./protocol.js";

/**
 * Engine errors in Hrana's vocabulary, the codes `@libsql/client` surfaces as `LibsqlError.code`:
 * `BLOCKED` for the guard and fences (sqld's "Operation was blocked"), SQLite's primary result codes for
 * SQLite's own errors, `AUTH_*` for tokens, `SCHEMA_MIGRATION_ERROR` for a failed job, and the engine's
 * code for the rest.
 */
export function hranaCode(e: TenantDbError): string {
  const sqliteCode = e.details?.sqliteCode;
  if (typeof sqliteCode === "string") return primaryCode(sqliteCode);
  // A limit the engine enforced for the server (RESPONSE_TOO_LARGE), named as sqld names it.
  const limit = e.details?.limit;
  if (typeof limit === "string") return limit;
  switch (e.code) {
    case "UNAUTHENTICATED":
      if (/expired/i.test(e.message)) return "AUTH_JWT_EXPIRED";
      if (/revoked/i.test(e.message)) return "AUTH_JWT_REVOKED";
      return "AUTH_JWT_INVALID";
    case "FAILED_PRECONDITION":
      return e.details?.jobId !== undefined ? "SCHEMA_MIGRATION_ERROR" : e.code;
    default:
      return e.code;
  }
}

/** `SQLITE_CONSTRAINT_UNIQUE` → `SQLITE_CONSTRAINT`: sqld reports primary codes, and clients match on them. */
function primaryCode(code: string): string {
  return code.split("_").slice(0, 2).join("_");
}

/** A request's or a statement's failure as a Hrana error object; unexpected errors say nothing inside. */
export function toHranaError(e: unknown): HranaError {
  if (isTenantDbError(e)) return { message: e.message, code: hranaCode(e) };
  if (e instanceof RequestError || e instanceof HttpError) return { message: e.message, code: e.code };
  return { message: "internal error; please report this (the server log has details)", code: "INTERNAL" };
}

/** A failure of one stream request that is the client's doing, reported in its result slot. */
export class RequestError extends Error {
  override readonly name = "RequestError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
