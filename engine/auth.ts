import { type GroupRow, getDatabaseRow } from "./catalog.js";
import type { EngineContext } from "./context.js";
import { now } from "./context.js";
import { requireDatabaseRow } from "./databases.js";
import { invalidArgument, unauthenticated } from "./errors.js";
import { requireGroupRow } from "./groups.js";
import type { Principal } from "./query/principal.js";
import { requireDatabaseRowByNameOrId } from "./query/targets.js";
import { parseExpiration } from "./tokens/expiration.js";
import { decodeTokenUnverified, type SignedToken, signToken, verifyToken } from "./tokens/jwt.js";
import { generateSigningKey, type SigningKey } from "./tokens/keys.js";

/**
 * Tokens against the catalog: each group has a signing key set (one key until it is rotated), revoked
 * token ids are remembered, and verification always uses the keys of the group that owns the database
 * being opened — so a token can never reach outside the group that signed it.
 */

export interface CreateTokenRequest {
  database?: string;
  group?: string;
  /** Default full-access. */
  authorization?: "full-access" | "read-only";
  /** `never` (default) or a duration such as `2w1d30m`. */
  expiration?: string;
  /** Databases this token may ATTACH (read-only), by name or id; the token names each by its id. */
  attach?: string[];
}

export async function createToken(ctx: EngineContext, req: CreateTokenRequest): Promise<SignedToken> {
  if ((req.database === undefined) === (req.group === undefined)) {
    throw invalidArgument("a token is for exactly one database or one group");
  }
  const authorization = req.authorization ?? "full-access";
  if (authorization !== "full-access" && authorization !== "read-only") {
    throw invalidArgument(
      `authorization must be "full-access" or "read-only", not ${JSON.stringify(authorization)}`,
    );
  }
  const expiresInSeconds = parseExpiration(req.expiration ?? "never");
  const database = req.database !== undefined ? requireDatabaseRow(ctx, req.database) : undefined;
  const group = requireGroupRow(ctx, database ? database.group_name : (req.group as string));
  const attach: string[] = [];
  for (const nameOrId of new Set(req.attach ?? [])) {
    const target = requireDatabaseRowByNameOrId(ctx, nameOrId);
    if (target.group_id !== group.id) {
      throw invalidArgument(
        `cannot grant attach on "${target.name}": it is in group "${target.group_name}", not "${group.name}"`,
      );
    }
    // By id, so the grant dies with this database: one created later under the same name is not covered.
    if (!attach.includes(target.uuid)) attach.push(target.uuid);
  }
  const key = await currentKey(ctx, group);
  return signToken(key, {
    scope: req.database !== undefined ? { database: req.database } : { group: group.name },
    authorization,
    expiresInSeconds,
    attach,
    databaseId: database?.uuid,
  });
}

/** Turns a bearer token into a principal for `database`, or refuses it. */
export async function authenticate(ctx: EngineContext, jwt: string, database: string): Promise<Principal> {
  if (typeof jwt !== "string" || jwt.length === 0) throw unauthenticated("a token is required");
  decodeTokenUnverified(jwt); // refuses garbage before any catalog work
  const row = requireDatabaseRow(ctx, database);
  const keys = groupKeys(ctx, row.group_id);
  if (keys.length === 0)
    throw unauthenticated("The JWT is invalid: no keys for this group (its tokens were invalidated)");
  const verified = await verifyToken(jwt, keys);
  if (verified.jti !== null && isRevoked(ctx, verified.jti))
    throw unauthenticated("The JWT has been revoked");
  // A database destroyed and created again under the same name is a different database.
  if (
    verified.database?.name === row.name &&
    verified.database.id !== null &&
    verified.database.id !== row.uuid
  ) {
    throw unauthenticated(`The JWT was issued for an earlier database named "${row.name}"`);
  }
  return { kind: "token", permissions: verified.permissions, jti: verified.jti };
}

/**
 * Whether a token is still good in a group (signature under the group's current keys, not expired, not
 * revoked), without opening any database: what a Pulumi refresh of a Token resource asks.
 */
