import { randomBytes } from "node:crypto";
import type { CryptoKey } from "jose";
import { TenantDbError } from "../errors.js";

/**
 * Ed25519 signing keys. A group holds a set of them; invalidating the group's tokens rotates the set.
 * Keys travel as PEM (SPKI public, PKCS#8 private), the same format sqld's `--auth-jwt-key-file` takes,
 * so a group's public keys can be handed to a real sqld unchanged.
 */
export interface SigningKey {
  /** Short random id, written into each token's `kid` header so verification tries the right key first. */
  kid: string;
  publicKeyPem: string;
  privateKeyPem: string;
  /** Unix seconds. */
  createdAt: number;
}

/** What verification needs: a group's public half, never its private key. */
export type VerificationKey = Pick<SigningKey, "kid" | "publicKeyPem">;

export const JWT_ALGORITHM = "EdDSA";

/**
 * jose is loaded on first use: it costs more start-up time than the rest of the engine, and most CLI
 * commands never touch a token.
 */
export const loadJose = () => import("jose");

export async function generateSigningKey(nowSeconds = Math.floor(Date.now() / 1000)): Promise<SigningKey> {
  const { generateKeyPair, exportSPKI, exportPKCS8 } = await loadJose();
  const { publicKey, privateKey } = await generateKeyPair(JWT_ALGORITHM, {
    crv: "Ed25519",
    extractable: true,
  });
  return {
    kid: randomBytes(9).toString("base64url"),
    publicKeyPem: await exportSPKI(publicKey),
    privateKeyPem: await exportPKCS8(privateKey),
    createdAt: nowSeconds,
  };
}

// Parsing PEM costs far more than an Ed25519 verification, and a busy server verifies the same few keys
// over and over. Entries remember their PEM so a reused kid with different material is never confused.
const CACHE_LIMIT = 256;
const publicKeys = new Map<string, { pem: string; key: CryptoKey }>();
const privateKeys = new Map<string, { pem: string; key: CryptoKey }>();

export function importPublicKey(key: VerificationKey): Promise<CryptoKey> {
  return cachedImport(publicKeys, key.kid, key.publicKeyPem, async (pem) =>
    (await loadJose()).importSPKI(pem, JWT_ALGORITHM),
  );
}

export function importPrivateKey(key: SigningKey): Promise<CryptoKey> {
  return cachedImport(privateKeys, key.kid, key.privateKeyPem, async (pem) =>
    (await loadJose()).importPKCS8(pem, JWT_ALGORITHM),
  );
}

async function cachedImport(
  cache: Map<string, { pem: string; key: CryptoKey }>,
  kid: string,
  pem: string,
  importPem: (pem: string) => Promise<CryptoKey>,
): Promise<CryptoKey> {
  const hit = cache.get(kid);
  if (hit && hit.pem === pem) return hit.key;
  let key: CryptoKey;
  try {
    key = await importPem(pem);
  } catch {
    // Keys come from the catalog, never from a caller: a bad one is our bug, not the user's.
    throw new TenantDbError("INTERNAL", `internal error: signing key ${kid} is not a valid Ed25519 PEM key`);
  }
  // Drop the oldest entry (Maps iterate in insertion order) to keep the cache small.
  if (cache.size >= CACHE_LIMIT && !cache.has(kid)) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(kid, { pem, key });
  return key;
}
