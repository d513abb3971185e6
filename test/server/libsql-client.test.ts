import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type Harness, rejection, startHarness } from "./harness.js";

/** The data plane through the real `@libsql/client`, over Hrana on HTTP. */

let h: Harness;
let token: (db: string, opts?: { readOnly?: boolean; attach?: string[] }) => Promise<string>;

beforeAll(async () => {
  h = await startHarness();
  const e = h.engine;
  e.createGroup("default");
  token = async (database, opts = {}) =>
    (
      await e.createToken({
        database,
        authorization: opts.readOnly ? "read-only" : "full-access",
        attach: opts.attach,
      })
    ).jwt;
  await e.createDatabase("notes", { group: "default" });
  await e.createDatabase("app", { group: "default", type: "schema" });
  await e.createDatabase("tenant-1", { schemaParent: "app" });
  await e.createDatabase("tenant-2", { schemaParent: "app" });
});

afterAll(() => h.close());

describe("execute and values", () => {
  it("runs statements and round-trips every value type exactly", async () => {
    const db = h.libsql("notes", await token("notes"));
    await db.execute("CREATE TABLE v (i INTEGER, r REAL, t TEXT, b BLOB, n)");
    const big = 9007199254740993n; // 2^53 + 1: not representable as a JS number
    const inserted = await db.execute({
      sql: "INSERT INTO v VALUES (?, ?, ?, ?, ?)",
      args: [big, 1.5, "héllo", new Uint8Array([0, 1, 255]), null],
    });
    expect(inserted.rowsAffected).toBe(1);
    expect(inserted.lastInsertRowid).toBe(1n);

    const rs = await db.execute({ sql: "SELECT i, r, t, b, n FROM v WHERE t = :t", args: { t: "héllo" } });
    expect(rs.columns).toEqual(["i", "r", "t", "b", "n"]);
    expect(rs.columnTypes).toEqual(["INTEGER", "REAL", "TEXT", "BLOB", ""]);
    const row = rs.rows[0];
    expect(row?.i).toBe(big);
    expect(row?.r).toBe(1.5);
    expect(row?.t).toBe("héllo");
    expect(new Uint8Array(row?.b as ArrayBuffer)).toEqual(new Uint8Array([0, 1, 255]));
    expect(row?.n).toBeNull();
  });

  it("reports SQLite's errors with SQLite's primary code", async () => {
    const db = h.libsql("notes", await token("notes"));
    await db.execute("CREATE TABLE uniq (k TEXT PRIMARY KEY)");
    await db.execute("INSERT INTO uniq VALUES ('a')");
    const dup = await rejection(db.execute("INSERT INTO uniq VALUES ('a')"));
    expect(dup.code).toBe("SQLITE_CONSTRAINT");
    expect(dup.message).toMatch(/UNIQUE constraint failed/);
    expect((await rejection(db.execute("SELEC 1"))).code).toBe("SQLITE_ERROR");
  });

  it("takes the database from a token that names one, without /db/<name>/ in the URL", async () => {
    const db = createClient({ url: h.server.url, authToken: await token("notes") });
    try {
      const rs = await db.execute("SELECT count(*) AS n FROM v");
      expect(rs.rows[0]?.n).toBe(1);
    } finally {
      db.close();
    }
  });
});

describe("batches and interactive transactions", () => {
  it("commits a batch as one transaction", async () => {
    const db = h.libsql("notes", await token("notes"));
    await db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
    const results = await db.batch(
      [
        { sql: "INSERT INTO items (name) VALUES (?)", args: ["a"] },
        { sql: "INSERT INTO items (name) VALUES (?)", args: ["b"] },
        "SELECT name FROM items ORDER BY id",
      ],
      "write",
    );
    expect(results).toHaveLength(3);
    expect(results[2]?.rows.map((r) => r.name)).toEqual(["a", "b"]);
  });

  it("rolls a failing batch back entirely", async () => {
    const db = h.libsql("notes", await token("notes"));
    const err = await rejection(
      db.batch(["INSERT INTO items (name) VALUES ('c')", "INSERT INTO items (name) VALUES ('a')"], "write"),
    );
    expect(err.code).toBe("SQLITE_CONSTRAINT");
    const rs = await db.execute("SELECT count(*) AS n FROM items WHERE name = 'c'");
    expect(rs.rows[0]?.n).toBe(0n);
  });

  it("rolls back an interactive transaction", async () => {
    const db = h.libsql("notes", await token("notes"));
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO items (name) VALUES ('rolled-back')");
    const inside = await tx.execute("SELECT count(*) AS n FROM items WHERE name = 'rolled-back'");
    expect(inside.rows[0]?.n).toBe(1n);
    await tx.rollback();
    const after = await db.execute("SELECT count(*) AS n FROM items WHERE name = 'rolled-back'");
    expect(after.rows[0]?.n).toBe(0n);
  });

  it("commits an interactive transaction, and another stream waits for it instead of failing", async () => {
    const db = h.libsql("notes", await token("notes"));
    const other = h.libsql("notes", await token("notes"));
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO items (name) VALUES ('committed')");
    // A write on another stream queues behind the open transaction (it would otherwise stall the server).
    const queued = other.execute("INSERT INTO items (name) VALUES ('after')");
    await tx.execute("INSERT INTO items (name) VALUES ('committed-2')");
    await tx.commit();
    await queued;
    const rs = await db.execute("SELECT name FROM items WHERE name IN ('committed', 'committed-2', 'after')");
    expect(rs.rows.map((r) => r.name).sort()).toEqual(["after", "committed", "committed-2"]);
  });
});

