import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BACKENDS,
  cli,
  type Decl,
  isSecret,
  type Plugin,
  type Props,
  type Stack,
  type Suite,
  secret,
  startSuite,
  UNKNOWN,
  urnOf,
  withEngine,
} from "./harness.js";

/**
 * Tokens and secrets: a token's JWT comes back wrapped as a secret (and an input passed as a secret stays
 * one), the token works, and deleting the resource revokes that token alone. Runs against each backend:
 * the local engine, and `tenantdb serve` through the Platform API backend.
 */

const base: Decl[] = [
  { type: "Group", name: "g", inputs: { name: "tokens" } },
  { type: "Database", name: "orders", inputs: (o) => ({ name: "orders", group: o("g").name }) },
  { type: "Database", name: "catalog", inputs: (o) => ({ name: "catalog", group: o("g").name }) },
  { type: "AttachPolicy", name: "catalog-attach", inputs: (o) => ({ database: o("catalog").name }) },
];

const dbToken: Decl = {
  type: "Token",
  name: "orders-token",
  inputs: (o) => ({ database: o("orders").name, attach: [o("catalog").name] }),
};
const groupToken: Decl = {
  type: "Token",
  name: "group-reader",
  inputs: (o) => ({ group: o("g").name, authorization: "read-only", expiration: "1h" }),
};

const jwtOf = (outputs: Props): string => {
  expect(isSecret(outputs.jwt)).toBe(true);
  return (outputs.jwt as { value: string }).value;
};

describe.each(BACKENDS)("Token ($name backend)", (backend) => {
  let plugin: Plugin;
  let stack: Stack;
  let dataDir: string;

  let suite: Suite;
  beforeAll(async () => {
    suite = await startSuite(backend, { configure: true });
    ({ plugin, dataDir, stack } = suite);
  });
  afterAll(() => suite?.stop());

  it("previews a token with an unknown secret jwt, and an expiry known only for `never`", async () => {
    const steps = await stack.preview([...base, dbToken, groupToken]);
    const [forDb, forGroup] = steps.slice(-2).map((s) => s.outputs ?? {});
    expect(forDb?.jwt).toEqual(secret(UNKNOWN));
    expect(forDb).toMatchObject({
      jti: UNKNOWN,
      expiresAt: null,
      authorization: "full-access",
      expiration: "never",
    });
    expect(forGroup).toMatchObject({ expiresAt: UNKNOWN, authorization: "read-only" });
  });

  it("returns the jwt wrapped as a secret, and the token works", async () => {
    const before = Math.floor(Date.now() / 1000);
    await stack.up([...base, dbToken, groupToken]);
    const forDb = stack.outputs("orders-token");
    const forGroup = stack.outputs("group-reader");
    expect(stack.state.get("orders-token")?.id).toBe(forDb.jti);
    expect(forDb).toMatchObject({ database: "orders", attach: ["catalog"], expiresAt: null });
    // An ISO 8601 timestamp, an hour after issue.
    expect(forGroup.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    const expiresAt = Date.parse(forGroup.expiresAt as string) / 1000;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3600);
    expect(expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
    await withEngine(dataDir, async (e) => {
      expect((await e.authenticate(jwtOf(forDb), "orders")).kind).toBe("token");
      for (const db of ["orders", "catalog"])
        expect((await e.authenticate(jwtOf(forGroup), db)).kind).toBe("token");
      // It may ATTACH catalog, whose policy allows it.
      const session = e.openSession("orders", await e.authenticate(jwtOf(forDb), "orders"));
      try {
        await session.execute('ATTACH "catalog" AS c');
      } finally {
        session.close();
      }
    });
  });

  it("deleting a Token revokes that token while another keeps working; refresh then drops it", async () => {
    const forDb = stack.outputs("orders-token");
    const forGroup = stack.outputs("group-reader");
    const steps = await stack.up([...base, groupToken]);
    expect(steps.map((s) => `${s.op} ${s.name}`)).toContain("delete orders-token");
    await withEngine(dataDir, async (e) => {
      await expect(e.authenticate(jwtOf(forDb), "orders")).rejects.toThrow(/revoked/);
      expect((await e.authenticate(jwtOf(forGroup), "orders")).kind).toBe("token");
    });

    // A refresh of the revoked token finds it gone; the live one stays, its jwt still a secret.
    const urn = urnOf("Token", "orders-token");
    expect((await plugin.read(urn, forDb.jti as string, forDb)).id).toBe("");
    const live = await plugin.read(
      urnOf("Token", "group-reader"),
      forGroup.jti as string,
      forGroup,
      stack.state.get("group-reader")?.inputs,
    );
    expect(live.id).toBe(forGroup.jti);
    expect(live.outputs.jwt).toEqual(forGroup.jwt);
    expect(live.inputs).toEqual({
      group: "tokens",
      authorization: "read-only",
      expiration: "1h",
      attach: [],
    });
  });

  it("keeps inputs passed as secrets secret, in the checked inputs and in the outputs", async () => {
    const urn = urnOf("Token", "secret-db");
    const checked = await plugin.check(urn, {}, { database: secret("orders") });
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.database).toEqual(secret("orders"));
    const created = await plugin.create(urn, checked.inputs);
    expect(created.outputs.database).toEqual(secret("orders"));
    expect(isSecret(created.outputs.jwt)).toBe(true);
    expect(created.outputs.authorization).toBe("full-access");
    await plugin.delete(urn, created.id, created.outputs);
  });

  it("replaces on any input change, and refreshes a token whose database is gone as gone", async () => {
    const t = stack.state.get("group-reader");
    if (!t) throw new Error("no token");
    const news = (
      await plugin.check(t.urn, t.inputs, { group: "tokens", authorization: "read-only", expiration: "2h" })
    ).inputs;
    const diff = await plugin.diff(t.urn, t.id, t.outputs, t.inputs, news);
    expect(diff).toMatchObject({ replaces: ["expiration"], detailedDiff: { expiration: "UPDATE_REPLACE" } });

    const urn = urnOf("Token", "doomed");
    const doomed = await plugin.create(urn, (await plugin.check(urn, {}, { database: "catalog" })).inputs);
    cli(dataDir, "db", "destroy", "catalog", "--yes");
    expect((await plugin.read(urn, doomed.id, doomed.outputs)).id).toBe("");
  });

  it("reports bad token inputs as check failures naming the property", async () => {
    const urn = urnOf("Token", "bad");
    const failures = async (news: Props) => (await plugin.check(urn, {}, news)).failures;
    expect(await failures({ database: "orders", group: "tokens" })).toEqual([
      { property: "database", reason: expect.stringMatching(/exactly one of `database`.*and `group`/) },
    ]);
    expect((await failures({}))[0]?.property).toBe("database");
    expect(await failures({ database: "orders", expiration: "1d2w" })).toEqual([
      { property: "expiration", reason: expect.stringMatching(/Invalid expiration "1d2w"/) },
    ]);
    expect(await failures({ group: "tokens", authorization: "admin" })).toEqual([
      { property: "authorization", reason: expect.stringMatching(/"full-access", "read-only"/) },
    ]);
    expect(await failures({ group: "tokens", attach: ["ok", "Not OK"] })).toEqual([
      { property: "attach[1]", reason: expect.stringMatching(/invalid database name/) },
    ]);
    // Unknown during a preview is not a failure: it is checked again once known.
    expect(await failures({ database: UNKNOWN, expiration: UNKNOWN, attach: [UNKNOWN] })).toEqual([]);
  });
});
