import { describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { rejectsWith, tempEngine } from "../helpers.js";

/**
 * An open session re-reads its database's row only when the catalog changed: through another
 * connection (another engine, another process) or through the engine's own. Either must reach the
 * session's very next statement.
 */
describe("an open session and its database's configuration", () => {
  it("sees a change made through its own engine at its next statement", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("db");
    const session = engine.openSession("db");
    try {
      expect((await session.execute("SELECT 1"))[0]?.rows).toEqual([[1n]]);
      engine.updateDatabaseConfig("db", { blockReads: true });
      await rejectsWith(session.execute("SELECT 1"), "BLOCKED");
      engine.updateDatabaseConfig("db", { blockReads: false });
      expect((await session.execute("SELECT 1"))[0]?.rows).toEqual([[1n]]);
    } finally {
      session.close();
    }
  });

  it("sees a change made through another engine on the same directory, and a database re-created", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("db");
    const other = await openEngine(engine.dir);
    const session = engine.openSession("db");
    try {
      expect((await session.execute("SELECT 1"))[0]?.rows).toEqual([[1n]]);
      other.updateDatabaseConfig("db", { blockReads: true });
      await rejectsWith(session.execute("SELECT 1"), "BLOCKED");
      other.updateDatabaseConfig("db", { blockReads: false });
      expect((await session.execute("SELECT 1"))[0]?.rows).toEqual([[1n]]);
      other.destroyDatabase("db");
      await other.createDatabase("db");
      await rejectsWith(session.execute("SELECT 1"), "NOT_FOUND");
    } finally {
      session.close();
      other.close();
    }
  });

  it("with checks per turn, sees its own engine's change at once and another's at the next turn", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("db");
    const other = await openEngine(engine.dir);
    const session = engine.openSession("db", undefined, { catalogChecks: "turn" });
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      expect((await session.execute("SELECT 1"))[0]?.rows).toEqual([[1n]]);
      engine.updateDatabaseConfig("db", { blockReads: true });
      await rejectsWith(session.execute("SELECT 1"), "BLOCKED");
      engine.updateDatabaseConfig("db", { blockReads: false });
      expect((await session.execute("SELECT 1"))[0]?.rows).toEqual([[1n]]);
      other.updateDatabaseConfig("db", { blockReads: true });
      await nextTurn();
      await rejectsWith(session.execute("SELECT 1"), "BLOCKED");
      other.updateDatabaseConfig("db", { blockReads: false });
      await nextTurn();
      expect((await session.execute("SELECT 1"))[0]?.rows).toEqual([[1n]]);
    } finally {
      session.close();
      other.close();
    }
  });
});