describe("schema databases", () => {
  it("sends DDL on a parent to every child", async () => {
    const parent = h.libsql("app", await token("app"));
    await parent.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)");
    for (const child of ["tenant-1", "tenant-2"]) {
      const db = h.libsql(child, await token(child));
      await db.execute({ sql: "INSERT INTO users (email) VALUES (?)", args: [`a@${child}`] });
      const rs = await db.execute("SELECT email FROM users");
      expect(rs.rows.map((r) => r.email)).toEqual([`a@${child}`]);
    }
  });

  it("runs a batch on a parent as one migration job, all or none", async () => {
    const parent = h.libsql("app", await token("app"));
    await parent.batch(
      ["ALTER TABLE users ADD COLUMN phone TEXT", "CREATE INDEX users_email ON users (email)"],
      "write",
    );
    // A statement the parent itself refuses fails at once, inside the transaction: no job at all.
    const refused = await rejection(
      parent.batch(
        ["ALTER TABLE users ADD COLUMN city TEXT", "CREATE INDEX users_email ON users (email)"],
        "write",
      ),
    );
    expect(refused.code).toBe("SQLITE_ERROR");
    expect(refused.message).toMatch(/users_email already exists/);
    // One that only a tenant's rows refuse fails the job at its dry run: nothing anywhere either.
    const tenant = h.libsql("tenant-1", await token("tenant-1"));
    await tenant.execute("INSERT INTO users (email) VALUES ('same@x'), ('same@x')");
    const failed = await rejection(
      parent.batch(
        ["ALTER TABLE users ADD COLUMN city TEXT", "CREATE UNIQUE INDEX users_email_u ON users (email)"],
        "write",
      ),
    );
    expect(failed.code).toBe("SCHEMA_MIGRATION_ERROR");
    expect(failed.message).toMatch(/tenant-1/);
    const child = h.libsql("tenant-2", await token("tenant-2"));
    const cols = await child.execute("SELECT name FROM pragma_table_info('users') ORDER BY cid");
    expect(cols.rows.map((r) => r.name)).toEqual(["id", "email", "phone"]);
  });

  it("refuses DDL on a child with Operation was blocked", async () => {
    const child = h.libsql("tenant-1", await token("tenant-1"));
    const err = await rejection(child.execute("CREATE TABLE sneaky (x)"));
    expect(err.code).toBe("BLOCKED");
    expect(err.message).toMatch(/Operation was blocked/);
  });

  it("serves the schema database's migration jobs shaped like sqld's", async () => {
    const headers = bearer(await token("app"));
    const list = await h.fetch("/db/app/v1/jobs", { headers });
    expect(list.status).toBe(200);
    const summary = (await list.json()) as { schema_version: number; migrations: { job_id: number }[] };
    expect(summary.schema_version).toBe(2);
    expect(summary.migrations).toEqual([
      { job_id: 3, status: "RunFailure" },
      { job_id: 2, status: "RunSuccess" },
      { job_id: 1, status: "RunSuccess" },
    ]);

    const ok = await (await h.fetch("/db/app/v1/jobs/1", { headers })).json();
    // A finished job keeps counts, and rows only for the databases that failed.
    expect(ok).toMatchObject({
      job_id: 1,
      status: "RunSuccess",
      progress: [],
      total: 3,
      next_after: null,
    });
    expect((ok as { progress_counts: Record<string, number> }).progress_counts).toMatchObject({
      done: 3,
      failed: 0,
    });
    const failed = (await (await h.fetch("/db/app/v1/jobs/3?limit=1", { headers })).json()) as {
      status: string;
      error: string;
      progress: { namespace: string; status: string }[];
      next_after: number | null;
    };
    expect(failed.status).toBe("RunFailure");
    expect(failed.error).toMatch(/users_email_u/);
    expect(failed.progress).toHaveLength(1);
    expect(failed.progress[0]?.status).toBe("DryRunFailure");
    expect((await h.fetch("/db/app/v1/jobs/3?limit=nope", { headers })).status).toBe(400);

    expect((await h.fetch("/db/app/v1/jobs/99", { headers })).status).toBe(404);
    expect((await h.fetch("/db/app/v1/jobs", {})).status).toBe(401);
    const other = await h.fetch("/db/app/v1/jobs", { headers: bearer(await token("notes")) });
    expect(other.status).toBe(403); // a token of another database in the group verifies, but grants nothing here
    const notSchema = await h.fetch("/db/notes/v1/jobs", { headers: bearer(await token("notes")) });
    expect(notSchema.status).toBe(400);
  });
});

