import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BACKENDS,
  columns,
  configVariables,
  type Decl,
  failuresOf,
  grpcError,
  Plugin,
  Stack,
  type Step,
  type Suite,
  startSuite,
  withEngine,
} from "./harness.js";

/**
 * A stack switches a SchemaDatabase from `migrations` to a declared `schema`: the preview shows the plan
 * and its lint in the outputs and dry-runs it on every tenant (changing nothing), `up` applies that plan,
 * and the next preview is empty. Runs against each backend.
 */

const USERS = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, legacy TEXT)";
const TENANTS = ["acme", "globex"];
const V2 = `CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL,
  legacy TEXT,
  phone TEXT
);
CREATE INDEX users_email ON users (email);`;

function program(schemaInputs: Record<string, unknown>): Decl[] {
  return [
    { type: "Group", name: "fleet", inputs: { name: "fleet" } },
    {
      type: "SchemaDatabase",
      name: "app",
      inputs: (o) => ({ name: "app-schema", group: o("fleet").name, ...schemaInputs }),
    },
    ...TENANTS.map(
      (t): Decl => ({
        type: "Database",
        name: t,
        inputs: (o) => ({ name: t, group: o("fleet").name, schemaParent: o("app").name }),
      }),
    ),
  ];
}

const appStep = (steps: Step[]) => steps.find((s) => s.name === "app");

