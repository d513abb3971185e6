import type { Handler, ServerContext } from "../context.js";
import { jsonObject, type Request } from "../http.js";
import { badRequest } from "../http-errors.js";

/**
 * Database and group tokens: `POST …/auth/tokens?expiration=&authorization=` with an optional body
 * `{"permissions":{"read_attach":{"databases":[…]}}}` (which `@tursodatabase/api` always sends, without a
 * content type), and `POST …/auth/rotate`, which invalidates every token of the group at once.
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
