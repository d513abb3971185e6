import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { tempDir } from "../helpers.js";
import { EXAMPLES, resolved, useProviderMocks } from "./mocks.js";

describe("examples/saas-tenants", () => {
  const dataDir = path.join(tempDir("tenantdb-sdk-"), "data");
  const mocks = useProviderMocks("saas-tenants", dataDir, { tenants: ["acme", "globex", "initech"] });
  afterAll(() => mocks.close());

  it("creates the group, the schema database with its migrations, a tenant per customer and a read-only token each", async () => {
    const program = await import(path.join(EXAMPLES, "saas-tenants", "index.ts"));
    const { migrations } = await import(path.join(EXAMPLES, "saas-tenants", "migrations.ts"));
    expect(await resolved(program.schemaVersion)).toBe(migrations.length);
    expect(await resolved(program.tenantCount)).toBe(0); // counted when the schema database was created, before its tenants
    const tokens = (await Promise.all(
      Object.entries(program.tenantTokens).map(async ([tenant, jwt]) => [
        tenant,
        await resolved(jwt as never),
      ]),
    )) as [string, string][];
    expect(tokens.map(([t]) => t)).toEqual(["acme", "globex", "initech"]);

    const types = mocks.registered.map((r) => r.type);
    expect(types.filter((t) => t === "tenantdb:index:Database")).toHaveLength(3);
    expect(types.filter((t) => t === "tenantdb:index:Token")).toHaveLength(3);

    const engine = await openEngine(dataDir, { recover: false });
    try {
      expect(engine.listGroups().map((g) => g.name)).toEqual(["saas"]);
      const tenants = engine.listDatabases({ schemaParent: "app-schema" });
      expect(tenants.map((d) => d.name)).toEqual(["tenant-acme", "tenant-globex", "tenant-initech"]);
      for (const db of tenants) {
        expect(db.schemaVersion).toBe(migrations.length);
        const [cols] = await engine.execute(db.name, "SELECT name FROM pragma_table_info('invoices')");
        expect(cols?.rows.map((r) => r[0])).toEqual(["id", "user_id", "amount_cents", "issued_at"]);
      }
      // Each token reads its own tenant, and only reads.
      for (const [tenant, jwt] of tokens) {
        const principal = await engine.authenticate(jwt, `tenant-${tenant}`);
        const session = engine.openSession(`tenant-${tenant}`, principal);
        await session.execute("SELECT count(*) FROM users");
        await expect(session.execute("DELETE FROM users")).rejects.toMatchObject({
          code: "PERMISSION_DENIED",
        });
        session.close();
        await expect(
          engine
            .authenticate(jwt, tenant === "acme" ? "tenant-globex" : "tenant-acme")
            .then((p) => engine.openSession(tenant === "acme" ? "tenant-globex" : "tenant-acme", p)),
        ).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
      }
      // DDL sent to a tenant is still refused: the schema belongs to app-schema.
      await expect(engine.execute("tenant-acme", "CREATE TABLE x (a)")).rejects.toMatchObject({
        code: "BLOCKED",
      });
    } finally {
      engine.close();
    }
  });
});
