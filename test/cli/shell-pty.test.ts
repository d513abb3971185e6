import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "../helpers.js";
import { runCliInPty } from "./pty.js";

const PROMPT = "tenantdb> ";

describe("the interactive shell, driven through a pseudo-terminal", () => {
  it("keeps going after Ctrl-C, continues lines, runs dot-commands, and keeps a history", async () => {
    const root = tempDir();
    const dir = path.join(root, "data");
    const history = path.join(root, "history");
    await runCli(["--data-dir", dir, "db", "create", "x"]);
    const r = await runCliInPty(
      ["--data-dir", dir, "db", "shell", "x"],
      [
        { waitFor: PROMPT },
        { send: "SELECT 'dropped'" }, // typed, then cancelled
        { send: "\x03" },
        { waitFor: PROMPT },
        { send: "\x03" }, // at an empty prompt: the shell stays
        { waitFor: PROMPT },
        { send: "SELECT 40 +\r" },
        { waitFor: "...> " },
        { send: "2 AS answer;\r" },
        { waitFor: "42" },
        { send: ".mode line\r" },
        { waitFor: PROMPT },
        { send: "SELECT 'still here' AS state;\r" },
        { waitFor: "state = still here" },
        { send: ".quit\r" },
      ],
      { env: { TENANTDB_HISTORY: history } },
    );
    expect(r.missing).toBeNull();
    expect(r.code).toBe(0);
    expect(r.output).not.toMatch(/dropped\r?\n[^\n]*dropped/); // never ran
    expect(r.output).not.toMatch(/Error/);
    const saved = fs.readFileSync(history, "utf8").split("\n");
    expect(saved).toEqual(expect.arrayContaining(["SELECT 40 +", "2 AS answer;", ".mode line"]));
    expect(saved).not.toContain("SELECT 'dropped'");

    // The next session starts with it: Up recalls the last line.
    const again = await runCliInPty(
      ["--data-dir", dir, "db", "shell", "x"],
      [{ waitFor: PROMPT }, { send: "\x1b[A" }, { waitFor: ".quit" }, { send: "\r" }],
      { env: { TENANTDB_HISTORY: history } },
    );
    expect(again.missing).toBeNull();
    expect(again.code).toBe(0);
  });

  it("survives Ctrl-C during a migration, which still finishes all or none", async () => {
    const dir = path.join(tempDir(), "data");
    const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
    await t("db", "create", "app", "--type", "schema");
    await t("db", "shell", "app", "CREATE TABLE users (id INTEGER PRIMARY KEY)");
    await t("db", "create", ...Array.from({ length: 20 }, (_, i) => `c${i}`), "--schema", "app");
    const r = await runCliInPty(
      ["--data-dir", dir, "db", "shell", "app"],
      [
        { waitFor: PROMPT },
        { send: "ALTER TABLE users ADD COLUMN email TEXT;\r" },
        { send: "\x03" },
        { waitFor: "Migrated app and 20 child databases to schema version 2" },
        { waitFor: PROMPT },
        { send: "SELECT count(*) AS n FROM pragma_table_info('users');\r" },
        { waitFor: "\n2" },
        { send: ".quit\r" },
      ],
    );
    expect(r.missing).toBeNull();
    expect(r.code).toBe(0);
    const children = JSON.parse((await t("db", "list", "--schema", "app", "--json")).stdout);
    expect(new Set(children.map((d: { schemaVersion: number }) => d.schemaVersion))).toEqual(new Set([2]));
  });

  it("asks before destroying on a terminal, and destroys only on yes", async () => {
    const dir = path.join(tempDir(), "data");
    await runCli(["--data-dir", dir, "db", "create", "keep"]);
    const no = await runCliInPty(
      ["--data-dir", dir, "db", "destroy", "keep"],
      [{ waitFor: "[y/N] " }, { send: "n\r" }, { waitFor: "Nothing destroyed." }],
    );
    expect(no.missing).toBeNull();
    expect((await runCli(["--data-dir", dir, "db", "show", "keep"])).code).toBe(0);
    const yes = await runCliInPty(
      ["--data-dir", dir, "db", "destroy", "keep"],
      [{ waitFor: "[y/N] " }, { send: "y\r" }, { waitFor: "Destroyed database keep." }],
    );
    expect(yes.missing).toBeNull();
    expect(yes.code).toBe(0);
    expect((await runCli(["--data-dir", dir, "db", "show", "keep"])).code).not.toBe(0);
  });
});
