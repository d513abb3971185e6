import { failedPrecondition, invalidArgument } from "../../engine/errors.js";
import { isTenantDbError, parseExpiration } from "../../engine/index.js";
import type { Backend } from "../backends/backend.js";
import { Fields } from "../fields.js";
import { isUnknown, type PropertyMap, UNKNOWN } from "../properties.js";
import type { Resource } from "../resource.js";
import { known } from "./common.js";

/**
 * A JWT for one database or for every database of a group. Its id is the token's `jti`; deleting the
 * resource revokes that one token while the group's other tokens keep working. Every input replaces: a
 * signed token cannot change, only be reissued.
 */

export interface TokenArgs {
  database?: string;
  group?: string;
  authorization: "full-access" | "read-only";
  expiration: string;
  attach: string[];
}

export interface TokenState extends TokenArgs {
  jwt: string;
  /** ISO 8601 (UTC), or null for a token that never expires. */
  expiresAt: string | null;
  jti: string;
}

const AUTHORIZATIONS = ["full-access", "read-only"] as const;

const inputs = {
  database: {
    type: "string",
    optional: true,
    outputOptional: true,
    replaceOnChanges: true,
    description: "The database the token is for. Set exactly one of `database` and `group`.",
  },
  group: {
    type: "string",
    optional: true,
    outputOptional: true,
    replaceOnChanges: true,
    description:
      "The group whose every database the token is for. Set exactly one of `database` and `group`.",
  },
  authorization: {
    type: "string",
    optional: true,
    default: "full-access",
    replaceOnChanges: true,
    description: "What the token allows.",
    enum: {
      token: "tenantdb:index:Authorization",
      description: "What a token allows.",
      values: [
        { name: "FullAccess", value: "full-access", description: "Read and write." },
        { name: "ReadOnly", value: "read-only", description: "Read only." },
      ],
    },
  },
  expiration: {
    type: "string",
    optional: true,
    default: "never",
    replaceOnChanges: true,
    description: '`"never"`, or a duration such as `"2w1d30m"`, `"7d"` or `"90s"` (units w, d, h, m, s).',
  },
  attach: {
    type: "string[]",
    optional: true,
    replaceOnChanges: true,
    description: "Databases of the same group this token may ATTACH (read-only).",
  },
} as const;

const outputs = {
  jwt: { type: "string", secret: true, description: "The token itself (a secret)." },
  expiresAt: {
    type: "string",
    outputOptional: true,
    description:
      "When the token expires, as an ISO 8601 UTC timestamp (`2026-01-31T12:00:00.000Z`); absent for a token that never expires.",
  },
  jti: { type: "string", description: "The token's id; revoking it revokes this token only." },
} as const;

function decode(map: PropertyMap) {
  const f = new Fields(map, inputs);
  const database = f.name("database", "database", { optional: true });
  const group = f.name("group", "group", { optional: true });
  if (
    (map.database === undefined || map.database === null) === (map.group === undefined || map.group === null)
  ) {
    f.fail("database", "set exactly one of `database` (a database token) and `group` (a group token)");
  }
  const expiration = f.string("expiration");
  if (expiration !== undefined && !isUnknown(expiration)) {
    try {
      parseExpiration(expiration);
    } catch (e) {
      if (!isTenantDbError(e)) throw e;
      f.fail("expiration", e.message);
    }
  }
  const attach = f.strings("attach");
  if (Array.isArray(attach)) {
    for (const [i, name] of attach.entries()) f.checkName(`attach[${i}]`, name, "database");
  }
  const args = {
    database,
    group,
    authorization: f.string("authorization", { oneOf: AUTHORIZATIONS }),
    expiration,
    attach,
  };
  return { args: args as TokenArgs, failures: f.failures };
}

