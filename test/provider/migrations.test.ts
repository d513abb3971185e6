import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BACKENDS,
  cli,
  columns,
  type Decl,
  type Fleet,
  failuresOf,
  grpcError,
  SEED_PHONE as PHONE,
  type Plugin,
  Stack,
  type Step,
  type Suite,
  seedProgram,
  startSuite,
  SEED_TENANTS as TENANTS,
  UNKNOWN,
  SEED_USERS as USERS,
  urnOf,
  withEngine,
} from "./harness.js";

/**
 * The seed scenario as a stack: a group, a schema database whose migration creates `users`, three tenant
 * databases following it; then a second `up` that appends a migration. Previews dry-run new migrations on
 * every database and fail, naming the tenant, when one would fail; nothing changes until `up`. Runs
 * against each backend: the local engine, and `tenantdb serve` through the Platform API backend.
 */

const UNIQUE_EMAIL = "CREATE UNIQUE INDEX users_email ON users (email)";

const step = (steps: Step[], name: string) => steps.find((s) => s.name === name && s.op !== "delete");

describe.each(BACKENDS)("schema migrations through the provider ($name backend)", (backend) => {
  let plugin: Plugin;
  let stack: Stack;
  let fleet: Fleet;
  let dataDir: string;

  let suite: Suite;
  beforeAll(async () => {
    suite = await startSuite(backend, { configure: true });
    ({ plugin, fleet, dataDir, stack } = suite);
  });
  afterAll(() => suite?.stop());

  it("creates the fleet: every tenant starts as a copy of the schema database", async () => {
    await stack.up(seedProgram([USERS]));
    expect(stack.outputs("app")).toMatchObject({ schemaVersion: 1, migrations: [USERS] });
    await withEngine(dataDir, async (e) => {
      for (const t of TENANTS) {
        expect(await columns(e, t, "users")).toEqual(["id", "email"]);
        await e.execute(t, `INSERT INTO users (email) VALUES ('ceo@${t}.example')`);
      }
      // globex has a duplicate email, which a UNIQUE index will trip over later.
      await e.execute("globex", "INSERT INTO users (email) VALUES ('ceo@globex.example')");
    });
  });

  it("previews an appended migration as an update of `migrations`, dry-running it without applying it", async () => {
    const jobsBefore = await withEngine(dataDir, (e) => e.listJobs("app-schema").length);
    stack.calls = [];
    const steps = await stack.preview(seedProgram([USERS, PHONE]));
    expect(step(steps, "app")).toMatchObject({
      op: "update",
      // childCount was 0 when the schema database was created before its tenants: Diff reads it afresh.
      diff: {
        changes: "SOME",
        diffs: ["migrations", "childCount"],
        replaces: [],
        detailedDiff: { "migrations[1]": "ADD", childCount: "UPDATE" },
        inputDiffs: { "migrations[1]": true, childCount: false },
        deleteBeforeReplace: false,
      },
      outputs: { schemaVersion: 2, childCount: 3, migrations: [USERS, PHONE] },
    });
    for (const t of TENANTS) expect(step(steps, t)?.op).toBe("same");
    expect(stack.calls).toContain("Update SchemaDatabase app");

    await withEngine(dataDir, async (e) => {
      for (const t of TENANTS) expect(await columns(e, t, "users")).toEqual(["id", "email"]);
      expect(e.getDatabase("app-schema").schemaVersion).toBe(1);
      expect(e.listJobs("app-schema")).toHaveLength(jobsBefore); // a dry run records no job
    });
  });

  it("applies it on up: the migration reaches every tenant and raises schemaVersion", async () => {
    const steps = await stack.up(seedProgram([USERS, PHONE]));
    expect(step(steps, "app")?.op).toBe("update");
    expect(stack.outputs("app")).toMatchObject({
      schemaVersion: 2,
      migrations: [USERS, PHONE],
      childCount: 3,
    });
    await withEngine(dataDir, async (e) => {
      expect(e.getDatabase("app-schema").schemaVersion).toBe(2);
      for (const t of TENANTS) {
        expect(await columns(e, t, "users")).toEqual(["id", "email", "phone_number"]);
        expect(e.getDatabase(t).schemaVersion).toBe(2);
      }
    });
    // Tenant outputs catch up in the same up: each tenant's Diff (after its parent's Update, which it
    // depends on) observes the version the migration gave it, and the Update records it.
    for (const t of TENANTS) {
      expect(step(steps, t)).toMatchObject({ op: "update", diff: { inputDiffs: { schemaVersion: false } } });
      expect(stack.outputs(t).schemaVersion).toBe(2);
    }
    await stack.refresh();
    expect(stack.refreshDiffs).toEqual({});
  });

  it("treats whitespace around a migration as no change", async () => {
    const steps = await stack.preview(seedProgram([`\n    ${USERS}\n  `, `${PHONE}  `]));
    expect(step(steps, "app")?.op).toBe("same");
  });

  it("fails the preview of a new schema database whose migration cannot run even on an empty database", async () => {
    const fresh = new Stack(plugin);
    const message = await grpcError(
      fresh.preview([
        { type: "Group", name: "other", inputs: { name: "other" } },
        {
          type: "SchemaDatabase",
          name: "typo",
          inputs: (o) => ({
            name: "typo-schema",
            group: o("other").name,
            migrations: [USERS, "CREATE INDEX i ON userz (email)"],
          }),
        },
      ]),
      "FAILED_PRECONDITION",
    );
    expect(message).toMatch(/migration 2 .*no such table: main\.userz|migration 2 .*userz/);
    await withEngine(dataDir, (e) => expect(e.listGroups().map((g) => g.name)).not.toContain("other"));
  });

  it("fails a preview whose new migration would fail on one tenant, naming it, and changes nothing", async () => {
    const next = seedProgram([USERS, PHONE, UNIQUE_EMAIL]);
    const message = await grpcError(stack.preview(next), "FAILED_PRECONDITION");
    expect(message).toContain("globex");
    expect(message).toMatch(/UNIQUE constraint failed: users\.email/);
    expect(message).toMatch(/1 of 4 database/);
    expect(message).not.toMatch(/\bacme\b|initech/);

    // `up` refuses the same way: the job's dry run fails, and nothing changes anywhere.
    await grpcError(stack.up(next), "FAILED_PRECONDITION");
    await withEngine(dataDir, async (e) => {
      expect(e.getDatabase("app-schema").schemaVersion).toBe(2);
      for (const t of ["app-schema", ...TENANTS]) {
        const [res] = await e.execute(
          t,
          "SELECT name FROM sqlite_schema WHERE type = 'index' AND name = 'users_email'",
        );
        expect(res?.rows, t).toEqual([]);
      }
    });
    expect(stack.outputs("app").schemaVersion).toBe(2);

    // Fix the data, and the same change goes through.
    await withEngine(dataDir, (e) =>
      e.execute(
        "globex",
        "DELETE FROM users WHERE rowid NOT IN (SELECT min(rowid) FROM users GROUP BY email)",
      ),
    );
    expect(step(await stack.preview(next), "app")?.op).toBe("update");
    await stack.up(next);
    expect(stack.outputs("app").schemaVersion).toBe(3);
  });

  it("refuses edited, removed and reordered migrations as check failures that say to append instead", async () => {
    const edited = await failuresOf(
      stack.preview(seedProgram(["CREATE TABLE users (id INTEGER PRIMARY KEY)", PHONE, UNIQUE_EMAIL])),
    );
    expect(edited).toEqual([
      {
        property: "migrations",
        reason: expect.stringMatching(/migration 1 .*cannot be edited.*append a new migration/),
      },
    ]);
    const removed = await failuresOf(stack.preview(seedProgram([USERS, PHONE])));
    expect(removed[0]).toMatchObject({
      property: "migrations",
      reason: expect.stringMatching(/migration 3 .*cannot be removed/),
    });
    const reordered = await failuresOf(stack.preview(seedProgram([PHONE, USERS, UNIQUE_EMAIL])));
    expect(reordered[0]).toMatchObject({ property: "migrations", reason: expect.stringMatching(/append/) });
  });

  it("checks each migration: strings only, no transaction control, and against what the CLI applied", async () => {
    const notStrings = await failuresOf(stack.preview(seedProgram([USERS, PHONE, UNIQUE_EMAIL, 42])));
    expect(notStrings).toEqual([{ property: "migrations[3]", reason: "must be a string, not number 42" }]);
    const txn = await failuresOf(
      stack.preview(seedProgram([USERS, PHONE, UNIQUE_EMAIL, "BEGIN; DROP TABLE users; COMMIT"])),
    );
    expect(txn[0]).toMatchObject({
      property: "migrations[3]",
      reason: expect.stringMatching(/transaction control/),
    });

    // A migration applied behind the stack's back (the CLI) is part of the history too.
    const extra = "CREATE INDEX users_phone ON users (phone_number)";
    cli(dataDir, "db", "shell", "app-schema", extra);
    const forgotten = await failuresOf(stack.preview(seedProgram([USERS, PHONE, UNIQUE_EMAIL])));
    expect(forgotten[0]).toMatchObject({
      property: "migrations",
      reason: expect.stringMatching(/migration 4 .*cannot be removed/),
    });
    // Adopting it is an update that has nothing left to apply.
    const steps = await stack.up(seedProgram([USERS, PHONE, UNIQUE_EMAIL, extra]));
    // The CLI moved schemaVersion too: Diff saw it, the Update records it.
    expect(step(steps, "app")?.diff?.detailedDiff).toEqual({
      "migrations[3]": "ADD",
      schemaVersion: "UPDATE",
    });
    expect(stack.outputs("app").schemaVersion).toBe(4);
  });

  it("previews unknown migrations with an unknown schemaVersion, without dry-running anything", async () => {
    const app = stack.state.get("app");
    if (!app) throw new Error("no app");
    const outputs = await plugin.update(
      app.urn,
      app.id,
      app.outputs,
      app.inputs,
      { ...app.inputs, migrations: UNKNOWN },
      true,
    );
    expect(outputs).toMatchObject({ name: "app-schema", schemaVersion: UNKNOWN, migrations: UNKNOWN });
  });

  it("a schema database whose first migration fails is not left behind", async () => {
    const broken: Decl = {
      type: "SchemaDatabase",
      name: "broken",
      inputs: {
        name: "broken",
        group: "fleet",
        migrations: ["CREATE TABLE ok (x)", "CREATE TABLE bad (x REFERENCES"],
      },
    };
    const message = await grpcError(
      plugin.create(
        urnOf("SchemaDatabase", "broken"),
        (await plugin.check(urnOf("SchemaDatabase", "broken"), {}, broken.inputs as Record<string, unknown>))
          .inputs,
      ),
      "FAILED_PRECONDITION",
    );
    expect(message).toMatch(/broken/);
    await withEngine(dataDir, (e) => expect(() => e.getDatabase("broken")).toThrow(/not found/));
  });

  it("destroys the fleet, tenants before their schema database", async () => {
    await stack.destroy();
    await withEngine(dataDir, (e) => expect(e.listDatabases()).toEqual([]));
    expect(fleet.serverLog).toEqual([]);
  });
});
