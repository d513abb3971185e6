import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Harness, rejection, startHarness } from "./harness.js";

/**
 * A lock held elsewhere (another process's open transaction, here another connection) must cost one
 * request a quick, retryable busy error — never a stall of the whole server, whose SQLite calls run on
 * its one thread.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  h.engine.createGroup("default");
  await h.engine.createDatabase("locked", { group: "default" });
  await h.engine.createDatabase("free", { group: "default" });
  await h.engine.execute("locked", "CREATE TABLE t (x)");
  await h.engine.execute("free", "CREATE TABLE t (x)");
});
afterAll(() => h.close());

it("answers a write on a database locked by someone else with SQLITE_BUSY, and keeps serving the rest", async () => {
  const locked = h.libsql("locked", (await h.engine.createToken({ database: "locked" })).jwt);
  const free = h.libsql("free", (await h.engine.createToken({ database: "free" })).jwt);
  const holder = new Database(h.engine.getDatabase("locked").path);
  holder.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES ('held')");
  try {
    const busy = await rejection(locked.execute("INSERT INTO t VALUES (1)"));
    expect(busy.code).toBe("SQLITE_BUSY");
    await free.execute("INSERT INTO t VALUES (1)");
    expect(Number((await free.execute("SELECT count(*) AS n FROM t")).rows[0]?.n)).toBe(1);
  } finally {
    holder.exec("ROLLBACK");
    holder.close();
  }
  await locked.execute("INSERT INTO t VALUES (2)");
  expect((await locked.execute("SELECT x FROM t")).rows.map((r) => Number(r.x))).toEqual([2]);
});
