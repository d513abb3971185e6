import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LibsqlDialect } from "@libsql/kysely-libsql";
import { connect } from "@tursodatabase/serverless";
import { drizzle } from "drizzle-orm/libsql";
import { migrate as drizzleMigrate } from "drizzle-orm/libsql/migrator";
import { Kysely, type Migration, Migrator, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type Harness, rejection, startHarness } from "./harness.js";

/**
 * The migration tools people already use, unchanged, driving a fleet through a schema database: each
 * tool's transaction (or batch) becomes one job over the parent and every child, all or none, and the
 * tool's own history table lives in every database alike.
 */

let h: Harness;
const tenants = ["t-1", "t-2", "t-3"];

async function fleet(parent: string): Promise<string[]> {
  await h.engine.createDatabase(parent, { group: "default", type: "schema" });
  const children = tenants.map((t) => `${parent}-${t}`);
  await h.engine.createChildren(parent, children);
  return [parent, ...children];
}

const token = async (database: string) => (await h.engine.createToken({ database })).jwt;

async function rowsOf(database: string, query: string): Promise<unknown[][]> {
  const [r] = await h.engine.execute(database, query);
  return r?.rows ?? [];
}

const tablesOf = async (database: string) =>
  (
    await rowsOf(
      database,
      "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' AND name != '_tenantdb_' ORDER BY name",
    )
  ).map((r) => String(r[0]));

beforeAll(async () => {
  h = await startHarness();
  h.engine.createGroup("default");
});

afterAll(() => h.close());

describe("drizzle's migrator", () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-drizzle-"));
  const entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[] = [];
  const addMigration = (tag: string, statements: string[]) => {
    entries.push({
      idx: entries.length,
      version: "6",
      when: 1_700_000_000_000 + entries.length,
      tag,
      breakpoints: true,
    });
    fs.mkdirSync(path.join(folder, "meta"), { recursive: true });
    fs.writeFileSync(path.join(folder, `${tag}.sql`), statements.join("\n--> statement-breakpoint\n"));
    fs.writeFileSync(
      path.join(folder, "meta", "_journal.json"),
      JSON.stringify({ version: "7", dialect: "sqlite", entries }),
    );
  };
  afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

  it("applies a drizzle-kit folder to every database, once; a failing migration leaves nothing; a fixed one applies", async () => {
    const all = await fleet("drizzle-app");
    const client = h.libsql("drizzle-app", await token("drizzle-app"));
    const db = drizzle(client);
    addMigration("0000_init", [
      "CREATE TABLE `accounts` (`id` integer PRIMARY KEY NOT NULL, `email` text NOT NULL);",
      "CREATE INDEX `accounts_email_idx` ON `accounts` (`email`);",
    ]);
    addMigration("0001_plans", ["ALTER TABLE `accounts` ADD `plan` text DEFAULT 'free';"]);
    await drizzleMigrate(db, { migrationsFolder: folder });

    for (const name of all) {
      expect(await tablesOf(name)).toEqual(["__drizzle_migrations", "accounts", "accounts_email_idx"]);
      expect(await rowsOf(name, "SELECT count(*) FROM __drizzle_migrations")).toEqual([[2n]]);
      expect((await rowsOf(name, "SELECT name FROM pragma_table_info('accounts')")).flat()).toContain("plan");
    }
    const jobs = h.engine.listJobs("drizzle-app").length;
    await drizzleMigrate(db, { migrationsFolder: folder });
    expect(h.engine.listJobs("drizzle-app").length).toBe(jobs);

    // A third migration that one tenant's data refuses.
    await h.engine.execute("drizzle-app-t-2", "INSERT INTO accounts (email) VALUES ('dup@x'), ('dup@x')");
    addMigration("0002_unique", [
      "CREATE TABLE `invoices` (`id` integer PRIMARY KEY NOT NULL);",
      "CREATE UNIQUE INDEX `accounts_email_unique` ON `accounts` (`email`);",
    ]);
    const failure = await rejection(drizzleMigrate(db, { migrationsFolder: folder }));
    expect(failure.message).toMatch(/drizzle-app-t-2/);
    for (const name of all) {
      expect(await tablesOf(name)).not.toContain("invoices");
      expect(await rowsOf(name, "SELECT count(*) FROM __drizzle_migrations")).toEqual([[2n]]);
    }

    await h.engine.execute(
      "drizzle-app-t-2",
      "DELETE FROM accounts WHERE rowid = (SELECT max(rowid) FROM accounts)",
    );
    await drizzleMigrate(db, { migrationsFolder: folder });
    for (const name of all) {
      expect(await tablesOf(name)).toContain("invoices");
      expect(await rowsOf(name, "SELECT count(*) FROM __drizzle_migrations")).toEqual([[3n]]);
    }
  });
});

