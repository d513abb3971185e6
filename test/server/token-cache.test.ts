import { describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { createTokenCache } from "../../server/token-cache.js";
import { tempEngine } from "../helpers.js";

/**
 * The server's memory of verified tokens: kept through the catalog's commits that touch no token (a
 * migration's progress commits many times a second), dropped at the next turn by any that does — whoever
 * made it, in whichever process.
 */

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("the token cache", () => {
  it("keeps verified tokens through unrelated commits and drops them at once when a token may be stale", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("notes");
    await engine.createDatabase("scratch");
    await engine.createDatabase("app", { type: "schema" });
    await engine.migrate("app", "CREATE TABLE users (id INTEGER PRIMARY KEY)");
    const notes = (await engine.createToken({ database: "notes" })).jwt;
    const scratch = (await engine.createToken({ database: "scratch" })).jwt;
    // Another engine on the same directory: a CLI or another server making changes.
    const other = await openEngine(engine.dir);
    const cache = createTokenCache(engine);
    try {
      const onNotes = {};
      const onScratch = {};
      const caller = await cache.authenticate(notes, "notes", {
        connection: onNotes,
        authorization: `Bearer ${notes}`,
      });
      await cache.authenticate(scratch, "scratch", {
        connection: onScratch,
        authorization: `Bearer ${scratch}`,
      });
      await nextTurn();
      expect(cache.known(onNotes, `Bearer ${notes}`, "notes")).toBe(caller);

      // Commits that touch no token, through both engines: databases created, a migration job's progress.
      await other.createChildren("app", ["t1", "t2", "t3"]);
      await engine.createDatabase("more");
      await other.migrate("app", "ALTER TABLE users ADD COLUMN name TEXT");
      await nextTurn();
      expect(cache.known(onNotes, `Bearer ${notes}`, "notes")).toBe(caller);

      // A database destroyed elsewhere: every remembered answer goes, and that token fails.
      await other.destroyDatabase("scratch");
      await nextTurn();
      expect(cache.known(onScratch, `Bearer ${scratch}`, "scratch")).toBeUndefined();
      await expect(cache.authenticate(scratch, "scratch", undefined)).rejects.toMatchObject({
        code: "NOT_FOUND",
      });

      // A revocation elsewhere: the next turn no longer knows the token, and it is refused.
      await cache.authenticate(notes, "notes", { connection: onNotes, authorization: `Bearer ${notes}` });
      await nextTurn();
      expect(cache.known(onNotes, `Bearer ${notes}`, "notes")).toMatchObject({ database: "notes" });
      other.revokeToken(notes);
      await nextTurn();
      expect(cache.known(onNotes, `Bearer ${notes}`, "notes")).toBeUndefined();
      await expect(cache.authenticate(notes, "notes", undefined)).rejects.toMatchObject({
        code: "UNAUTHENTICATED",
      });

      // The group's keys rotated elsewhere: the same.
      const more = (await engine.createToken({ database: "more" })).jwt;
      const onMore = {};
      await cache.authenticate(more, "more", { connection: onMore, authorization: `Bearer ${more}` });
      await nextTurn();
      expect(cache.known(onMore, `Bearer ${more}`, "more")).toMatchObject({ database: "more" });
      await other.rotateGroupKeys("default");
      await nextTurn();
      expect(cache.known(onMore, `Bearer ${more}`, "more")).toBeUndefined();
      await expect(cache.authenticate(more, "more", undefined)).rejects.toMatchObject({
        code: "UNAUTHENTICATED",
      });
    } finally {
      other.close();
    }
  });
});
