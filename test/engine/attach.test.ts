import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenGrant } from "../../engine/tokens/claims.js";
import { signToken } from "../../engine/tokens/jwt.js";
import { generateSigningKey } from "../../engine/tokens/keys.js";
import { rejectsWith, suiteEngine } from "../helpers.js";

const JOIN = `ATTACH "catalog" AS catalog;
SELECT category, discount FROM catalog.promotions JOIN user_preferences AS up ON category = up.interested_category
WHERE up.user_id = 1 ORDER BY category`;

let engine: Awaited<ReturnType<typeof suiteEngine>>;

// The seed: a shared catalog that allows attach, tenant databases with their own preferences.
beforeAll(async () => {
  engine = await suiteEngine();
  engine.createGroup("shop");
  engine.createGroup("elsewhere");
  await engine.createDatabase("catalog", { group: "shop" });
  await engine.execute(
    "catalog",
    "CREATE TABLE promotions (category TEXT, discount REAL); INSERT INTO promotions VALUES ('books', 0.1), ('games', 0.25), ('music', 0.05)",
  );
  engine.updateDatabaseConfig("catalog", { allowAttach: true });
  await engine.createDatabase("private", { group: "shop" });
  await engine.execute("private", "CREATE TABLE secrets (x)");
  await engine.createDatabase("foreign", { group: "elsewhere" });
  engine.updateDatabaseConfig("foreign", { allowAttach: true });
  for (const tenant of ["tenant-a", "tenant-b"]) {
    await engine.createDatabase(tenant, { group: "shop" });
    await engine.execute(
      tenant,
      "CREATE TABLE user_preferences (user_id INTEGER, interested_category TEXT); INSERT INTO user_preferences VALUES (1, 'books'), (1, 'games'), (2, 'music')",
    );
  }
  for (let i = 0; i < 11; i++) {
    await engine.createDatabase(`shared-${i}`, { group: "shop" });
    engine.updateDatabaseConfig(`shared-${i}`, { allowAttach: true });
  }
});
afterAll(() => engine.dispose());

async function as(jwt: string, db: string, sql: string) {
  const session = engine.openSession(db, await engine.authenticate(jwt, db));
  try {
    return await session.execute(sql);
  } finally {
    session.close();
  }
}

