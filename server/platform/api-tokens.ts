import type { Handler } from "../context.js";

/**
 * API tokens, the credentials of the Platform API itself: `/v1/auth/api-tokens[/:name]`, and validation.
 * A token is shown once, when it is minted; only its hash is stored.
 */

export const listApiTokens: Handler = (ctx) => ({
  json: { tokens: ctx.engine.listApiTokens().map((t) => ({ id: t.name, name: t.name })) },
});

export const mintApiToken: Handler = (ctx, req) => {
  const { name, token } = ctx.engine.mintApiToken(req.params.name as string);
  return { json: { id: name, name, token } };
};

export const revokeApiToken: Handler = (ctx, req) => {
  const name = req.params.name as string;
  ctx.engine.revokeApiToken(name);
  return { json: { token: name } };
};

/**
 * Reached only with a valid token (the app checks it first). tenantdb's API tokens do not expire, which
 * Turso writes as `exp: -1`.
 */
export const validateApiToken: Handler = () => ({ json: { exp: -1 } });