export const Token: Resource<TokenArgs, TokenState> = {
  token: "tenantdb:index:Token",
  description:
    "A token (EdDSA JWT) for one database or a whole group. Deleting it revokes this token alone; the group's other tokens keep working.",
  inputs,
  outputs,
  decode,

  async check(_ctx, req) {
    const news: PropertyMap = {
      ...req.news,
      authorization: req.news.authorization ?? "full-access",
      expiration: req.news.expiration ?? "never",
      attach: req.news.attach ?? [],
    };
    return { inputs: news, failures: decode(news).failures };
  },

  async create(ctx, { args, preview }) {
    if (preview) {
      // The token, its id and (unless it never expires) its expiry exist only once it is signed.
      const expiresAt = args.expiration === "never" ? null : UNKNOWN;
      return { id: "", state: { ...args, jwt: UNKNOWN, jti: UNKNOWN, expiresAt } };
    }
    const a = known(args);
    const issued = await ctx.backend.createToken(a);
    return { id: issued.jti, state: { ...a, ...issued, expiresAt: isoOrNull(issued.expiresAt) } };
  },

  // A refresh has the token in the state; `Token.get` (the engine's ReadResource) has only what the
  // program passed: the token itself as the id, or in `state.jwt`. A bare jti cannot be read back.
  async read(ctx, { id, state }) {
    const jwt = state.jwt ?? (id.split(".").length === 3 ? id : undefined);
    if (jwt === undefined) {
      throw failedPrecondition(
        "a Token cannot be read back from its jti: tenantdb keeps no copy of a token once it is issued. Pass the token itself to `Token.get` (as the id, or as `state.jwt`), or declare a new Token (and revoke the old one with `tenantdb db tokens revoke`)",
      );
    }
    // The state's values where it has them (a refresh: the program's own spelling, such as `2w`), the
    // token's claims for the rest (`Token.get(name, jti, { jwt })` knows nothing else).
    const given = Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined && v !== null));
    const known = { ...grantOf(jwt), ...given } as TokenState;
    const group = await groupOf(ctx.backend, known);
    if (group === null) return null; // its database or group is gone, and the token with it
    const status = await ctx.backend.checkToken(jwt, group, known.database ?? undefined).catch((e) => {
      if (isTenantDbError(e) && e.code === "NOT_FOUND") return null;
      throw e;
    });
    // Revoked, expired or signed by rotated keys: the token is gone as far as the stack is concerned.
    if (!status?.valid) return null;
    const current = { ...known, jwt, expiresAt: isoOrNull(status.expiresAt) };
    const { jwt: _jwt, jti: _jti, expiresAt: _expiresAt, ...inputs } = current;
    return { id: current.jti, state: current, inputs };
  },

  // Every input replaces, so the engine never asks for an in-place update with a change in it.
  async update(_ctx, { olds }) {
    return olds;
  },

  async delete(ctx, { id }) {
    await ctx.backend.revokeToken(id);
  },
};

/**
 * What a token grants, from its claims (sqld's `p` rights, as engine/tokens/claims.ts writes them). Not
 * trusted: Read verifies the token against its group's keys before reporting any of it.
 */
function grantOf(jwt: string): TokenState {
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8"));
  } catch {
    throw invalidArgument("the id given to Token.get is not a token: its payload is not JSON");
  }
  const p = (claims.p ?? {}) as Record<string, { ns?: string[]; tags?: string[] } | undefined>;
  const right = p.rw ? "rw" : "ro";
  const scope = p[right] ?? {};
  const exp = typeof claims.exp === "number" ? claims.exp : null;
  const iat = typeof claims.iat === "number" ? claims.iat : null;
  return {
    ...(scope.ns?.[0] !== undefined ? { database: scope.ns[0] } : { group: scope.tags?.[0] }),
    authorization: right === "rw" ? "full-access" : "read-only",
    expiration: exp === null || iat === null ? "never" : `${exp - iat}s`,
    attach: p.roa?.ns ?? [],
    jwt,
    jti: typeof claims.jti === "string" ? claims.jti : "",
    expiresAt: null,
  };
}

/** Unix seconds as the schema's ISO 8601 timestamp. */
const isoOrNull = (seconds: number | null): string | null =>
  seconds === null ? null : new Date(seconds * 1000).toISOString();

async function groupOf(backend: Backend, state: Partial<TokenState>): Promise<string | null> {
  if (state.group !== undefined) return state.group;
  if (state.database === undefined) return null;
  return (await backend.getDatabase(state.database))?.group ?? null;
}