describe("tokens and ATTACH", () => {
  it("runs the seed's cross-database query with a token that may attach the catalog", async () => {
    const { jwt } = await engine.createToken({ database: "tenant-a", attach: ["catalog"], expiration: "1h" });
    const results = await as(jwt, "tenant-a", JOIN);
    expect(results.at(-1)?.rows).toEqual([
      ["books", 0.1],
      ["games", 0.25],
    ]);
  });

  it("lets the owner attach a database that allows it, and only such", async () => {
    const [, joined] = await engine.execute("tenant-b", JOIN);
    expect(joined?.rows).toHaveLength(2);
    expect(
      await rejectsWith(engine.execute("tenant-b", 'ATTACH "private" AS p'), "PERMISSION_DENIED"),
    ).toMatch(/doesn't allow attach/);
  });

  it("refuses attach when the target disallows it, the token does not list it, or it is in another group", async () => {
    const { jwt } = await engine.createToken({ database: "tenant-a", attach: ["catalog"] });
    expect(await rejectsWith(as(jwt, "tenant-a", 'ATTACH "private" AS p'), "PERMISSION_DENIED")).toMatch(
      /doesn't allow attach/,
    );
    expect(await rejectsWith(as(jwt, "tenant-a", 'ATTACH "shared-0" AS s'), "PERMISSION_DENIED")).toMatch(
      /does not allow attaching "shared-0"/,
    );
    expect(await rejectsWith(as(jwt, "tenant-a", 'ATTACH "foreign" AS f'), "PERMISSION_DENIED")).toMatch(
      /another|group/,
    );
    const plain = await engine.createToken({ database: "tenant-a" });
    await rejectsWith(as(plain.jwt, "tenant-a", JOIN), "PERMISSION_DENIED");
    await rejectsWith(engine.createToken({ database: "tenant-a", attach: ["foreign"] }), "INVALID_ARGUMENT");
    await rejectsWith(engine.execute("tenant-a", 'ATTACH "missing" AS m'), "NOT_FOUND");
  });

  it("refuses an eleventh attach, and DETACH makes room", async () => {
    const names = Array.from({ length: 11 }, (_, i) => `shared-${i}`);
    const { jwt } = await engine.createToken({ database: "tenant-a", attach: names });
    const session = engine.openSession("tenant-a", await engine.authenticate(jwt, "tenant-a"));
    try {
      for (const name of names.slice(0, 10)) await session.execute(`ATTACH "${name}" AS "${name}"`);
      expect(await rejectsWith(session.execute('ATTACH "shared-10" AS s10'), "FAILED_PRECONDITION")).toMatch(
        /at most 10/,
      );
      await session.execute('DETACH "shared-0"');
      await session.execute('ATTACH "shared-10" AS s10');
    } finally {
      session.close();
    }
  });

  it("keeps attached databases read-only", async () => {
    const { jwt } = await engine.createToken({ database: "tenant-a", attach: ["catalog"] });
    const session = engine.openSession("tenant-a", await engine.authenticate(jwt, "tenant-a"));
    try {
      await session.execute('ATTACH "catalog" AS c');
      for (const sql of [
        "INSERT INTO c.promotions VALUES ('x', 1)",
        "UPDATE c.promotions SET discount = 0",
        "DELETE FROM c.promotions",
        "CREATE TABLE c.evil (a)",
        "INSERT INTO c.promotions SELECT * FROM c.promotions",
      ]) {
        expect(await rejectsWith(session.execute(sql), "PERMISSION_DENIED")).toMatch(/read-only/);
      }
      await session.execute("INSERT INTO user_preferences SELECT 9, category FROM c.promotions");
    } finally {
      session.close();
    }
    expect((await engine.execute("catalog", "SELECT count(*) FROM promotions"))[0]?.rows[0]?.[0]).toBe(3n);
  });

  it("refuses writes with read-only database and group tokens, but serves their reads", async () => {
    const dbToken = await engine.createToken({ database: "tenant-a", authorization: "read-only" });
    const groupToken = await engine.createToken({ group: "shop", authorization: "read-only" });
    for (const { jwt } of [dbToken, groupToken]) {
      expect(
        (await as(jwt, "tenant-a", "SELECT count(*) FROM user_preferences"))[0]?.rows[0]?.[0],
      ).toBeTypeOf("bigint");
      expect(
        await rejectsWith(as(jwt, "tenant-a", "DELETE FROM user_preferences"), "PERMISSION_DENIED"),
      ).toMatch(/read-only/);
    }
    const full = await engine.createToken({ group: "shop" });
    await as(full.jwt, "tenant-b", "INSERT INTO user_preferences VALUES (3, 'books')");
  });

  it("refuses expired, foreign, unsigned, edited and garbage tokens", async () => {
    const { jwt } = await engine.createToken({ database: "tenant-a" });
    const [header, payload] = jwt.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());

    // Signed with the group's own key (read from the catalog) an hour ago, valid for a minute.
    const catalog = new Database(path.join(engine.dir, "catalog.db"), { readonly: true });
    const row = catalog
      .prepare("SELECT k.* FROM signing_keys k JOIN groups g ON g.id = k.group_id WHERE g.name = 'shop'")
      .get() as { kid: string; public_pem: string; private_pem: string; created_at: number };
    catalog.close();
    const groupKey = {
      kid: row.kid,
      publicKeyPem: row.public_pem,
      privateKeyPem: row.private_pem,
      createdAt: row.created_at,
    };
    const grant: TokenGrant = {
      scope: { database: "tenant-a" },
      authorization: "full-access",
      expiresInSeconds: 60,
      attach: [],
    };
    const expired = await signToken(groupKey, grant, Math.floor(Date.now() / 1000) - 3600);
    expect(await rejectsWith(engine.authenticate(expired.jwt, "tenant-a"), "UNAUTHENTICATED")).toMatch(
      /expired/,
    );
    expect((await engine.authenticate((await signToken(groupKey, grant)).jwt, "tenant-a")).kind).toBe(
      "token",
    );

    // A real, unexpired token signed by a key the group never had.
    const foreign = await signToken(await generateSigningKey(), { ...grant, expiresInSeconds: null });
    await rejectsWith(engine.authenticate(foreign.jwt, "tenant-a"), "UNAUTHENTICATED");

    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`;
    await rejectsWith(engine.authenticate(none, "tenant-a"), "UNAUTHENTICATED");

    const edited = `${header}.${Buffer.from(JSON.stringify({ ...claims, p: { rw: { ns: ["tenant-b"] } } })).toString("base64url")}.${jwt.split(".")[2]}`;
    await rejectsWith(engine.authenticate(edited, "tenant-b"), "UNAUTHENTICATED");

    for (const garbage of ["", "abc", "a.b.c", `${header}.${payload}`]) {
      await rejectsWith(engine.authenticate(garbage, "tenant-a"), "UNAUTHENTICATED");
    }
  });

  it("refuses a database token on another database", async () => {
    const { jwt } = await engine.createToken({ database: "tenant-a" });
    expect(await rejectsWith(as(jwt, "tenant-b", "SELECT 1"), "PERMISSION_DENIED")).toMatch(/tenant-b/);
  });

  it("revokes one token while the group's others keep working", async () => {
    const revoked = await engine.createToken({ database: "tenant-a" });
    const kept = await engine.createToken({ database: "tenant-a" });
    engine.revokeToken(revoked.jwt);
    expect(await rejectsWith(engine.authenticate(revoked.jwt, "tenant-a"), "UNAUTHENTICATED")).toMatch(
      /revoked/,
    );
    await as(kept.jwt, "tenant-a", "SELECT 1");
    const byJti = await engine.createToken({ group: "shop" });
    engine.revokeToken(byJti.jti);
    await rejectsWith(engine.authenticate(byJti.jwt, "tenant-b"), "UNAUTHENTICATED");
    await rejectsWith(() => engine.revokeToken("not a token"), "INVALID_ARGUMENT");
  });

  it("invalidates every token of a group by rotating its key, and new tokens work", async () => {
    await engine.createDatabase("rotating", { group: "elsewhere" });
    const before = await engine.createToken({ group: "elsewhere" });
    await as(before.jwt, "rotating", "SELECT 1");
    const oldKeys = engine.publicKeys("elsewhere");
    await engine.rotateGroupKeys("elsewhere");
    expect(engine.publicKeys("elsewhere")[0]?.pem).not.toBe(oldKeys[0]?.pem);
    await rejectsWith(engine.authenticate(before.jwt, "rotating"), "UNAUTHENTICATED");
    const t0 = Math.floor(Date.now() / 1000);
    const after = await engine.createToken({ database: "rotating", expiration: "2w1d30m" });
    const t1 = Math.floor(Date.now() / 1000);
    const lifetime = 2 * 604800 + 86400 + 1800;
    expect(after.expiresAt).toBeGreaterThanOrEqual(t0 + lifetime);
    expect(after.expiresAt).toBeLessThanOrEqual(t1 + lifetime);
    await as(after.jwt, "rotating", "SELECT 1");
    // Other groups are untouched.
    const shop = await engine.createToken({ group: "shop" });
    await as(shop.jwt, "tenant-a", "SELECT 1");
  });

  it("refuses a database token on a new database that reuses the old one's name", async () => {
    await engine.createDatabase("reborn", { group: "shop" });
    const { jwt } = await engine.createToken({ database: "reborn" });
    await as(jwt, "reborn", "SELECT 1");
    engine.destroyDatabase("reborn");
    await engine.createDatabase("reborn", { group: "shop" });
    expect(await rejectsWith(engine.authenticate(jwt, "reborn"), "UNAUTHENTICATED")).toMatch(
      /earlier database/,
    );
  });

  it("publishes each group's public key as PEM", () => {
    const [key] = engine.publicKeys("shop");
    expect(key?.pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });
});
