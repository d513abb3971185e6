import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { EngineContext } from "./context.js";
import { now } from "./context.js";
import { alreadyExists, notFound, unauthenticated } from "./errors.js";
import { validateName } from "./names.js";

/**
 * API tokens guard the Platform API of `tenantdb serve`. Only a hash is stored: the token is shown once,
 * when it is minted, like Turso's.
 */

export interface ApiTokenInfo {
  name: string;
  createdAt: number;
}

const PREFIX = "tdb_";

const hashOf = (token: string) => createHash("sha256").update(token).digest("hex");

export function mintApiToken(ctx: EngineContext, name: string): { name: string; token: string } {
  validateName("API token", name);
  const token = PREFIX + randomBytes(32).toString("base64url");
  ctx.catalog
    .transaction(() => {
      if (ctx.catalog.prepare("SELECT 1 FROM api_tokens WHERE name = ?").get(name)) {
        throw alreadyExists(
          `an API token named "${name}" already exists; revoke it first or pick another name`,
        );
      }
      ctx.catalog
        .prepare("INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?, ?, ?)")
        .run(name, hashOf(token), now());
    })
    .immediate();
  return { name, token };
}

export function listApiTokens(ctx: EngineContext): ApiTokenInfo[] {
  const rows = ctx.catalog.prepare("SELECT name, created_at FROM api_tokens ORDER BY name").all() as {
    name: string;
    created_at: number;
  }[];
  return rows.map((r) => ({ name: r.name, createdAt: r.created_at }));
}

export function revokeApiToken(ctx: EngineContext, name: string): void {
  const info = ctx.catalog.prepare("DELETE FROM api_tokens WHERE name = ?").run(name);
  if (info.changes === 0) throw notFound(`no API token named "${name}"`);
}

/** The token's name if it is valid; UNAUTHENTICATED otherwise. */
export function verifyApiToken(ctx: EngineContext, token: string): string {
  if (typeof token !== "string" || !token.startsWith(PREFIX)) throw unauthenticated("invalid API token");
  const hash = hashOf(token);
  const row = ctx.catalog.prepare("SELECT name, token_hash FROM api_tokens WHERE token_hash = ?").get(hash) as
    | { name: string; token_hash: string }
    | undefined;
  if (!row || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(hash))) {
    throw unauthenticated("invalid API token");
  }
  return row.name;
}
