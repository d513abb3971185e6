import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { TenantDbError } from "../../engine/errors.js";
import { permissionsFromClaims, type TokenGrant } from "../../engine/tokens/claims.js";
import { formatExpiration, MAX_EXPIRATION_SECONDS, parseExpiration } from "../../engine/tokens/expiration.js";
import { decodeTokenUnverified, signToken, verifyToken } from "../../engine/tokens/jwt.js";
import { generateSigningKey, importPrivateKey, type SigningKey } from "../../engine/tokens/keys.js";
import {
  type AccessTarget,
  canAttach,
  canRead,
  canWrite,
  type Permissions,
} from "../../engine/tokens/permissions.js";

const NOW = 1_750_000_000;
const HOUR = 3600;
const DAY = 24 * HOUR;

/** Runs `fn` and returns the TenantDbError it throws, failing the test if it throws anything else. */
async function failure(fn: () => unknown): Promise<TenantDbError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TenantDbError);
    return e as TenantDbError;
  }
  throw new Error("expected a TenantDbError, but nothing was thrown");
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const parts = (jwt: string) => {
  const [header = "", payload = "", signature = ""] = jwt.split(".");
  return { header, payload, signature };
};
const decodePart = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

describe("parseExpiration", () => {
  it.each([
    ["never", null],
    ["1s", 1],
    ["90s", 90],
    ["1m", 60],
    ["1h", HOUR],
    ["7d", 7 * DAY],
    ["1w", 7 * DAY],
    ["2w1d30m", 15 * DAY + 30 * 60],
    ["1w2d3h4m5s", 9 * DAY + 3 * HOUR + 4 * 60 + 5],
    ["1d12h", DAY + 12 * HOUR],
    ["36h", 36 * HOUR],
    ["100000s", 100_000],
    ["5200w", 5200 * 7 * DAY],
  ])("parses %j", (input, expected) => {
    expect(parseExpiration(input)).toBe(expected);
  });

  it.each([
    "",
    "0s",
    "0d",
    "-1d",
    "+1d",
    "1x",
    "1.5h",
    "d",
    "1d2w",
    "1h1d",
    "1d1d",
    " 1d",
    "1d ",
    "1 d",
    "1D",
    "Never",
    "01h",
    "1",
    "1e3s",
    "5300w",
    "99999999999999999999999s",
    "1w".repeat(100),
  ])("refuses %j with an example of a valid value", (input) => {
    let error: unknown;
    try {
      parseExpiration(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantDbError);
    expect((error as TenantDbError).code).toBe("INVALID_ARGUMENT");
    expect((error as TenantDbError).message).toMatch(/"(2w1d30m|5200w)"/);
  });

  it("accepts exactly 100 years and refuses one second more", () => {
    expect(parseExpiration(formatExpiration(MAX_EXPIRATION_SECONDS))).toBe(MAX_EXPIRATION_SECONDS);
    expect(() => formatExpiration(MAX_EXPIRATION_SECONDS + 1)).toThrow(TenantDbError);
  });

  it.each([
    [null, "never"],
    [1, "1s"],
    [90, "1m30s"],
    [7 * DAY, "1w"],
    [15 * DAY + 30 * 60, "2w1d30m"],
    [9 * DAY + 3 * HOUR + 4 * 60 + 5, "1w2d3h4m5s"],
  ])("formats %j as %j and parses it back", (seconds, text) => {
    expect(formatExpiration(seconds)).toBe(text);
    expect(parseExpiration(text)).toBe(seconds);
  });

  it.each([0, -5, 1.5, Number.NaN])("formatExpiration refuses %j", (seconds) => {
    expect(() => formatExpiration(seconds)).toThrow(TenantDbError);
  });
});

describe("signing keys", () => {
  it("generates distinct Ed25519 keys in PEM with short ids", async () => {
    const [a, b] = await Promise.all([generateSigningKey(NOW), generateSigningKey(NOW)]);
    expect(a.kid).toMatch(/^[A-Za-z0-9_-]{8,16}$/);
    expect(a.kid).not.toBe(b.kid);
    expect(a.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(a.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(a.createdAt).toBe(NOW);
  });

  it("reports a corrupt stored key as an internal error without its contents", async () => {
    const key = await generateSigningKey();
    const error = await failure(() =>
      importPrivateKey({ ...key, kid: "corrupt", privateKeyPem: "not a key" }),
    );
    expect(error.code).toBe("INTERNAL");
    expect(error.message).not.toContain("not a key");
  });
});

describe("tokens", () => {
  let key: SigningKey;
  let otherKey: SigningKey;
  beforeAll(async () => {
    [key, otherKey] = await Promise.all([generateSigningKey(), generateSigningKey()]);
  });

  const dbGrant = (over: Partial<TokenGrant> = {}): TokenGrant => ({
    scope: { database: "acme" },
    authorization: "full-access",
    expiresInSeconds: DAY,
    attach: [],
    ...over,
  });

  /** Signs an arbitrary payload with `key`, as another issuer (or an older version of ours) might. */
  const signRaw = async (payload: Record<string, unknown>, signer = key) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: "EdDSA", kid: signer.kid })
      .sign(await importPrivateKey(signer));

  const expectInvalid = async (jwt: string, reason?: RegExp) => {
    const error = await failure(() => verifyToken(jwt, [key], NOW));
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.message).toMatch(/^The JWT is invalid: /);
    if (reason) expect(error.message).toMatch(reason);
    // Never echo the credential back.
    if (jwt.length > 10) expect(error.message).not.toContain(jwt);
    return error;
  };

  describe("sign and verify", () => {
    it("round-trips a database token with sqld-compatible claims", async () => {
      const signed = await signToken(key, dbGrant(), NOW);
      expect(signed.expiresAt).toBe(NOW + DAY);

      const header = decodePart(parts(signed.jwt).header);
      expect(header).toEqual({ alg: "EdDSA", typ: "JWT", kid: key.kid });
      const payload = decodePart(parts(signed.jwt).payload);
      expect(payload).toEqual({
        iat: NOW,
        exp: NOW + DAY,
        jti: signed.jti,
        p: { rw: { ns: ["acme"] } },
        id: "acme",
        a: "rw",
      });

      const verified = await verifyToken(signed.jwt, [key], NOW + 10);
      expect(verified).toEqual({
        database: { name: "acme", id: null },
        jti: signed.jti,
        issuedAt: NOW,
        expiresAt: NOW + DAY,
        permissions: { kind: "authorized", grants: { rw: { ns: ["acme"], tags: [] } } },
      });
    });

    it("omits exp for tokens that never expire and accepts them far in the future", async () => {
      const signed = await signToken(key, dbGrant({ expiresInSeconds: null }), NOW);
      expect(signed.expiresAt).toBeNull();
      expect(decodePart(parts(signed.jwt).payload)).not.toHaveProperty("exp");
      const verified = await verifyToken(signed.jwt, [key], NOW + 50 * 365 * DAY);
      expect(verified.expiresAt).toBeNull();
    });

    it("writes group tokens with tags, gid and no id", async () => {
      const signed = await signToken(
        key,
        {
          scope: { group: "eu" },
          authorization: "read-only",
          expiresInSeconds: null,
          attach: ["shared", "shared"],
        },
        NOW,
      );
      const payload = decodePart(parts(signed.jwt).payload);
      expect(payload).toMatchObject({
        p: { ro: { tags: ["eu"] }, roa: { ns: ["shared"] } },
        gid: "eu",
        a: "ro",
      });
      expect(payload).not.toHaveProperty("id");
    });

    it("gives each token its own jti", async () => {
      const [a, b] = await Promise.all([signToken(key, dbGrant(), NOW), signToken(key, dbGrant(), NOW)]);
      expect(a.jti).not.toBe(b.jti);
    });

    it("tries the key named by kid first but accepts any current key", async () => {
      const signed = await signToken(key, dbGrant(), NOW);
      await expect(verifyToken(signed.jwt, [otherKey, key], NOW)).resolves.toMatchObject({ jti: signed.jti });
      const noKid = await new SignJWT({ id: "acme" })
        .setProtectedHeader({ alg: "EdDSA" })
        .sign(await importPrivateKey(key));
      await expect(verifyToken(noKid, [otherKey, key], NOW)).resolves.toMatchObject({
        jti: null,
        issuedAt: null,
      });
    });

    it("tolerates a little clock skew on iat", async () => {
      const signed = await signToken(key, dbGrant(), NOW + 30);
      await expect(verifyToken(signed.jwt, [key], NOW)).resolves.toMatchObject({ issuedAt: NOW + 30 });
    });

    it.each([
      [{ scope: { database: "" } }, /scope/],
      [{ scope: {} as { group: string } }, /scope/],
      [{ authorization: "admin" as "full-access" }, /authorization/],
      [{ expiresInSeconds: 0 }, /expiration/],
      [{ expiresInSeconds: 1.5 }, /expiration/],
      [{ attach: [""] }, /attach/],
    ])("refuses to sign a malformed grant %j", async (over, reason) => {
      const error = await failure(() => signToken(key, dbGrant(over), NOW));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toMatch(reason);
    });
  });

  describe("refusals", () => {
    it("refuses an expired token", async () => {
      const signed = await signToken(key, dbGrant({ expiresInSeconds: 60 }), NOW - 120);
      const error = await failure(() => verifyToken(signed.jwt, [key], NOW));
      expect(error.code).toBe("UNAUTHENTICATED");
      expect(error.message).toBe("The JWT has expired");
    });

    it("refuses a token at the exact second it expires", async () => {
      const signed = await signToken(key, dbGrant({ expiresInSeconds: 60 }), NOW - 60);
      expect((await failure(() => verifyToken(signed.jwt, [key], NOW))).message).toBe("The JWT has expired");
    });

    it("refuses a token signed by another key", async () => {
      const signed = await signToken(otherKey, dbGrant(), NOW);
      await expectInvalid(signed.jwt, /signature/);
    });

    it("refuses a token when the group has no keys", async () => {
      const signed = await signToken(key, dbGrant(), NOW);
      const error = await failure(() => verifyToken(signed.jwt, [], NOW));
      expect(error.message).toMatch(/^The JWT is invalid: .*no signing keys/);
    });

    it("refuses alg none", async () => {
      const forged = `${b64({ alg: "none" })}.${b64({ p: { rw: { tags: ["eu"] } }, iat: NOW })}.`;
      await expectInvalid(forged, /"none" is not accepted/);
      const withTyp = `${b64({ alg: "none", typ: "JWT", kid: key.kid })}.${b64({ id: "acme" })}.`;
      await expectInvalid(withTyp, /"none"/);
    });

    it("refuses HS256, even keyed with the public key", async () => {
      const secret = new TextEncoder().encode(key.publicKeyPem);
      const hs = await new SignJWT({ p: { rw: { ns: ["acme"] } } })
        .setProtectedHeader({ alg: "HS256", kid: key.kid })
        .sign(secret);
      await expectInvalid(hs, /"HS256" is not accepted/);
    });

    it("refuses a token whose header names no algorithm", async () => {
      const signed = await signToken(key, dbGrant(), NOW);
      const { payload, signature } = parts(signed.jwt);
      await expectInvalid(`${b64({ typ: "JWT" })}.${payload}.${signature}`, /algorithm/);
    });

    it("refuses a payload edited after signing", async () => {
      const signed = await signToken(key, dbGrant({ authorization: "read-only" }), NOW);
      const { header, payload, signature } = parts(signed.jwt);
      const claims = decodePart(payload);
      claims.p = { rw: { ns: ["acme"] } };
      claims.a = "rw";
      await expectInvalid(`${header}.${b64(claims)}.${signature}`, /signature/);
    });

    it("refuses a header edited after signing", async () => {
      const signed = await signToken(key, dbGrant(), NOW);
      const { payload, signature } = parts(signed.jwt);
      await expectInvalid(
        `${b64({ alg: "EdDSA", kid: "someone-else" })}.${payload}.${signature}`,
        /signature/,
      );
    });

    it("refuses a token issued in the future", async () => {
      const signed = await signToken(key, dbGrant(), NOW + 120);
      await expectInvalid(signed.jwt, /issued in the future/);
    });

    it("refuses a token that is not valid yet", async () => {
      await expectInvalid(await signRaw({ nbf: NOW + 3600 }), /not valid yet/);
    });

    it.each([
      "",
      "garbage",
      "a.b",
      "a.b.c",
      "a.b.c.d.e",
      "...",
      "Bearer x.y.z",
      `${b64({ alg: "EdDSA" })}.not-json.c2ln`,
      `${b64([1, 2])}.${b64({})}.c2ln`,
      `${"x".repeat(20_000)}.y.z`,
    ])("refuses garbage %#", async (garbage) => {
      await expectInvalid(garbage);
    });

    it("refuses a signed payload that is not an object", async () => {
      const { header } = parts(await signToken(key, dbGrant(), NOW).then((s) => s.jwt));
      await expectInvalid(`${header}.${Buffer.from("[1]").toString("base64url")}.c2ln`);
    });

    it.each([
      [{ p: "all" }, /"p"/],
      [{ p: { rw: ["acme"] } }, /p\.rw/],
      [{ p: { rw: { ns: "acme" } } }, /p\.rw\.ns/],
      [{ p: { roa: { tags: [1] } } }, /p\.roa\.tags/],
      [{ a: "admin" }, /"a"/],
      [{ id: 42 }, /"id"/],
      [{ exp: "tomorrow" }, /"exp"/],
      [{ jti: 7 }, /"jti"/],
    ])("refuses malformed claims %j signed by a valid key", async (claims, reason) => {
      await expectInvalid(await signRaw(claims), reason);
    });
  });

  describe("decodeTokenUnverified", () => {
    it("returns routing hints", async () => {
      const signed = await signToken(key, { ...dbGrant(), scope: { group: "eu" } }, NOW);
      expect(decodeTokenUnverified(signed.jwt)).toEqual({
        kid: key.kid,
        jti: signed.jti,
        gid: "eu",
        id: null,
      });
      const db = await signToken(key, dbGrant(), NOW);
      expect(decodeTokenUnverified(db.jwt)).toMatchObject({ gid: null, id: "acme" });
    });

    it("does not check signatures but refuses garbage", async () => {
      const forged = `${b64({ alg: "none" })}.${b64({ gid: 5, id: "acme" })}.`;
      expect(decodeTokenUnverified(forged)).toEqual({ kid: null, jti: null, gid: null, id: "acme" });
      const error = await failure(() => decodeTokenUnverified("garbage"));
      expect(error.code).toBe("UNAUTHENTICATED");
    });
  });

  describe("permissions", () => {
    const acme: AccessTarget = { database: "acme", group: "eu" };
    const globex: AccessTarget = { database: "globex", group: "eu" };
    const SHARED_ID = "0b5e7c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b";
    const shared: AccessTarget = { database: "shared", group: "eu", id: SHARED_ID };
    const elsewhere: AccessTarget = { database: "initech", group: "us" };
    const rights = (p: Permissions, t: AccessTarget) => ({
      read: canRead(p, t),
      write: canWrite(p, t),
      attach: canAttach(p, t),
    });
    const NONE = { read: false, write: false, attach: false };
    const permissionsOf = async (grant: TokenGrant) =>
      (await verifyToken((await signToken(key, grant, NOW)).jwt, [key], NOW)).permissions;

    it("full-access database token: read and write that database only", async () => {
      const p = await permissionsOf(dbGrant());
      expect(rights(p, acme)).toEqual({ read: true, write: true, attach: false });
      expect(rights(p, globex)).toEqual(NONE);
    });

    it("read-only database token: read only", async () => {
      const p = await permissionsOf(dbGrant({ authorization: "read-only" }));
      expect(rights(p, acme)).toEqual({ read: true, write: false, attach: false });
      expect(rights(p, globex)).toEqual(NONE);
    });

    it("group token: every database of the group, none elsewhere", async () => {
      const rw = await permissionsOf(dbGrant({ scope: { group: "eu" } }));
      expect(rights(rw, acme)).toEqual({ read: true, write: true, attach: false });
      expect(rights(rw, globex)).toEqual({ read: true, write: true, attach: false });
      expect(rights(rw, elsewhere)).toEqual(NONE);
      const ro = await permissionsOf(dbGrant({ scope: { group: "eu" }, authorization: "read-only" }));
      expect(rights(ro, globex)).toEqual({ read: true, write: false, attach: false });
    });

    it("attach list grants attach (and read) on the listed databases only, by id", async () => {
      const p = await permissionsOf(dbGrant({ attach: [SHARED_ID] }));
      expect(rights(p, acme)).toEqual({ read: true, write: true, attach: false });
      expect(rights(p, shared)).toEqual({ read: true, write: false, attach: true });
      expect(rights(p, globex)).toEqual(NONE);
      // A database created later under the same name has another id: nothing.
      expect(rights(p, { ...shared, id: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a" })).toEqual(NONE);
    });

    it("never grants attach by name: a re-created database would inherit it", async () => {
      const p = permissionsFromClaims({ p: { roa: { ns: ["shared"] } } });
      expect(canAttach(p, shared)).toBe(false);
    });

    it("rwa and ddl follow sqld: rwa writes and attaches, ddl writes", () => {
      const p = permissionsFromClaims({ p: { rwa: { ns: [SHARED_ID] }, ddl: { ns: ["acme"] } } });
      expect(rights(p, shared)).toEqual({ read: true, write: true, attach: true });
      expect(rights(p, acme)).toEqual({ read: true, write: true, attach: false });
    });

    it("ignores id and a when p is present", async () => {
      const p = (
        await verifyToken(await signRaw({ p: { ro: { ns: ["acme"] } }, id: "globex", a: "rw" }), [key], NOW)
      ).permissions;
      expect(rights(p, acme)).toEqual({ read: true, write: false, attach: false });
      expect(rights(p, globex)).toEqual(NONE);
    });

    describe("legacy tokens (no p)", () => {
      const legacy = async (claims: Record<string, unknown>) =>
        (await verifyToken(await signRaw(claims), [key], NOW)).permissions;

      it("id + a=rw: read and write one database, no attach", async () => {
        const p = await legacy({ id: "acme", a: "rw" });
        expect(p).toEqual({ kind: "legacy", database: "acme", access: "rw" });
        expect(rights(p, acme)).toEqual({ read: true, write: true, attach: false });
        expect(rights(p, globex)).toEqual(NONE);
      });

      it("id + a=ro: read only", async () => {
        expect(rights(await legacy({ id: "acme", a: "ro" }), acme)).toEqual({
          read: true,
          write: false,
          attach: false,
        });
      });

      it("a=roa: read and attach, no write", async () => {
        expect(rights(await legacy({ id: "shared", a: "roa" }), shared)).toEqual({
          read: true,
          write: false,
          attach: true,
        });
      });

      it("Turso's plain group token ({gid, iat}): read-write on every database of the signing group", async () => {
        const p = await legacy({ gid: "eu", iat: NOW });
        expect(p).toEqual({ kind: "legacy", database: null, access: "rw" });
        expect(rights(p, acme)).toEqual({ read: true, write: true, attach: false });
        expect(rights(p, globex)).toEqual({ read: true, write: true, attach: false });
      });
    });
  });
});