describe("@libsql/client's migrate()", () => {
  it("runs a list with a parameterised statement as one job, all or none", async () => {
    const all = await fleet("libsql-app");
    const client = h.libsql("libsql-app", await token("libsql-app"));
    const jobs = h.engine.listJobs("libsql-app").length;
    await client.migrate([
      "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)",
      { sql: "INSERT INTO settings VALUES (?, ?)", args: ["theme", "dark"] },
    ]);
    expect(h.engine.listJobs("libsql-app").length).toBe(jobs + 1);
    for (const name of all) expect(await rowsOf(name, "SELECT * FROM settings")).toEqual([["theme", "dark"]]);

    await h.engine.execute("libsql-app-t-3", "INSERT INTO settings VALUES ('locale', 'fr')");
    const failure = await rejection(
      client.migrate([
        "ALTER TABLE settings ADD COLUMN scope TEXT",
        { sql: "INSERT INTO settings (key, value) VALUES (?, ?)", args: ["locale", "en"] },
      ]),
    );
    expect(failure.message).toMatch(/libsql-app-t-3/);
    for (const name of all) {
      expect((await rowsOf(name, "SELECT name FROM pragma_table_info('settings')")).flat()).toEqual([
        "key",
        "value",
      ]);
      expect(await rowsOf(name, "SELECT count(*) FROM settings WHERE value = 'en'")).toEqual([[0n]]);
    }
    expect(h.engine.listJobs("libsql-app").filter((j) => j.state === "succeeded").length).toBe(jobs + 1);

    // The tenant's data fixed, the same list runs, on every database alike.
    await h.engine.execute("libsql-app-t-3", "DELETE FROM settings WHERE key = 'locale'");
    await client.migrate([
      "ALTER TABLE settings ADD COLUMN scope TEXT",
      { sql: "INSERT INTO settings (key, value) VALUES (?, ?)", args: ["locale", "en"] },
    ]);
    for (const name of all) {
      expect(await rowsOf(name, "SELECT key, value, scope FROM settings ORDER BY key")).toEqual([
        ["locale", "en", null],
        ["theme", "dark", null],
      ]);
    }
  });
});

describe("goose's bookkeeping (its sqlite3 statements, as its Go driver sends them in transactions)", () => {
  it("keeps goose_db_version, AUTOINCREMENT and all, alike in every database, one job per migration", async () => {
    const all = await fleet("goose-app");
    const client = h.libsql("goose-app", await token("goose-app"));
    const inTransaction = async (statements: { sql: string; args?: (string | number)[] }[]) => {
      const tx = await client.transaction("write");
      try {
        for (const s of statements) await tx.execute({ sql: s.sql, args: s.args ?? [] });
        await tx.commit();
      } finally {
        tx.close();
      }
    };
    const versions = "SELECT version_id, is_applied FROM goose_db_version ORDER BY id DESC";
    // EnsureDBVersion: the history is missing, so goose creates it and records version 0.
    expect((await rejection(client.execute(versions))).message).toMatch(/no such table/);
    await inTransaction([
      {
        sql: `CREATE TABLE goose_db_version (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                version_id INTEGER NOT NULL,
                is_applied INTEGER NOT NULL,
                tstamp TIMESTAMP DEFAULT (datetime('now'))
            );`,
      },
      { sql: "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?);", args: [0, 1] },
    ]);
    const jobs = h.engine.listJobs("goose-app").length;
    await inTransaction([
      { sql: "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL NOT NULL)" },
      {
        sql: "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?);",
        args: [20240101120000, 1],
      },
    ]);
    expect(h.engine.listJobs("goose-app").length).toBe(jobs + 1);
    expect((await client.execute(versions)).rows.map((r) => [r.version_id, r.is_applied])).toEqual([
      [20240101120000n, 1n],
      [0n, 1n],
    ]);
    for (const name of all) {
      expect(await rowsOf(name, versions)).toEqual([
        [20240101120000n, 1n],
        [0n, 1n],
      ]);
      expect(await rowsOf(name, "SELECT count(*) FROM goose_db_version WHERE tstamp IS NULL")).toEqual([
        [0n],
      ]);
      expect(await rowsOf(name, "SELECT name, seq FROM sqlite_sequence")).toEqual([["goose_db_version", 2n]]);
      expect(await tablesOf(name)).toContain("orders");
    }
  });
});

