import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "../helpers.js";
import { setUpDataDir } from "./data-dir.js";

describe("tenantdb db schema", () => {
  it("plans, refuses destructive changes, applies, shows, and reports drift", async () => {
    const root = tempDir();
    const dir = path.join(root, "data");
    const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
    const file = (name: string, sql: string) => {
      const f = path.join(root, name);
      fs.writeFileSync(f, sql);
      return f;
    };
    await setUpDataDir(dir, async (engine) => {
      engine.createGroup("default");
      await engine.createDatabase("app", { group: "default", type: "schema" });
      await engine.migrate("app", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, old TEXT)");
      await engine.createChildren("app", ["t-1", "t-2"]);
      await engine.execute("t-1", "INSERT INTO users (name, old) VALUES ('ann', 'x')");
    });

    const v2 = file(
      "v2.sql",
      `CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        full_name TEXT NOT NULL DEFAULT '', -- renamed from name
        email TEXT
      );
      CREATE UNIQUE INDEX users_email ON users (email);`,
    );
    const plan = await t("db", "schema", "plan", "app", v2);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/ALTER TABLE "users" RENAME COLUMN "name" TO "full_name"/);
    expect(plan.stdout).toMatch(/destructive DS103: column "users"\."old" is dropped/);
    expect(plan.stdout).toMatch(
      /rebuild RB101: table "users".*\[copies 1 row\(s\) over 3 database\(s\), at most 1 in one\]/,
    );
    expect(plan.stdout).toMatch(/Dry run: passed on all 3 database\(s\)/);
    const json = JSON.parse((await t("--json", "db", "schema", "plan", "app", v2)).stdout);
    expect(json.lint.map((f: { code: string }) => f.code)).toEqual(
      expect.arrayContaining(["BC102", "DS103", "RB101", "MF102"]),
    );

    const refused = await t("db", "schema", "apply", "app", v2);
    expect(refused.code).toBe(5); // FAILED_PRECONDITION
    expect(refused.stderr).toMatch(/^Error: the plan is destructive/);
    const applied = await t("db", "schema", "apply", "app", v2, "--allow-destructive");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/schema version 2/);
    expect((await t("db", "schema", "apply", "app", v2)).stdout).toMatch(/nothing to do/);

    const shown = await t("db", "schema", "show", "t-1");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/"full_name" TEXT NOT NULL DEFAULT ''/);
    expect(shown.stdout).not.toMatch(/"old"/);
    const rows = JSON.parse((await t("--json", "db", "shell", "t-1", "SELECT full_name FROM users")).stdout);
    expect(rows[0].rows).toEqual([["ann"]]);

    expect((await t("db", "schema", "drift", "app")).stdout).toMatch(/No drift: 3 database\(s\)/);
    const child = JSON.parse((await t("--json", "db", "show", "t-2")).stdout);
    const db = new Database(child.path);
    db.exec("DROP INDEX users_email");
    db.close();
    const drift = await t("db", "schema", "drift", "app");
    expect(drift.code).toBe(5);
    expect(drift.stdout).toMatch(/t-2 .*drop index "users_email"/);
    expect(drift.stderr).toMatch(/1 of 3 database\(s\) drifted from app: t-2/);

    const failing = file(
      "v3.sql",
      "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL DEFAULT '', email TEXT NOT NULL)",
    );
    expect((await t("db", "shell", "t-2", "INSERT INTO users (full_name) VALUES ('bob')")).code).toBe(0);
    const fails = await t("db", "schema", "plan", "app", failing);
    expect(fails.code).toBe(5);
    expect(fails.stdout).toMatch(/Dry run: FAILED on 2 of 3/);
    expect(fails.stderr).toMatch(/t-1: .*NOT NULL constraint failed/);

    const bad = await t("db", "schema", "plan", "app", file("bad.sql", "DELETE FROM users"));
    expect(bad.code).toBe(2); // INVALID_ARGUMENT
    expect(bad.stderr).toMatch(/^Error: schema statement 1: a schema holds CREATE/);
  });
});
