import { isTenantDbError } from "../../engine/index.js";
import type { Handler, ServerContext } from "../context.js";
import { jsonObject, type Request } from "../http.js";
import { badRequest } from "../http-errors.js";

/**
 * Database and group tokens: `POST …/auth/tokens?expiration=&authorization=` with an optional body
 * `{"permissions":{"read_attach":{"databases":[…]}}}` (which `@tursodatabase/api` always sends, without a
 * content type), and `POST …/auth/rotate`, which invalidates every token of the group at once.
 *
 * Two routes are tenantdb's own, since Turso can neither revoke one token nor say whether one is still
 * good: `POST …/auth/tokens/revoke` and `POST …/groups/:group/auth/tokens/validate`.
 */

export const createDatabaseToken: Handler = (ctx, req) =>
  createToken(ctx, req, { database: req.params.db as string });

export const createGroupToken: Handler = (ctx, req) =>
  createToken(ctx, req, { group: req.params.group as string });

/** Tokens are signed per group, so rotating a database's tokens rotates its whole group's, as on Turso. */
export const rotateDatabaseTokens: Handler = async (ctx, req) => {
  await ctx.engine.rotateGroupKeys(ctx.engine.getDatabase(req.params.db as string).group);
  return { json: {} };
};

export const rotateGroupTokens: Handler = async (ctx, req) => {
  await ctx.engine.rotateGroupKeys(req.params.group as string);
  return { json: {} };
};

/** Body `{"jti"}` or `{"jwt"}`. Idempotent: revoking a revoked (or unknown) token id is not an error. */
export const revokeToken: Handler = async (ctx, req) => {
  const { jti, jwt } = await jsonObject(req);
  const given = jti ?? jwt;
  if (typeof given !== "string" || given === "") {
    throw badRequest('give the token to revoke as "jti" (its id) or "jwt" (the token itself)');
  }
  try {
    return { json: ctx.engine.revokeToken(given) };
  } catch (e) {
    // A 401 on this API means the API token; a malformed token in the body is a bad request.
    if (isTenantDbError(e) && e.code === "UNAUTHENTICATED") throw badRequest(e.message);
    throw e;
  }
};

/**
 * Whether a token is still good in a group: signed by its current keys, not expired, not revoked, and
 * (given `database`, for a database token) minted for that database rather than an earlier one of its
 * name. A token that is not good is a 200 with the reason, not an error: the question was answered.
 */
export const validateToken: Handler = async (ctx, req) => {
  const { jwt, database } = await jsonObject(req);
  if (typeof jwt !== "string" || jwt === "") throw badRequest('"jwt" is required: the token to check');
  if (database !== undefined && typeof database !== "string") {
    throw badRequest('"database" must be the name of the database the token is for');
  }
  const status = await ctx.engine.checkToken(jwt, req.params.group as string, database);
  return {
    json: status.valid
      ? { valid: true, expires_at: status.expiresAt }
      : { valid: false, reason: status.reason },
  };
};

async function createToken(
  ctx: ServerContext,
  req: Request,
  scope: { database: string } | { group: string },
) {
  const body = await jsonObject(req);
  const authorization = req.query.get("authorization") ?? "full-access";
  if (authorization !== "full-access" && authorization !== "read-only") {
    throw badRequest('"authorization" must be "full-access" or "read-only"');
  }
  const token = await ctx.engine.createToken({
    ...scope,
    authorization,
    expiration: req.query.get("expiration") ?? "never",
    attach: attachOf(body),
  });
  // `jwt` is Turso's whole answer; the token's id and expiry are tenantdb's, for revocation and refresh.
  return { json: { jwt: token.jwt, jti: token.jti, expires_at: token.expiresAt } };
}

function attachOf(body: Record<string, unknown>): string[] {
  const fine = body.fine_grained_permissions;
  if (Array.isArray(fine) && fine.length > 0) {
    throw badRequest('"fine_grained_permissions" is not supported by tenantdb');
  }
  const permissions = body.permissions;
  if (permissions === undefined || permissions === null) return [];
  const databases = (permissions as { read_attach?: { databases?: unknown } })?.read_attach?.databases;
  if (databases === undefined) return [];
  if (!Array.isArray(databases) || !databases.every((d) => typeof d === "string")) {
    throw badRequest('"permissions.read_attach.databases" must be a list of database names');
  }
  return databases;
}