describe("Kysely's Migrator", () => {
  it("migrates to latest on every database, is a no-op the second time, and a failing migration leaves nothing", async () => {
    const all = await fleet("kysely-app");
    const db = new Kysely<unknown>({
      dialect: new LibsqlDialect({ url: h.dbUrl("kysely-app"), authToken: await token("kysely-app") }),
    });
    const migrations: Record<string, Migration> = {
      "0001_people": {
        up: async (k) => {
          await k.schema
            .createTable("people")
            .addColumn("id", "integer", (c) => c.primaryKey())
            .addColumn("name", "text", (c) => c.notNull())
            .execute();
        },
      },
      "0002_people_email": {
        up: async (k) => {
          await k.schema.alterTable("people").addColumn("email", "text").execute();
        },
      },
    };
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    try {
      const first = await migrator.migrateToLatest();
      expect(first.error).toBeUndefined();
      expect(first.results?.map((r) => r.status)).toEqual(["Success", "Success"]);
      for (const name of all) {
        expect(await rowsOf(name, "SELECT name FROM kysely_migration ORDER BY name")).toEqual([
          ["0001_people"],
          ["0002_people_email"],
        ]);
        // Kysely's lock table too: part of the schema database, so in every child, unlocked.
        expect(await rowsOf(name, "SELECT is_locked FROM kysely_migration_lock")).toEqual([[0n]]);
        expect((await rowsOf(name, "SELECT name FROM pragma_table_info('people')")).flat()).toEqual([
          "id",
          "name",
          "email",
        ]);
      }
      const jobs = h.engine.listJobs("kysely-app").length;
      const again = await migrator.migrateToLatest();
      expect(again.error).toBeUndefined();
      expect(again.results).toEqual([]);
      expect(h.engine.listJobs("kysely-app").length).toBe(jobs);

      await h.engine.execute(
        "kysely-app-t-1",
        "INSERT INTO people (name, email) VALUES ('a', 'x'), ('b', 'x')",
      );
      migrations["0003_unique_email"] = {
        up: async (k) => {
          await sql`CREATE UNIQUE INDEX people_email ON people (email)`.execute(k);
        },
      };
      const failed = await migrator.migrateToLatest();
      expect(String(failed.error)).toMatch(/kysely-app-t-1/);
      for (const name of all) {
        expect(await rowsOf(name, "SELECT count(*) FROM kysely_migration")).toEqual([[2n]]);
        expect(await rowsOf(name, "SELECT count(*) FROM sqlite_schema WHERE name = 'people_email'")).toEqual([
          [0n],
        ]);
      }
      await h.engine.execute("kysely-app-t-1", "UPDATE people SET email = 'y' WHERE name = 'b'");
      const fixed = await migrator.migrateToLatest();
      expect(fixed.error).toBeUndefined();
      for (const name of all) {
        expect(await rowsOf(name, "SELECT count(*) FROM kysely_migration")).toEqual([[3n]]);
      }
    } finally {
      await db.destroy();
    }
  });
});