export async function checkToken(
  ctx: EngineContext,
  jwt: string,
  groupName: string,
  database?: string,
): Promise<{ valid: true; jti: string | null; expiresAt: number | null } | { valid: false; reason: string }> {
  const group = requireGroupRow(ctx, groupName);
  try {
    const verified = await verifyToken(jwt, groupKeys(ctx, group.id));
    if (verified.jti !== null && isRevoked(ctx, verified.jti)) return { valid: false, reason: "revoked" };
    if (database !== undefined && verified.database?.name === database && verified.database.id !== null) {
      const row = getDatabaseRow(ctx.catalog, database);
      if (!row || row.uuid !== verified.database.id)
        return { valid: false, reason: "its database no longer exists" };
    }
    return { valid: true, jti: verified.jti, expiresAt: verified.expiresAt };
  } catch (e) {
    if ((e as { code?: string }).code !== "UNAUTHENTICATED") throw e;
    return { valid: false, reason: (e as Error).message };
  }
}

/** Invalidates every token of a group at once by replacing its signing keys. */
export async function rotateGroupKeys(ctx: EngineContext, groupName: string): Promise<void> {
  const group = requireGroupRow(ctx, groupName);
  const key = await generateSigningKey();
  ctx.catalog
    .transaction(() => {
      ctx.catalog.prepare("DELETE FROM signing_keys WHERE group_id = ?").run(group.id);
      insertKey(ctx, group.id, key);
    })
    .immediate();
}

/** Revokes one token; the group's other tokens keep working. Takes the token itself or its `jti`. */
export function revokeToken(ctx: EngineContext, tokenOrJti: string): { jti: string } {
  const jti = tokenOrJti.includes(".") ? decodeTokenUnverified(tokenOrJti).jti : tokenOrJti;
  if (!jti || !/^[A-Za-z0-9_-]{8,64}$/.test(jti))
    throw invalidArgument("give a token (JWT) or its jti to revoke");
  ctx.catalog.prepare("INSERT OR IGNORE INTO revoked_tokens (jti, revoked_at) VALUES (?, ?)").run(jti, now());
  return { jti };
}

export function publicKeys(ctx: EngineContext, groupName: string): { kid: string; pem: string }[] {
  const group = requireGroupRow(ctx, groupName);
  return groupKeys(ctx, group.id).map((k) => ({ kid: k.kid, pem: k.publicKeyPem }));
}

export async function ensureGroupKey(ctx: EngineContext, groupName: string): Promise<void> {
  await currentKey(ctx, requireGroupRow(ctx, groupName));
}

async function currentKey(ctx: EngineContext, group: GroupRow): Promise<SigningKey> {
  const existing = groupKeys(ctx, group.id).at(-1);
  if (existing) return existing;
  const key = await generateSigningKey();
  // Two processes may both generate one; the first to commit wins and the other uses it.
  return ctx.catalog
    .transaction(() => {
      const raced = groupKeys(ctx, group.id).at(-1);
      if (raced) return raced;
      insertKey(ctx, group.id, key);
      return key;
    })
    .immediate();
}

function groupKeys(ctx: EngineContext, groupId: number): SigningKey[] {
  const rows = ctx.catalog
    .prepare(
      "SELECT kid, public_pem, private_pem, created_at FROM signing_keys WHERE group_id = ? ORDER BY rowid",
    )
    .all(groupId) as { kid: string; public_pem: string; private_pem: string; created_at: number }[];
  return rows.map((r) => ({
    kid: r.kid,
    publicKeyPem: r.public_pem,
    privateKeyPem: r.private_pem,
    createdAt: r.created_at,
  }));
}

function insertKey(ctx: EngineContext, groupId: number, key: SigningKey): void {
  ctx.catalog
    .prepare(
      "INSERT INTO signing_keys (group_id, kid, public_pem, private_pem, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .run(groupId, key.kid, key.publicKeyPem, key.privateKeyPem, key.createdAt);
}

function isRevoked(ctx: EngineContext, jti: string): boolean {
  return ctx.catalog.prepare("SELECT 1 FROM revoked_tokens WHERE jti = ?").get(jti) !== undefined;
}
