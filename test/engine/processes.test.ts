import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openEngine } from "../../engine/index.js";
import { ROOT, tempDir } from "../helpers.js";

const run = promisify(execFile);

describe("several processes on one data directory", () => {
  it("lets three processes create databases at the same time: all succeed, all in the catalog and on disk, none corrupt", async () => {
    const dataDir = path.join(tempDir(), "data");
    const fixture = path.join(ROOT, "test", "fixtures", "create-many.mjs");
    const per = 40;
    await Promise.all(
      ["p1", "p2", "p3"].map((prefix) => run(process.execPath, [fixture, dataDir, prefix, String(per)])),
    );

    const engine = await openEngine(dataDir, { recover: false });
    try {
      const databases = engine.listDatabases();
      // per standard + 1 parent + per children + 5 late children, for each process.
      expect(databases).toHaveLength(3 * (per + 1 + per + 5));
      expect(engine.listGroups().map((g) => g.name)).toEqual(["default"]);
      for (const db of databases) {
        expect(fs.existsSync(db.path)).toBe(true);
        const file = new Database(db.path, { readonly: true, fileMustExist: true });
        expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
        if (db.type === "child") {
          expect(file.prepare("SELECT count(*) AS n FROM pragma_table_info('users')").get()).toEqual({
            n: 2,
          });
        }
        file.close();
      }
      const files = fs
        .readdirSync(path.join(dataDir, "dbs"), { recursive: true })
        .filter((f) => String(f).endsWith(".db"));
      expect(files).toHaveLength(databases.length);
    } finally {
      engine.close();
    }
  }, 120_000);
});
