import { invalidArgument, type TenantDbError, unauthenticated } from "../errors.js";
import { MAX_EXPIRATION_SECONDS } from "./expiration.js";
import type { LegacyAccess, Permissions, Right, Scopes } from "./permissions.js";

/**
 * The mapping between what a token grants and the claims it carries, in sqld's vocabulary so tokens made
 * here also work against sqld: `p` holds the rights; `id` and `a` are written for legacy readers only
 * (sqld ignores them when `p` is present, and so do we).
 */

export interface TokenGrant {
  scope: { database: string } | { group: string };
  authorization: "full-access" | "read-only";
  expiresInSeconds: number | null;
  /** Ids (uuids) of the databases a connection using this token may ATTACH (read-only). */
  attach: string[];
  /** The database's unique id: binds a database token to this database, not to a later one of the same name. */
  databaseId?: string;
}

/** The permission claims of a new token; the standard claims (iat, exp, jti) are added when signing. */
export function claimsForGrant(grant: TokenGrant): Record<string, unknown> {
  checkGrant(grant);
  const right: Right = grant.authorization === "full-access" ? "rw" : "ro";
  const p: Partial<Record<Right, Partial<Scopes>>> =
    "database" in grant.scope
      ? { [right]: { ns: [grant.scope.database] } }
      : { [right]: { tags: [grant.scope.group] } };
  const attach = [...new Set(grant.attach)];
  if (attach.length > 0) p.roa = { ns: attach };
  const claims: Record<string, unknown> = { p, a: right };
  if ("database" in grant.scope) {
    claims.id = grant.scope.database;
    if (grant.databaseId !== undefined) claims.did = grant.databaseId;
  }
  // sqld ignores `gid`, but Turso's group tokens carry it, and it tells us which group's keys to verify with.
  else claims.gid = grant.scope.group;
  return claims;
}

function checkGrant(grant: TokenGrant): void {
  const scope = (grant.scope ?? {}) as { database?: unknown; group?: unknown };
  const name = "database" in scope ? scope.database : scope.group;
  if (typeof name !== "string" || name === "") {
    throw invalidArgument(
      'A token needs a scope: a database name ({ database: "..." }) or a group name ({ group: "..." })',
    );
  }
  if (grant.authorization !== "full-access" && grant.authorization !== "read-only") {
    throw invalidArgument('Token authorization must be "full-access" or "read-only"');
  }
  const ttl = grant.expiresInSeconds;
  if (ttl !== null && !(Number.isSafeInteger(ttl) && ttl > 0 && ttl <= MAX_EXPIRATION_SECONDS)) {
    throw invalidArgument(
      "Token expiration must be null (never) or a whole number of seconds up to 100 years, e.g. 604800 for 7d",
    );
  }
  if (!Array.isArray(grant.attach) || grant.attach.some((db) => typeof db !== "string" || db === "")) {
    throw invalidArgument(
      'Token attach must be a list of database ids, e.g. ["6f1c2d4e-0a5b-4c3d-9e8f-7a6b5c4d3e2f"]',
    );
  }
}

/** The refusal for any token we cannot trust; `reason` must never quote the token itself. */
export function invalidToken(reason: string): TenantDbError {
  return unauthenticated(`The JWT is invalid: ${reason}`);
}

const RIGHTS: readonly Right[] = ["ro", "rw", "roa", "rwa", "ddl"];

/**
 * Reads the permissions of a verified payload. Malformed permission claims reject the token instead of being
 * skipped: a token whose rights we misread could grant more than its issuer meant.
 */
export function permissionsFromClaims(payload: Record<string, unknown>): Permissions {
  const { p, id, a } = payload;
  if (p !== undefined) {
    if (!isObject(p)) throw invalidToken('the "p" claim must be an object');
    const grants: Partial<Record<Right, Scopes>> = {};
    // Unknown keys are ignored, as serde does in sqld: they cannot grant anything.
    for (const right of RIGHTS) {
      const scopes = p[right];
      if (scopes !== undefined) grants[right] = readScopes(right, scopes);
    }
    return { kind: "authorized", grants };
  }
  if (id !== undefined && (typeof id !== "string" || id === ""))
    throw invalidToken('the "id" claim must be a name');
  if (a !== undefined && !isLegacyAccess(a)) throw invalidToken('the "a" claim must be "ro", "rw" or "roa"');
  // sqld's defaults: no `id` means every database, no `a` means read-write.
  return {
    kind: "legacy",
    database: typeof id === "string" ? id : null,
    access: isLegacyAccess(a) ? a : "rw",
  };
}

function isLegacyAccess(value: unknown): value is LegacyAccess {
  return value === "ro" || value === "rw" || value === "roa";
}

function readScopes(right: Right, value: unknown): Scopes {
  if (!isObject(value)) throw invalidToken(`"p.${right}" must be an object`);
  return { ns: readNames(right, "ns", value.ns), tags: readNames(right, "tags", value.tags) };
}

function readNames(right: Right, field: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw invalidToken(`"p.${right}.${field}" must be a list of names`);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