describe("@tursodatabase/serverless", () => {
  it("reads and writes on a child through /v3/cursor", async () => {
    await h.engine.createDatabase("serverless-app", { group: "default", type: "schema" });
    await h.engine.migrate("serverless-app", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    await h.engine.createChildren("serverless-app", ["serverless-t"]);
    const conn = connect({
      url: h.dbUrl("serverless-t").replace(/\/$/, ""),
      authToken: await token("serverless-t"),
    });
    try {
      const inserted = await conn.run("INSERT INTO notes (body) VALUES (?)", "hello");
      expect(inserted.changes).toBe(1);
      expect(await conn.all("SELECT id, body FROM notes")).toEqual([{ id: 1, body: "hello" }]);
      expect(await conn.get("SELECT body FROM notes WHERE id = ?", 1)).toEqual({ body: "hello" });
      const blocked = await rejection(conn.exec("CREATE TABLE sneaky (x)"));
      expect(blocked.message).toMatch(/Operation was blocked/);
    } finally {
      await conn.close();
    }
    expect(await rowsOf("serverless-t", "SELECT body FROM notes")).toEqual([["hello"]]);
  });
});

describe("a schema database's transaction over the wire", () => {
  const filesOf = (names: string[]) =>
    names.map((n) =>
      createHash("sha256")
        .update(fs.readFileSync(h.engine.getDatabase(n).path))
        .digest("hex"),
    );
  const pipeline = async (database: string, jwt: string, body: unknown) => {
    const res = await h.fetch(`/db/${database}/v3/pipeline`, {
      method: "POST",
      headers: { ...bearer(jwt), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      baton: string | null;
      results: {
        type: string;
        response?: { result?: { rows?: unknown[][] } };
        error?: { message: string };
      }[];
    };
  };
  const execute = (sql: string, args: unknown[] = []) => ({ type: "execute", stmt: { sql, args } });

  it("over a Hrana stream: a stream closed before COMMIT leaves every file as it was; COMMIT is one job", async () => {
    const all = await fleet("stream-app");
    const jwt = await token("stream-app");
    const before = filesOf(all);
    const jobs = h.engine.listJobs("stream-app").length;

    const open = await pipeline("stream-app", jwt, {
      requests: [
        execute("BEGIN"),
        execute("CREATE TABLE history (id INTEGER PRIMARY KEY, hash TEXT)"),
        execute("INSERT INTO history (hash) VALUES (?)", [{ type: "text", value: "h1" }]),
        execute("SELECT hash FROM history"),
      ],
    });
    expect(open.results.map((r) => r.type)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(open.results[3]?.response?.result?.rows).toEqual([[{ type: "text", value: "h1" }]]);
    const closed = await pipeline("stream-app", jwt, { baton: open.baton, requests: [{ type: "close" }] });
    expect(closed.baton).toBeNull();
    expect(filesOf(all)).toEqual(before);
    expect(h.engine.listJobs("stream-app").length).toBe(jobs);

    // The same over two requests, committed: one job, on every database.
    const begun = await pipeline("stream-app", jwt, {
      requests: [execute("BEGIN"), execute("CREATE TABLE history (id INTEGER PRIMARY KEY, hash TEXT)")],
    });
    const committed = await pipeline("stream-app", jwt, {
      baton: begun.baton,
      requests: [
        execute("INSERT INTO history (hash) VALUES (?)", [{ type: "text", value: "h2" }]),
        execute("COMMIT"),
        { type: "close" },
      ],
    });
    expect(committed.results.map((r) => r.type)).toEqual(["ok", "ok", "ok"]);
    expect(h.engine.listJobs("stream-app").length).toBe(jobs + 1);
    for (const name of all) expect(await rowsOf(name, "SELECT hash FROM history")).toEqual([["h2"]]);
  });

  it("@tursodatabase/serverless: a batch with a mode is one job over /v3/cursor, all or none", async () => {
    const all = await fleet("cursor-app");
    const conn = connect({
      url: h.dbUrl("cursor-app").replace(/\/$/, ""),
      authToken: await token("cursor-app"),
    });
    try {
      const jobs = h.engine.listJobs("cursor-app").length;
      await conn.batch(
        [
          "CREATE TABLE plans (name TEXT PRIMARY KEY, price REAL)",
          { sql: "INSERT INTO plans VALUES (?, ?)", args: ["pro", 9.5] },
        ],
        "write",
      );
      expect(h.engine.listJobs("cursor-app").length).toBe(jobs + 1);
      for (const name of all)
        expect(await rowsOf(name, "SELECT name, price FROM plans")).toEqual([["pro", 9.5]]);

      await h.engine.execute("cursor-app-t-2", "INSERT INTO plans VALUES ('team', 20)");
      const before = filesOf(all);
      const failure = await rejection(
        conn.batch(
          [
            "ALTER TABLE plans ADD COLUMN seats INTEGER",
            { sql: "INSERT INTO plans (name, price) VALUES (?, ?)", args: ["team", 25] },
          ],
          "write",
        ),
      );
      expect(failure.message).toMatch(/cursor-app-t-2/);
      expect(filesOf(all)).toEqual(before);
      expect(h.engine.listJobs("cursor-app").filter((j) => j.state === "succeeded").length).toBe(jobs + 1);
    } finally {
      await conn.close();
    }
  });
});

describe("/v3/cursor's limits", () => {
  let limited: Harness;
  beforeAll(async () => {
    limited = await startHarness({ maxResponseBytes: 64 * 1024, statementTimeoutMs: 1500 });
    limited.engine.createGroup("default");
    await limited.engine.createDatabase("capped", { group: "default" });
  });
  afterAll(() => limited.close());

  it("are the pipeline's: a huge result is RESPONSE_TOO_LARGE, a runaway query QUERY_TIMEOUT, and the stream goes on", async () => {
    const conn = connect({
      url: limited.dbUrl("capped").replace(/\/$/, ""),
      authToken: (await limited.engine.createToken({ database: "capped" })).jwt,
    });
    try {
      const huge = await rejection(
        conn.all(
          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000) SELECT x, hex(randomblob(100)) FROM c",
        ),
      );
      expect(huge.message).toMatch(/larger than the limit of 65536 bytes/);
      const runaway = await rejection(
        conn.all("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"),
      );
      expect(runaway.message).toMatch(/longer than the server's limit/);
      expect(await conn.all("SELECT 41 + 1 AS n")).toEqual([{ n: 42 }]);
    } finally {
      await conn.close();
    }
  });
});
