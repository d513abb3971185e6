import { randomUUID } from "node:crypto";
import type { errors as JoseErrors, JWTPayload } from "jose";
import { type TenantDbError, unauthenticated } from "../errors.js";
import { claimsForGrant, invalidToken, permissionsFromClaims, type TokenGrant } from "./claims.js";
import {
  importPrivateKey,
  importPublicKey,
  JWT_ALGORITHM,
  loadJose,
  type SigningKey,
  type VerificationKey,
} from "./keys.js";
import type { Permissions } from "./permissions.js";

/**
 * Signing and verifying tokens. Only the engine decides which keys a token is checked against (a group's
 * current set) and whether its `jti` was revoked; this file owns the cryptographic and time checks.
 */

export interface SignedToken {
  jwt: string;
  /** Random id: revoking it revokes this one token. */
  jti: string;
  /** Unix seconds, or null for a token that never expires. */
  expiresAt: number | null;
}

export interface VerifiedToken {
  jti: string | null;
  issuedAt: number | null;
  expiresAt: number | null;
  permissions: Permissions;
  /** For a database token: the database's name and the id of the database it was minted for. */
  database: { name: string; id: string | null } | null;
}

/** Unverified hints for choosing a group's keys; never use them to authorize anything. */
export interface TokenHints {
  kid: string | null;
  jti: string | null;
  gid: string | null;
  id: string | null;
}

/** How far a token's `iat` may lie in the future: absorbs clock drift between the issuer and us. */
export const MAX_CLOCK_SKEW_SECONDS = 60;
// Real tokens are a few hundred bytes; refusing huge input early keeps garbage from costing JSON parses.
const MAX_TOKEN_LENGTH = 16 * 1024;

const currentSeconds = () => Math.floor(Date.now() / 1000);

export async function signToken(
  key: SigningKey,
  grant: TokenGrant,
  nowSeconds = currentSeconds(),
): Promise<SignedToken> {
  const { SignJWT } = await loadJose();
  const claims = claimsForGrant(grant);
  const jti = randomUUID();
  const expiresAt = grant.expiresInSeconds === null ? null : nowSeconds + grant.expiresInSeconds;
  const builder = new SignJWT(claims)
    .setProtectedHeader({ alg: JWT_ALGORITHM, typ: "JWT", kid: key.kid })
    .setIssuedAt(nowSeconds)
    .setJti(jti);
  // sqld treats `exp` as optional, so a token that never expires simply has none.
  if (expiresAt !== null) builder.setExpirationTime(expiresAt);
  return { jwt: await builder.sign(await importPrivateKey(key)), jti, expiresAt };
}

/**
 * Verifies `jwt` against a group's current keys. The key named by its `kid` is tried first; the others are
 * still tried, as sqld does, so a token without a `kid` (or minted by another tool) verifies too.
 * Revocation by jti is the caller's job.
 */
export async function verifyToken(
  jwt: string,
  keys: readonly VerificationKey[],
  nowSeconds = currentSeconds(),
): Promise<VerifiedToken> {
  const header = readHeader(jwt);
  // Checked before any key is used: `none`, HS256 (whose "secret" could be our public PEM) and every other
  // algorithm are refused by name rather than left to the verifier.
  if (header.alg !== JWT_ALGORITHM) {
    throw invalidToken(
      `algorithm ${describe(header.alg)} is not accepted (tokens must be signed with EdDSA)`,
    );
  }
  if (keys.length === 0) throw invalidToken("the group has no signing keys");
  const { jwtVerify, errors } = await loadJose();
  const ordered = [...keys.filter((k) => k.kid === header.kid), ...keys.filter((k) => k.kid !== header.kid)];
  for (const key of ordered) {
    const publicKey = await importPublicKey(key);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, publicKey, {
        algorithms: [JWT_ALGORITHM],
        currentDate: new Date(nowSeconds * 1000),
      }));
    } catch (e) {
      if (e instanceof errors.JWSSignatureVerificationFailed) continue;
      throw fromJoseError(errors, e);
    }
    return readVerified(payload, nowSeconds);
  }
  throw invalidToken("its signature matches none of the group's current signing keys");
}

/** Reads a token's routing hints without checking anything but its shape. */
export function decodeTokenUnverified(jwt: string): TokenHints {
  const header = readHeader(jwt);
  let payload: JWTPayload;
  try {
    payload = decodePart(jwt.split(".")[1]) as JWTPayload;
  } catch {
    throw invalidToken("its payload is not a base64url-encoded JSON object");
  }
  return {
    kid: stringOrNull(header.kid),
    jti: stringOrNull(payload.jti),
    gid: stringOrNull(payload.gid),
    id: stringOrNull(payload.id),
  };
}

function readHeader(jwt: string): { alg?: unknown; kid?: unknown } {
  if (typeof jwt !== "string" || jwt === "") throw invalidToken("no token was given");
  if (jwt.length > MAX_TOKEN_LENGTH) throw invalidToken("it is longer than any token we issue");
  if (jwt.split(".").length !== 3) throw invalidToken("expected three base64url parts separated by dots");
  try {
    return decodePart(jwt.split(".")[0]);
  } catch {
    throw invalidToken("its header is not base64url-encoded JSON");
  }
}

/**
 * One base64url JSON object of a compact JWS, as jose's decodeJwt and decodeProtectedHeader read it, without
 * loading jose for a token that only needs routing (it is verified by jose later).
 */
function decodePart(part: string | undefined): Record<string, unknown> {
  if (!part || !/^[A-Za-z0-9_-]+$/.test(part)) throw new Error("not base64url");
  const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error("not a JSON object");
  return value as Record<string, unknown>;
}

function readVerified(payload: JWTPayload, nowSeconds: number): VerifiedToken {
  // jose has already checked that iat and exp, when present, are numbers and that exp is in the future.
  const issuedAt = payload.iat ?? null;
  if (issuedAt !== null && issuedAt > nowSeconds + MAX_CLOCK_SKEW_SECONDS) {
    throw invalidToken("it was issued in the future (check the issuer's clock)");
  }
  if (payload.jti !== undefined && typeof payload.jti !== "string")
    throw invalidToken('the "jti" claim must be a string');
  return {
    jti: payload.jti ?? null,
    issuedAt,
    expiresAt: payload.exp ?? null,
    permissions: permissionsFromClaims(payload),
    database:
      typeof payload.id === "string"
        ? { name: payload.id, id: typeof payload.did === "string" ? payload.did : null }
        : null,
  };
}

/** Turns jose's errors into our two refusals, with a reason of our own wording. */
function fromJoseError(errors: typeof JoseErrors, e: unknown): TenantDbError {
  if (e instanceof errors.JWTExpired) return unauthenticated("The JWT has expired");
  if (e instanceof errors.JWTClaimValidationFailed) {
    return e.claim === "nbf"
      ? invalidToken("it is not valid yet (nbf)")
      : invalidToken(`its ${describe(e.claim)} claim is malformed`);
  }
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) {
    return invalidToken("it is not a well-formed signed JWT");
  }
  if (e instanceof errors.JOSENotSupported) return invalidToken("it uses an unsupported header parameter");
  return invalidToken("it could not be verified");
}

function describe(value: unknown): string {
  const text = typeof value === "string" ? value.slice(0, 20) : String(value);
  return JSON.stringify(text);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
