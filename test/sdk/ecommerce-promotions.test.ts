import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { startServer } from "../../server/main.js";
import { ROOT, tempDir } from "../helpers.js";
import { EXAMPLES, resolved, useProviderMocks } from "./mocks.js";

const run = promisify(execFile);

describe("examples/ecommerce-promotions", () => {
  const dataDir = path.join(tempDir("tenantdb-sdk-"), "data");
  const mocks = useProviderMocks("ecommerce-promotions", dataDir, { shoppers: ["alice", "bob"] });
  afterAll(() => mocks.close());

  it("shares the catalog through an attach policy, and the shopper's token runs the promotions query", async () => {
    const program = await import(path.join(EXAMPLES, "ecommerce-promotions", "index.ts"));
    const alice = (await resolved(program.shopperTokens.alice)) as string;
    expect(mocks.registered.map((r) => r.type)).toContain("tenantdb:index:AttachPolicy");

    const engine = await openEngine(dataDir, { recover: false });
    const server = await startServer(engine, { port: 0 });
    try {
      expect(engine.getDatabase("catalog").allowAttach).toBe(true);
      expect(engine.listDatabases({ schemaParent: "shopper-schema" }).map((d) => d.name)).toEqual([
        "shopper-alice",
        "shopper-bob",
      ]);
      // The example's own script, as its README runs it: @libsql/client against tenantdb serve.
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", path.join(EXAMPLES, "ecommerce-promotions", "query.ts")],
        {
          cwd: ROOT,
          env: { ...process.env, TENANTDB_URL: server.url, SHOPPER: "alice", TOKEN: alice },
        },
      );
      expect(stdout).toBe("books: 10% off\ngames: 25% off\n");

      // Bob's token may attach the catalog, but not Alice's database.
      const bob = (await resolved(program.shopperTokens.bob)) as string;
      await expect(
        engine.authenticate(bob, "shopper-alice").then((p) => engine.openSession("shopper-alice", p)),
      ).rejects.toMatchObject({
        code: "PERMISSION_DENIED",
      });
    } finally {
      await server.close();
      engine.close();
    }
  });
});
