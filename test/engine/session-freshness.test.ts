import { describe, expect, it } from "vitest";
import { type Engine, openEngine, type SessionOptions } from "../../engine/index.js";
import { rejectsWith, tempEngine } from "../helpers.js";

/**
 * An open session re-reads its database's row only when the catalog changed: through another
 * connection (another engine, another process) or through the engine's own. Either must reach the
 * session's next statement (with checks per turn, another connection's reaches it at the next turn).
 */

async function fleet(opts?: SessionOptions) {
  const engine = await tempEngine();
  engine.createGroup("default");
  await engine.createDatabase("db");
  const other = await openEngine(engine.dir);
  const session = engine.openSession("db", undefined, opts);
  const reads = async () => expect((await session.execute("SELECT 1"))[0]?.rows).toEqual([[1n]]);
  const blocked = () => rejectsWith(session.execute("SELECT 1"), "BLOCKED");
  const close = () => {
    session.close();
    other.close();
  };
  return { engine, other, session, reads, blocked, close };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** block_reads set and lifted through `by`, each seen by the session's next statement (after `wait`). */
async function toggles(
  f: Awaited<ReturnType<typeof fleet>>,
  by: Engine,
  wait: () => Promise<unknown> = async () => {},
) {
  await f.reads();
  by.updateDatabaseConfig("db", { blockReads: true });
  await wait();
  await f.blocked();
  by.updateDatabaseConfig("db", { blockReads: false });
  await wait();
  await f.reads();
}

describe("an open session and its database's configuration", () => {
  it("sees a change made through its own engine at its next statement", async () => {
    const f = await fleet();
    try {
      await toggles(f, f.engine);
    } finally {
      f.close();
    }
  });

  it("sees a change made through another engine on the same directory, and a database re-created", async () => {
    const f = await fleet();
    try {
      await toggles(f, f.other);
      f.other.destroyDatabase("db");
      await f.other.createDatabase("db");
      await rejectsWith(f.session.execute("SELECT 1"), "NOT_FOUND");
    } finally {
      f.close();
    }
  });

  it("with checks per turn, sees its own engine's change at once and another's at the next turn", async () => {
    const f = await fleet({ catalogChecks: "turn" });
    try {
      await toggles(f, f.engine);
      await toggles(f, f.other, nextTurn);
    } finally {
      f.close();
    }
  });
});
