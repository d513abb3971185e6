import { describe, expect, it } from "vitest";
import { type OpenOptions, openEngine } from "../../engine/index.js";
import { columnsOf, rejectsWith, scalar, schemaFleet } from "../helpers.js";

const fleet = (children: number, opts: OpenOptions = {}) =>
  schemaFleet(children, opts, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)");

describe("migrations on a schema database", () => {
  it("reaches 500 children and the parent, keeps every row, and new children get the change", async () => {
    const { engine, names } = await fleet(500);
    for (const name of names.slice(0, 50)) {
      await engine.execute(name, "INSERT INTO users (name, email) VALUES (?, ?)", {
        args: [name, `${name}@x`],
      });
    }
    const phases = new Set<string>();
    const result = await engine.execute("parent", "ALTER TABLE users ADD COLUMN phone_number TEXT", {
      onProgress: (p) => phases.add(p.phase),
    });
    expect(result).toHaveLength(1);
    expect([...phases]).toEqual(["dry_run", "run"]);
    for (const name of [...names, "parent"]) {
      expect(await columnsOf(engine, name, "users")).toEqual(["id", "name", "email", "phone_number"]);
      expect(engine.getDatabase(name).schemaVersion).toBe(2);
    }
    for (const name of names.slice(0, 50))
      expect(await scalar(engine, name, "SELECT name FROM users")).toBe(name);
    expect(
      await scalar(engine, "tenant-400", "SELECT value FROM _tenantdb_ WHERE key = 'schema_version'"),
    ).toBe(2n);
    const later = await engine.createDatabase("late", { schemaParent: "parent" });
    expect(later.schemaVersion).toBe(2);
    expect(await columnsOf(engine, "late", "users")).toContain("phone_number");
    const [job] = engine.listJobs("parent");
    expect(job).toMatchObject({ state: "succeeded", version: 2, total: 501 });
    expect(job?.progress.done).toBe(501);
  });

  it("fails as a whole when one child cannot take it: nothing changes anywhere, and the error names the child", async () => {
    const { engine, names } = await fleet(40);
    await engine.execute("tenant-17", "INSERT INTO users (email) VALUES ('dup@x'), ('dup@x')");
    const message = await rejectsWith(
      engine.execute("parent", "CREATE UNIQUE INDEX users_email ON users(email)"),
      "FAILED_PRECONDITION",
    );
    expect(message).toMatch(/tenant-17/);
    expect(message).toMatch(/UNIQUE constraint failed/);
    expect(message).toMatch(/nothing was changed/);
    for (const name of [...names, "parent"]) {
      expect(
        await scalar(engine, name, "SELECT count(*) FROM sqlite_schema WHERE name = 'users_email'"),
      ).toBe(0n);
      expect(engine.getDatabase(name).schemaVersion).toBe(1);
    }
    const [failed] = engine.listJobs("parent");
    expect(failed?.state).toBe("failed");
    expect(
      engine.getJob("parent", failed?.id ?? 0).tasks.find((t) => t.database === "tenant-17"),
    ).toMatchObject({
      state: "dry_run_failed",
    });
    // Writes are fenced only while a job runs: after the failure they work again.
    await engine.execute("tenant-17", "DELETE FROM users WHERE id = 2");
    await engine.execute("parent", "CREATE UNIQUE INDEX users_email ON users(email)");
    expect(engine.getDatabase("tenant-17").schemaVersion).toBe(2);
  });

  it("applies an ordered list idempotently and refuses edited, removed or reordered history", async () => {
    const { engine } = await fleet(3);
    const list = [
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)",
      "ALTER TABLE users ADD COLUMN phone_number TEXT",
      "CREATE INDEX users_name ON users(name)",
    ];
    const first = await engine.applyMigrations("parent", list);
    // The two pending migrations run as one job, all or none, and are recorded as a version each.
    expect(first.applied).toMatchObject({ version: 3, databases: 4 });
    expect(first.version).toBe(3);
    expect(engine.listJobs("parent")).toHaveLength(2);
    const again = await engine.applyMigrations("parent", list);
    expect(again.applied).toBeNull();
    expect(engine.listMigrations("parent").map((m) => m.version)).toEqual([1, 2, 3]);

    const edited = [...list];
    edited[1] = "ALTER TABLE users ADD COLUMN phone TEXT";
    expect(await rejectsWith(engine.applyMigrations("parent", edited), "FAILED_PRECONDITION")).toMatch(
      /migration 2 has already been applied and cannot be edited/,
    );
    await rejectsWith(engine.applyMigrations("parent", list.slice(0, 2)), "FAILED_PRECONDITION");
    await rejectsWith(
      engine.applyMigrations("parent", [list[0], list[2], list[1]] as string[]),
      "FAILED_PRECONDITION",
    );
    expect(engine.getDatabase("tenant-0").schemaVersion).toBe(3);
  });

  it("applies a batch of migrations all or none", async () => {
    const { engine, names } = await fleet(5);
    await engine.execute("tenant-3", "INSERT INTO users (email) VALUES ('same'), ('same')");
    const base = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)";
    const message = await rejectsWith(
      engine.applyMigrations("parent", [
        base,
        "ALTER TABLE users ADD COLUMN phone TEXT",
        "CREATE UNIQUE INDEX e ON users(email)",
      ]),
      "FAILED_PRECONDITION",
    );
    expect(message).toMatch(/tenant-3/);
    for (const name of [...names, "parent"]) {
      expect(await columnsOf(engine, name, "users")).toEqual(["id", "name", "email"]);
      expect(engine.getDatabase(name).schemaVersion).toBe(1);
    }
    expect(engine.listMigrations("parent")).toHaveLength(1);
  });

  it("refuses migrations with transaction control, ATTACH or VACUUM", async () => {
    const { engine } = await fleet(1);
    for (const sql of [
      "BEGIN; ALTER TABLE users ADD COLUMN a; COMMIT",
      "SAVEPOINT s; ALTER TABLE users ADD COLUMN a",
      'ATTACH "tenant-0" AS t',
      "VACUUM",
      "PRAGMA writable_schema = ON",
      "DELETE FROM _tenantdb_",
    ]) {
      await expect(engine.migrate("parent", sql)).rejects.toMatchObject({
        code: expect.stringMatching(/INVALID_ARGUMENT|PERMISSION_DENIED/),
      });
    }
    expect(engine.listJobs("parent")).toHaveLength(1);
    await rejectsWith(engine.migrate("tenant-0", "CREATE TABLE x (a)"), "FAILED_PRECONDITION");
  });

  it("runs one job per schema database at a time", async () => {
    const { engine } = await fleet(30);
    const first = engine.migrate("parent", "ALTER TABLE users ADD COLUMN a TEXT");
    const message = await rejectsWith(
      engine.migrate("parent", "ALTER TABLE users ADD COLUMN b TEXT"),
      "CONFLICT",
    );
    expect(message).toMatch(/already in progress/);
    await first;
    await engine.migrate("parent", "ALTER TABLE users ADD COLUMN b TEXT");
    expect(await columnsOf(engine, "tenant-29", "users")).toEqual(["id", "name", "email", "a", "b"]);
  });

  it("keeps child rows through a table rebuild that would cascade (foreign keys off around the migration)", async () => {
    const { engine } = await fleet(2);
    await engine.migrate(
      "parent",
      "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id) ON DELETE CASCADE)",
    );
    await engine.execute(
      "tenant-0",
      "INSERT INTO users (id, name) VALUES (1, 'a'); INSERT INTO posts VALUES (1, 1), (2, 1)",
    );
    await engine.migrate(
      "parent",
      `CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', email TEXT);
       INSERT INTO users_new SELECT id, coalesce(name, ''), email FROM users;
       DROP TABLE users;
       ALTER TABLE users_new RENAME TO users;`,
    );
    expect(await scalar(engine, "tenant-0", "SELECT count(*) FROM posts")).toBe(2n);
    // A migration that would leave dangling references fails in the dry run instead.
    await engine.execute(
      "tenant-1",
      "INSERT INTO users (id, name) VALUES (5, 'b'); INSERT INTO posts VALUES (9, 5)",
    );
    expect(
      await rejectsWith(engine.migrate("parent", "DELETE FROM users WHERE id = 5"), "FAILED_PRECONDITION"),
    ).toMatch(/tenant-1.*FOREIGN KEY/);
  });

  it("leaves a job with an I/O failure in its run phase committed and incomplete, its failed database fenced, until resume completes it", async () => {
    const { engine, names } = await fleet(20, {
      faultInjection: { failRunOn: ["tenant-7"] },
      fenceWaitMs: 300,
    });
    await engine.execute("tenant-7", "INSERT INTO users (name) VALUES ('kept')");
    const message = await rejectsWith(
      engine.migrate("parent", "ALTER TABLE users ADD COLUMN phone TEXT"),
      "IO_ERROR",
    );
    expect(message).toMatch(/committed but incomplete/);
    expect(message).toMatch(/I\/O error during run on database "tenant-7"/);
    expect(message).toMatch(/tenant-7/);
    const [job] = engine.listJobs("parent");
    expect(job?.state).toBe("committed");
    expect(job?.class).toBe("additive");
    expect(job?.error).toMatch(/tenant-7/);
    // The parent goes last, so it has not moved; every other child has.
    expect(await columnsOf(engine, "parent", "users")).not.toContain("phone");
    expect(await columnsOf(engine, "tenant-7", "users")).not.toContain("phone");
    expect(await columnsOf(engine, "tenant-8", "users")).toContain("phone");
    // Reads go on. A migrated child takes writes again; the failed one stays fenced until resume: its
    // writer waits out the bound, then is told which job holds it and how far it got.
    expect(await scalar(engine, "tenant-7", "SELECT name FROM users")).toBe("kept");
    await engine.execute("tenant-3", "INSERT INTO users (name, phone) VALUES ('x', '555')");
    let fenced: unknown;
    await engine.execute("tenant-7", "INSERT INTO users (name) VALUES ('x')").catch((e) => {
      fenced = e;
    });
    expect(fenced).toMatchObject({
      code: "BLOCKED",
      details: { fence: "migration", jobId: job?.id, done: 19, total: 21 },
    });
    expect((fenced as Error).message).toMatch(
      /schema migration in progress: job \d+, 19 of 21 databases migrated; waited \d\.\d s/,
    );
    expect((fenced as { details: { waitedMs: number } }).details.waitedMs).toBeGreaterThanOrEqual(300 - 50);
    // A new migration cannot start until this one is done, and children cannot be added to a moving parent.
    await rejectsWith(engine.createDatabase("late", { schemaParent: "parent" }), "CONFLICT");

    const healthy = await openEngine(engine.dir, { workers: 2, recover: false });
    try {
      const resumed = await healthy.resumeMigrations("parent");
      expect(resumed?.state).toBe("succeeded");
      expect(resumed?.error).toBeNull(); // the incomplete run's error does not outlive it
      for (const name of [...names, "parent"]) {
        expect(await columnsOf(healthy, name, "users")).toContain("phone");
        expect(healthy.getDatabase(name).schemaVersion).toBe(2);
      }
      expect(await scalar(healthy, "tenant-7", "SELECT name FROM users")).toBe("kept");
      await healthy.execute("tenant-7", "INSERT INTO users (name) VALUES ('x')");
    } finally {
      healthy.close();
    }
  });

  it("previews pending migrations without applying them, naming each database that would fail", async () => {
    const { engine, names } = await fleet(10);
    await engine.execute("tenant-4", "INSERT INTO users (email) VALUES ('d'), ('d')");
    const base = ["CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)"];
    const ok = await engine.previewMigrations("parent", [...base, "ALTER TABLE users ADD COLUMN phone TEXT"]);
    expect(ok).toEqual({ databases: 11, failures: [], failed: 0 });
    const bad = await engine.previewMigrations("parent", [...base, "CREATE UNIQUE INDEX e ON users(email)"]);
    expect(bad.failed).toBe(1);
    expect(bad.failures[0]?.database).toBe("tenant-4");
    for (const name of [...names, "parent"]) {
      expect(await columnsOf(engine, name, "users")).toEqual(["id", "name", "email"]);
    }
    expect(engine.listJobs("parent")).toHaveLength(1);
  });
});