describe.each(BACKENDS)("a declared schema through the provider ($name backend)", (backend) => {
  let suite: Suite;
  let stack: Stack;
  let dataDir: string;
  beforeAll(async () => {
    suite = await startSuite(backend, { configure: true });
    ({ stack, dataDir } = suite);
    await stack.up(program({ migrations: [USERS] }));
    await withEngine(dataDir, async (e) => {
      for (const t of TENANTS) await e.execute(t, `INSERT INTO users (email, legacy) VALUES ('a@${t}', 'x')`);
    });
  });
  afterAll(() => suite?.stop());

  it("takes exactly one of migrations and schema, and checks the schema", async () => {
    const both = await failuresOf(stack.preview(program({ migrations: [USERS], schema: V2 })));
    expect(both).toEqual([{ property: "schema", reason: expect.stringMatching(/exactly one of/) }]);
    const neither = await failuresOf(stack.preview(program({})));
    expect(neither).toEqual([{ property: "schema", reason: expect.stringMatching(/exactly one of/) }]);
    const bad = await failuresOf(stack.preview(program({ schema: "CREATE TABLE users (id,)" })));
    expect(bad).toEqual([
      { property: "schema", reason: expect.stringMatching(/statement 1: .*syntax error/) },
    ]);
  });

  it("previews the switch to a declared schema: the plan and its lint, dry-run everywhere, nothing applied", async () => {
    const steps = await stack.preview(program({ schema: V2 }));
    const app = appStep(steps);
    // childCount moved too (the tenants came after the last up): the provider observes it on every Diff.
    expect(app).toMatchObject({
      op: "update",
      diff: { diffs: ["migrations", "schema", "childCount"], replaces: [] },
    });
    expect(app?.outputs).toMatchObject({
      schemaVersion: 2,
      childCount: 2,
      plan: ['ALTER TABLE "users" ADD COLUMN phone TEXT', "CREATE INDEX users_email ON users (email)"],
      lint: [],
    });
    await withEngine(dataDir, async (e) => {
      expect(e.getDatabase("app-schema").schemaVersion).toBe(1);
      for (const t of TENANTS) expect(await columns(e, t, "users")).toEqual(["id", "email", "legacy"]);
    });
  });

  it("fails a preview whose plan would fail on a tenant's rows, naming it", async () => {
    await withEngine(dataDir, (e) => e.execute("globex", "INSERT INTO users (email) VALUES ('a@globex')"));
    const message = await grpcError(
      stack.preview(program({ schema: V2.replace("CREATE INDEX", "CREATE UNIQUE INDEX") })),
      "FAILED_PRECONDITION",
    );
    expect(message).toMatch(/globex: .*UNIQUE constraint failed: users\.email/);
    expect(message).not.toMatch(/acme/);
  });

  it("refuses a destructive plan unless allowDestructive", async () => {
    const dropping = V2.replace("  legacy TEXT,\n", "");
    const message = await grpcError(stack.preview(program({ schema: dropping })), "FAILED_PRECONDITION");
    expect(message).toMatch(/drops data .*"users"\."legacy".*allowDestructive/);
    const allowed = appStep(await stack.preview(program({ schema: dropping, allowDestructive: true })));
    expect(allowed?.outputs?.lint).toEqual(
      expect.arrayContaining([expect.stringMatching(/^destructive DS103/)]),
    );
  });

  it("refuses to apply when the schema moved after the preview", async () => {
    await stack.preview(program({ schema: V2 }));
    await withEngine(dataDir, (e) => e.migrate("app-schema", "CREATE INDEX users_legacy ON users (legacy)"));
    const message = await grpcError(stack.up(program({ schema: V2 })), "ABORTED");
    expect(message).toMatch(/moved since the plan was previewed.*preview again/);
    await withEngine(dataDir, async (e) => {
      expect(e.getDatabase("app-schema").schemaVersion).toBe(2);
      for (const t of TENANTS) expect(await columns(e, t, "users")).toEqual(["id", "email", "legacy"]);
    });
  });

  it("applies the previewed plan on up; every row stays; the next preview is empty", async () => {
    const preview = appStep(await stack.preview(program({ schema: V2 })));
    expect(preview?.outputs?.plan).toEqual([
      'DROP INDEX "users_legacy"',
      'ALTER TABLE "users" ADD COLUMN phone TEXT',
      "CREATE INDEX users_email ON users (email)",
    ]);
    await stack.up(program({ schema: V2 }));
    expect(stack.outputs("app")).toMatchObject({
      schemaVersion: 3,
      schema: V2,
      plan: preview?.outputs?.plan,
    });
    await withEngine(dataDir, async (e) => {
      for (const t of ["app-schema", ...TENANTS]) {
        expect(await columns(e, t, "users")).toEqual(["id", "email", "legacy", "phone"]);
        expect(e.getDatabase(t).schemaVersion).toBe(3);
      }
      const [acme] = await e.execute("acme", "SELECT email, legacy FROM users");
      expect(acme?.rows).toEqual([["a@acme", "x"]]);
      const [globex] = await e.execute("globex", "SELECT count(*) FROM users");
      expect(globex?.rows).toEqual([[2n]]);
      // The applied plan is history like any migration.
      expect(e.listMigrations("app-schema").at(-1)?.sql).toMatch(/ADD COLUMN phone TEXT/);
      expect(e.schemaDrift("app-schema").drifted).toEqual([]);
    });
    expect(appStep(await stack.preview(program({ schema: V2 })))?.op).toBe("same");
    await stack.refresh();
    expect(appStep(await stack.preview(program({ schema: V2 })))?.op).toBe("same");
  });

  it("binds `up` to the plan a preview in another plugin process showed, as Pulumi runs them", async () => {
    // Pulumi starts the plugin afresh for each deployment: the preview and the update never share a process.
    const nextDeployment = async () => {
      const plugin = await Plugin.start({ cwd: suite.plugin.cwd });
      await plugin.configure({}, configVariables(suite.fleet.config));
      const next = new Stack(plugin);
      next.state = stack.state;
      return { plugin, next };
    };
    const V3 = `${V2}\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);`;
    const previewing = await nextDeployment();
    const shown = appStep(await previewing.next.preview(program({ schema: V3 })))?.outputs?.plan;
    expect(shown).toEqual(["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"]);
    await previewing.plugin.stop();
    // Someone migrates the fleet between the preview and the update.
    await withEngine(dataDir, (e) => e.migrate("app-schema", "CREATE INDEX users_phone ON users (phone)"));

    const updating = await nextDeployment();
    try {
      const message = await grpcError(updating.next.up(program({ schema: V3 })), "ABORTED");
      expect(message).toMatch(/moved since the plan was previewed.*preview again/);
      await withEngine(dataDir, (e) => {
        expect(e.getDatabase("app-schema").schemaVersion).toBe(4);
        expect(e.showSchema("acme")).not.toMatch(/notes/);
      });
      // A new preview shows the plan as it is now; the next deployment applies exactly that.
      const again = appStep(await updating.next.preview(program({ schema: V3 })))?.outputs?.plan;
      expect(again).toEqual(['DROP INDEX "users_phone"', ...(shown as string[])]);
    } finally {
      await updating.plugin.stop();
    }
    const applying = await nextDeployment();
    try {
      await applying.next.up(program({ schema: V3 }));
      expect(applying.next.outputs("app")).toMatchObject({ schemaVersion: 5 });
      await withEngine(dataDir, (e) => {
        for (const t of ["app-schema", ...TENANTS]) expect(e.showSchema(t)).toMatch(/CREATE TABLE "notes"/);
        expect(e.schemaDrift("app-schema").drifted).toEqual([]);
      });
    } finally {
      await applying.plugin.stop();
    }
  });
});
