import { describe, expect, it } from "vitest";
import { OWNER } from "../../engine/index.js";
import type { PlainExecute } from "../../server/hrana/protocol.js";
import { createInlineReads } from "../../server/inline-reads.js";
import type { Caller } from "../../server/token-cache.js";
import { tempEngine } from "../helpers.js";

/**
 * Reads answered on the server's thread, and when a database's reads leave it for the executors: only
 * when a read costs the thread itself, not when the machine merely ran something else in the middle.
 */

async function notes() {
  const engine = await tempEngine();
  await engine.createDatabase("notes", { createGroup: true });
  await engine.execute("notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)");
  // A value whose encoding alone (base64 of 8 MB) keeps a thread busy for milliseconds.
  await engine.execute("notes", "INSERT INTO notes VALUES (1, 'short'), (2, randomblob(8000000))");
  const caller: Caller = {
    database: "notes",
    principal: OWNER,
    jwt: "",
    credential: "test",
    isSchema: false,
    expiresAt: null,
  };
  const read = (id: number): PlainExecute => ({
    sql: `SELECT body FROM notes WHERE id = ${id}`,
    args: [],
    namedArgs: [],
    wantRows: true,
  });
  return { engine, caller, read };
}

describe("inline reads", () => {
  it("keep answering a database whose read only looked slow because the thread was stalled", async () => {
    const { engine, caller, read } = await notes();
    // A clock that loses a second inside every read: a stall the read itself did not cause.
    let clock = 0;
    let calls = 0;
    const inline = createInlineReads(engine, {
      maxResponseBytes: 64 * 1024 * 1024,
      sessions: 4,
      now: () => {
        calls++;
        clock += calls % 3 === 2 ? 1000 : 0.01;
        return clock;
      },
    });
    try {
      for (let i = 0; i < 5; i++) {
        const json = inline.answer(caller, read(1));
        expect(json).toBeDefined();
        expect(JSON.parse(json as string)[0].response.result.rows).toEqual([
          [{ type: "text", value: "short" }],
        ]);
      }
    } finally {
      inline.close();
    }
  });

  it("send a database's reads to the executors once a read of it costs the thread itself too long", async () => {
    const { engine, caller, read } = await notes();
    const inline = createInlineReads(engine, { maxResponseBytes: 64 * 1024 * 1024, sessions: 4, slowMs: 1 });
    try {
      // The first slow read makes it a suspect; its next run, timed by the thread's own CPU, demotes it.
      expect(inline.answer(caller, read(2))).toBeDefined();
      expect(inline.answer(caller, read(2))).toBeDefined();
      expect(inline.answer(caller, read(2))).toBeUndefined();
      expect(inline.answer(caller, read(1))).toBeUndefined();
    } finally {
      inline.close();
    }
  });
});
