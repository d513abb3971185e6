import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../cli/errors.js";
import { listFiles, runCli, tempDir } from "../helpers.js";
import { setUpDataDir } from "./data-dir.js";

/** Everything below a directory with a hash of its bytes, to prove that nothing in it changed. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    listFiles(dir).map((f) => [
      f,
      createHash("sha256")
        .update(fs.readFileSync(path.join(dir, f)))
        .digest("hex"),
    ]),
  );
}

describe("the CLI never loses or conjures a data directory", () => {
  it("reads on a missing directory say so and create nothing, in --data-dir and in the working directory", async () => {
    const root = tempDir();
    const missing = path.join(root, "nowhere");
    for (const args of [
      ["db", "list"],
      ["group", "list"],
      ["db", "show", "x"],
      ["api-tokens", "list"],
    ]) {
      const r = await runCli(["--data-dir", missing, ...args]);
      expect(r.code).toBe(EXIT_CODES.NOT_FOUND);
      expect(r.stderr).toMatch(/^Error: no tenantdb data directory at/);
    }
    expect(fs.existsSync(missing)).toBe(false);
    // No --data-dir: ./.tenantdb is not created by a read either.
    const cwd = path.join(root, "project");
    fs.mkdirSync(cwd);
    const r = await runCli(["db", "list"], { cwd, env: { TENANTDB_DATA_DIR: "" } });
    expect(r.code).toBe(EXIT_CODES.NOT_FOUND);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it("refuses a non-empty directory that is not a tenantdb one, for reads and writes alike, touching nothing", async () => {
    const dir = path.join(tempDir(), "project");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
    const before = snapshot(dir);
    for (const args of [
      ["db", "list"],
      ["db", "create", "x"],
      ["group", "create", "g"],
      ["demo", "--fresh"],
    ]) {
      const r = await runCli(["--data-dir", dir, ...args]);
      expect(r.code).toBe(EXIT_CODES.FAILED_PRECONDITION);
      expect(r.stderr).toMatch(/is not empty and is not a tenantdb data directory/);
    }
    expect(snapshot(dir)).toEqual(before);

    // A SQLite file that merely happens to be called catalog.db is someone else's too.
    const other = path.join(tempDir(), "other");
    fs.mkdirSync(other);
    const foreign = new Database(path.join(other, "catalog.db"));
    foreign.exec("CREATE TABLE invoices (id INTEGER); INSERT INTO invoices VALUES (1)");
    foreign.close();
    const otherBefore = snapshot(other);
    const r = await runCli(["--data-dir", other, "db", "create", "x"]);
    expect(r.code).toBe(EXIT_CODES.FAILED_PRECONDITION);
    expect(r.stderr).toMatch(/is not a tenantdb catalog/);
    expect(snapshot(other)).toEqual(otherBefore);
  });

  it("marks the catalog it creates, and takes an empty directory", async () => {
    const dir = path.join(tempDir(), "empty");
    fs.mkdirSync(dir);
    expect((await runCli(["--data-dir", dir, "db", "create", "x"])).code).toBe(0);
    const catalog = new Database(path.join(dir, "catalog.db"), { readonly: true });
    expect(catalog.pragma("application_id", { simple: true })).not.toBe(0);
    catalog.close();
    expect((await runCli(["--data-dir", dir, "db", "list"])).code).toBe(0);
  });

  it("demo --fresh in a directory holding a user's databases leaves them intact", async () => {
    const dir = path.join(tempDir(), "data");
    const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
    await setUpDataDir(dir, async (engine) => {
      engine.createGroup("default");
      await engine.createDatabase("mine", { group: "default" });
      await engine.execute("mine", "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)");
    });
    const before = snapshot(dir);
    for (const args of [["demo"], ["demo", "--fresh"]]) {
      const r = await t(...args);
      expect(r.code).toBe(EXIT_CODES.FAILED_PRECONDITION);
      expect(r.stderr).toMatch(/did not create.*directory of its own/);
    }
    // Not a byte of the user's directory changed (the catalog included).
    expect(snapshot(dir)).toEqual(before);
  });

  it("demo --fresh in its own directory removes only what the demo created", async () => {
    const root = tempDir();
    // The demo's default directory is its own, not ./.tenantdb.
    const first = await runCli(["demo"], { cwd: root, env: { TENANTDB_DATA_DIR: "" } });
    expect(first.code).toBe(0);
    expect(fs.readdirSync(root)).toEqual([".tenantdb-demo"]);
    const dir = path.join(root, ".tenantdb-demo");
    const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
    // A user explores the demo directory and makes a database of their own there.
    await t("db", "create", "mine", "--group", "demo");
    await t("db", "shell", "mine", "CREATE TABLE t (x); INSERT INTO t VALUES ('kept')");
    const acmeBefore = JSON.parse((await t("db", "show", "tenant-acme", "--json")).stdout);

    const again = await t("demo", "--fresh");
    expect(again.code).toBe(0);
    const mine = JSON.parse((await t("db", "shell", "mine", "SELECT x FROM t", "--json")).stdout);
    expect(mine[0].rows).toEqual([["kept"]]);
    // The demo's own databases were recreated: new incarnations, the old files gone.
    const acmeAfter = JSON.parse((await t("db", "show", "tenant-acme", "--json")).stdout);
    expect(acmeAfter.uuid).not.toBe(acmeBefore.uuid);
    expect(fs.existsSync(acmeBefore.path)).toBe(false);
  });
});