describe("ATTACH", () => {
  beforeAll(async () => {
    const e = h.engine;
    await e.createDatabase("catalog", { group: "default" });
    await e.createDatabase("shop", { group: "default" });
    await e.execute(
      "catalog",
      "CREATE TABLE promotions (category TEXT, discount INTEGER); INSERT INTO promotions VALUES ('books', 10), ('games', 25)",
    );
    e.updateDatabaseConfig("catalog", { allowAttach: true });
    await e.execute(
      "shop",
      "CREATE TABLE user_preferences (user_id INTEGER, interested_category TEXT); INSERT INTO user_preferences VALUES (1, 'games'), (2, 'books')",
    );
  });

  const join =
    'ATTACH "catalog" AS catalog; SELECT category, discount FROM catalog.promotions JOIN user_preferences AS up ON category = up.interested_category WHERE up.user_id = 1';

  it("joins across databases with a token that may attach the target", async () => {
    const db = h.libsql("shop", await token("shop", { attach: ["catalog"] }));
    const rs = await db.execute(join);
    expect(rs.rows.map((r) => [r.category, r.discount])).toEqual([["games", 25n]]);
  });

  it("refuses the attach with a token that does not list the target", async () => {
    const db = h.libsql("shop", await token("shop"));
    const err = await rejection(db.execute(join));
    expect(err.code).toBe("PERMISSION_DENIED");
    expect(err.message).toMatch(/does not allow attaching "catalog"/);
  });
});

describe("token rights", () => {
  it("lets a read-only token read and refuses its writes", async () => {
    const db = h.libsql("notes", await token("notes", { readOnly: true }));
    expect((await db.execute("SELECT count(*) AS n FROM items")).rows).toHaveLength(1);
    const err = await rejection(db.execute("INSERT INTO items (name) VALUES ('nope')"));
    expect(err.code).toBe("PERMISSION_DENIED");
    expect(err.message).toMatch(/read-only/);
  });

  it("refuses a missing, malformed or foreign token", async () => {
    const noToken = createClient({ url: h.dbUrl("notes") });
    try {
      expect((await rejection(noToken.execute("SELECT 1"))).code).toBe("AUTH_HEADER_NOT_FOUND");
    } finally {
      noToken.close();
    }
    const garbage = h.libsql("notes", "not-a-jwt");
    expect((await rejection(garbage.execute("SELECT 1"))).code).toBe("AUTH_JWT_INVALID");
    // A valid token for another database of the same group does not open this one.
    const other = h.libsql("notes", await token("shop"));
    expect((await rejection(other.execute("SELECT 1"))).code).toBe("PERMISSION_DENIED");
  });

  it("refuses revoked and rotated tokens", async () => {
    const e = h.engine;
    await e.createGroup("rotating");
    await e.createDatabase("rot", { group: "rotating" });
    const revoked = await token("rot");
    const rotated = await token("rot");
    const db = h.libsql("rot", rotated);
    await db.execute("SELECT 1");

    e.revokeToken(revoked);
    expect((await rejection(h.libsql("rot", revoked).execute("SELECT 1"))).code).toBe("AUTH_JWT_REVOKED");

    await e.rotateGroupKeys("rotating");
    const err = await rejection(db.execute("SELECT 1"));
    expect(err.code).toBe("AUTH_JWT_INVALID");
    await h.libsql("rot", await token("rot")).execute("SELECT 1");
  });
});
