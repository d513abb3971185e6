import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BACKENDS,
  CheckFailed,
  cli,
  columns,
  type Decl,
  type Fleet,
  grpcError,
  isSecret,
  type Plugin,
  ROOT,
  Stack,
  type Step,
  type Suite,
  secret,
  startSuite,
  UNKNOWN,
  urnOf,
  withEngine,
} from "./harness.js";

/**
 * One stack through its whole life, in the engine's call orders: preview and up on an empty state, a
 * preview with no changes, an in-place update, replacements (create-before-delete and delete-before-
 * replace), refresh after a database was destroyed behind the stack's back, import of databases made with
 * the CLI, refused deletes, and destroy. The same life runs against each backend: the local engine, and
 * `tenantdb serve` through the Platform API backend.
 */

const NOTES = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)";

interface Knobs {
  blockWrites?: boolean;
  allowAttach?: boolean;
  fullAccess?: boolean;
  standaloneName?: string;
  spareLocation?: string;
}

/** The knobs after the update and the first replacement, which later steps build on. */
const REPLACED: Knobs = {
  blockWrites: true,
  allowAttach: false,
  fullAccess: true,
  standaloneName: "standalone-b",
};

function program(k: Knobs = {}): Decl[] {
  return [
    { type: "Group", name: "main", inputs: { name: "acme" } },
    {
      type: "Group",
      name: "spare",
      inputs: { name: "spare", ...(k.spareLocation ? { location: k.spareLocation } : {}) },
    },
    {
      type: "SchemaDatabase",
      name: "app-schema",
      inputs: (o) => ({ group: o("main").name, migrations: [NOTES] }),
    },
    {
      type: "Database",
      name: "tenant",
      inputs: (o) => ({ name: "tenant-a", group: o("main").name, schemaParent: o("app-schema").name }),
    },
    {
      type: "Database",
      name: "standalone",
      inputs: (o) => ({
        group: o("main").name,
        ...(k.standaloneName ? { name: k.standaloneName } : {}),
        ...(k.blockWrites !== undefined ? { blockWrites: k.blockWrites } : {}),
      }),
    },
    {
      type: "AttachPolicy",
      name: "attach",
      inputs: (o) => ({
        database: o("standalone").name,
        ...(k.allowAttach !== undefined ? { allowAttach: k.allowAttach } : {}),
      }),
    },
    {
      type: "Token",
      name: "reader",
      inputs: (o) => ({
        database: o("tenant").name,
        authorization: k.fullAccess ? "full-access" : "read-only",
      }),
    },
  ];
}

const byName = (steps: Step[]): Record<string, Step | undefined> =>
  Object.fromEntries(steps.filter((s) => s.op !== "delete").map((s) => [s.name, s]));

describe.each(BACKENDS)("a stack's life over the real plugin ($name backend)", (backend) => {
  let plugin: Plugin;
  let stack: Stack;
  let fleet: Fleet;
  let dataDir: string;

  let suite: Suite;
  beforeAll(async () => {
    suite = await startSuite(backend);
    ({ plugin, fleet, dataDir, stack } = suite);
  });
  afterAll(() => suite?.stop());

  it("starts like a plugin: GetPluginInfo, CheckConfig, then Configure with preview and secrets", async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(await plugin.pluginInfo()).toBe(pkg.version);
    // A relative dataDir resolves against the plugin's working directory (the program's directory).
    const checked = await plugin.checkConfig(fleet.config);
    expect(checked.failures).toEqual([]);
    if (fleet.credential) expect(checked.inputs.apiToken).toEqual(secret(fleet.credential));
    const res = await plugin.configure(checked.inputs);
    expect(res.getSupportspreview()).toBe(true);
    expect(res.getAcceptsecrets()).toBe(true);
  });

  it("previews an empty stack with predicted outputs and touches nothing", async () => {
    const steps = await stack.preview(program());
    expect(steps.map((s) => s.op)).toEqual(Array(7).fill("create"));
    expect(stack.calls).toEqual(
      program().flatMap((d) => [`Check ${d.type} ${d.name}`, `Create ${d.type} ${d.name}`]),
    );

    const out = Object.fromEntries(steps.map((s) => [s.name, s.outputs ?? {}]));
    expect(out.main).toEqual({ name: "acme", location: "local" });
    expect(out["app-schema"]).toMatchObject({
      group: "acme",
      migrations: [NOTES],
      schemaVersion: 1,
      childCount: 0,
    });
    expect(out["app-schema"]?.name).toMatch(/^app-schema-[0-9a-f]{7}$/);
    // A tenant database copies its parent's version, which the same preview may change: not knowable.
    expect(out.tenant).toMatchObject({ name: "tenant-a", schemaVersion: UNKNOWN, blockReads: false });
    expect(out.standalone).toMatchObject({ schemaVersion: 0, blockWrites: false });
    expect(out.attach).toEqual({ database: out.standalone?.name, allowAttach: true });
    const jwt = out.reader?.jwt;
    expect(isSecret(jwt) && jwt.value).toBe(UNKNOWN);
    expect(out.reader).toMatchObject({ jti: UNKNOWN, expiresAt: null, authorization: "read-only" });

    expect(await fleet.untouched()).toBe(true);
    expect(stack.state.size).toBe(0);
  });

  it("creates everything on up", async () => {
    stack.calls = [];
    const steps = await stack.up(program());
    expect(steps.map((s) => s.op)).toEqual(Array(7).fill("create"));
    expect(stack.state.get("main")?.id).toBe("acme");
    expect(stack.state.get("tenant")?.id).toBe("tenant-a");
    const reader = stack.outputs("reader");
    expect(stack.state.get("reader")?.id).toBe(reader.jti);

    const schema = stack.outputs("app-schema").name as string;
    const standalone = stack.outputs("standalone").name as string;
    await withEngine(dataDir, async (e) => {
      expect(e.listGroups().map((g) => g.name)).toEqual(["acme", "spare"]);
      expect(e.getDatabase(schema)).toMatchObject({ type: "schema", group: "acme", schemaVersion: 1 });
      expect(e.getDatabase("tenant-a")).toMatchObject({
        type: "child",
        schemaParent: schema,
        schemaVersion: 1,
      });
      expect(await columns(e, "tenant-a", "notes")).toEqual(["id", "body"]);
      expect(e.getDatabase(standalone)).toMatchObject({
        type: "standard",
        allowAttach: true,
        blockWrites: false,
      });
    });
  });

  it("brings outputs other resources moved up to date, then previews an unchanged program as DIFF_NONE", async () => {
    // The tenant was created after its schema database, whose childCount was 0 then. Diff reads the
    // count afresh (an output, not an input: inputDiff false), so the engine's Update refreshes it
    // (pkg/resource/deploy/step_generator.go: DIFF_SOME without replaces is an update step).
    const before = fs.readFileSync(path.join(fleet.dataDir, "catalog.db"));
    const first = byName(await stack.preview(program()));
    expect(first["app-schema"]).toMatchObject({
      op: "update",
      diff: { changes: "SOME", diffs: ["childCount"], replaces: [], detailedDiff: { childCount: "UPDATE" } },
      outputs: { childCount: 1 },
    });
    expect(first["app-schema"]?.diff?.inputDiffs).toEqual({ childCount: false });
    await stack.up(program());
    expect(stack.outputs("app-schema").childCount).toBe(1);
    // Refreshing an output wrote nothing.
    expect(fs.readFileSync(path.join(fleet.dataDir, "catalog.db")).equals(before)).toBe(true);

    stack.calls = [];
    const steps = await stack.preview(program());
    expect(steps.map((s) => s.op)).toEqual(Array(7).fill("same"));
    for (const s of steps) {
      expect(s.diff).toMatchObject({ changes: "NONE", diffs: [], replaces: [], detailedDiff: {} });
    }
    expect(stack.calls).toEqual(
      program().flatMap((d) => [`Check ${d.type} ${d.name}`, `Diff ${d.type} ${d.name}`]),
    );
  });

  it("updates in place: Diff names the property, Update(preview) changes nothing, Update applies it", async () => {
    const changed = program({ blockWrites: true, allowAttach: false });
    const standalone = stack.outputs("standalone").name as string;
    stack.calls = [];
    const preview = byName(await stack.preview(changed));
    expect(preview.standalone).toMatchObject({
      op: "update",
      diff: {
        changes: "SOME",
        diffs: ["blockWrites"],
        replaces: [],
        detailedDiff: { blockWrites: "UPDATE" },
      },
      outputs: { blockWrites: true, schemaVersion: 0 },
    });
    expect(preview.attach).toMatchObject({ op: "update", diff: { detailedDiff: { allowAttach: "UPDATE" } } });
    expect(preview.tenant?.op).toBe("same");
    expect(stack.calls).toContain("Update Database standalone");
    await withEngine(dataDir, (e) => {
      expect(e.getDatabase(standalone)).toMatchObject({ blockWrites: false, allowAttach: true });
    });

    await stack.up(changed);
    await withEngine(dataDir, (e) => {
      expect(e.getDatabase(standalone)).toMatchObject({ blockWrites: true, allowAttach: false });
    });
    expect(stack.outputs("standalone").blockWrites).toBe(true);
  });

  it("replaces create-before-delete: Diff says replace, Check again with empty olds, Create, then Delete the old", async () => {
    const oldToken = stack.outputs("reader");
    const oldStandalone = stack.outputs("standalone").name as string;
    const changed = program(REPLACED);
    stack.calls = [];
    const steps = byName(await stack.up(changed));

    expect(steps.reader?.diff).toMatchObject({
      replaces: ["authorization"],
      detailedDiff: { authorization: "UPDATE_REPLACE" },
      deleteBeforeReplace: false,
    });
    expect(steps.standalone?.diff).toMatchObject({
      detailedDiff: { name: "UPDATE_REPLACE" },
      deleteBeforeReplace: false,
    });
    expect(steps.attach?.diff).toMatchObject({ detailedDiff: { database: "UPDATE_REPLACE" } });
    const readerCalls = stack.calls.filter((c) => c.endsWith("Token reader"));
    expect(readerCalls).toEqual([
      "Check Token reader",
      "Diff Token reader",
      "Check Token reader",
      "Create Token reader",
      "Delete Token reader",
    ]);
    // Old ones go last, dependents first.
    expect(stack.calls.slice(-3)).toEqual([
      "Delete Token reader",
      "Delete AttachPolicy attach",
      "Delete Database standalone",
    ]);

    const newToken = stack.outputs("reader");
    expect(newToken.jti).not.toBe(oldToken.jti);
    await withEngine(dataDir, async (e) => {
      expect(e.getDatabase("standalone-b")).toMatchObject({ blockWrites: true, allowAttach: false });
      expect(() => e.getDatabase(oldStandalone)).toThrow(/not found/);
      await expect(e.authenticate((oldToken.jwt as { value: string }).value, "tenant-a")).rejects.toThrow(
        /revoked/,
      );
      const principal = await e.authenticate((newToken.jwt as { value: string }).value, "tenant-a");
      expect(principal.kind).toBe("token");
    });
  });

  it("replaces delete-before-create when the replacement keeps its explicit name", async () => {
    const changed = program({ ...REPLACED, spareLocation: "eu-west" });
    stack.calls = [];
    const steps = byName(await stack.up(changed));
    expect(steps.spare?.diff).toMatchObject({
      diffs: ["location"],
      replaces: ["location"],
      detailedDiff: { location: "UPDATE_REPLACE" },
      deleteBeforeReplace: true,
    });
    expect(stack.calls.filter((c) => c.endsWith("Group spare"))).toEqual([
      "Check Group spare",
      "Diff Group spare",
      "Check Group spare",
      "Delete Group spare",
      "Create Group spare",
    ]);
    await withEngine(dataDir, (e) => expect(e.getGroup("spare").location).toBe("eu-west"));
  });

  it("asks for delete-before-replace only when the new resource would take the old one's name", async () => {
    const urn = urnOf("Database", "standalone");
    const base = { group: "acme", blockReads: false, blockWrites: false };
    const explicit = await plugin.diff(
      urn,
      "fixed",
      {},
      { ...base, name: "fixed" },
      { ...base, name: "fixed", group: "spare" },
    );
    expect(explicit).toMatchObject({ replaces: ["group"], deleteBeforeReplace: true });
    // An auto-name is fresh on replacement (Check with empty olds), so the new one can come first.
    const auto = "standalone-0a1b2c3";
    const autoDiff = await plugin.diff(
      urn,
      auto,
      {},
      { ...base, name: auto, __autonamed: true },
      { ...base, name: auto, group: "spare", __autonamed: true },
    );
    expect(autoDiff).toMatchObject({ replaces: ["group"], deleteBeforeReplace: false });
    const fresh = await plugin.check(urn, {}, { group: "spare" });
    expect(fresh.inputs.name).toMatch(/^standalone-[0-9a-f]{7}$/);
    expect(fresh.inputs.name).not.toBe(auto);
  });

  it("refresh drops what was destroyed with the CLI and keeps the rest", async () => {
    const before = new Map(stack.state);
    cli(dataDir, "db", "destroy", "standalone-b", "--yes");
    stack.calls = [];
    const gone = await stack.refresh();
    expect(gone).toEqual(["standalone", "attach"]);
    // step.go RefreshStep: Read, then for what is still there a Diff with the sides swapped (the
    // refreshed inputs as the old, the state's inputs as the new). Nothing drifted but what was destroyed.
    expect(stack.calls.every((c) => c.startsWith("Read ") || c.startsWith("Diff "))).toBe(true);
    expect(stack.calls.filter((c) => c.startsWith("Diff "))).toHaveLength(stack.state.size);
    expect(stack.refreshDiffs).toEqual({});
    for (const name of ["main", "tenant", "reader"]) {
      expect(stack.state.get(name)?.outputs, name).toEqual(before.get(name)?.outputs);
    }
    // Outputs catch up with the world: the schema database got its child after it was created.
    expect(stack.outputs("app-schema")).toEqual({ ...before.get("app-schema")?.outputs, childCount: 1 });
    // The next preview wants them back, and up recreates them.
    const changed = program({ ...REPLACED, spareLocation: "eu-west" });
    const steps = byName(await stack.preview(changed));
    expect([steps.standalone?.op, steps.attach?.op, steps.tenant?.op]).toEqual(["create", "create", "same"]);
    await stack.up(changed);
    await withEngine(dataDir, (e) => expect(e.getDatabase("standalone-b").blockWrites).toBe(true));
  });

  it("imports what the CLI made: Read with the id alone returns inputs that Check and Diff accept as unchanged", async () => {
    const schema = stack.outputs("app-schema").name as string;
    cli(dataDir, "db", "create", "legacy", "--group", "acme");
    cli(dataDir, "db", "create", "legacy-tenant", "--schema", schema);
    cli(dataDir, "db", "create", "legacy-schema", "--group", "acme", "--type", "schema");
    cli(dataDir, "db", "shell", "legacy-schema", "CREATE TABLE t (x TEXT)");
    cli(dataDir, "group", "create", "legacy-group");
    cli(dataDir, "db", "config", "attach", "allow", "legacy");

    const db = await stack.import(
      { type: "Database", name: "legacy", inputs: { name: "legacy", group: "acme" } },
      "legacy",
    );
    expect(db.read.inputs).toEqual({ name: "legacy", group: "acme", blockReads: false, blockWrites: false });
    expect(db.diff.changes).toBe("NONE");

    const child = await stack.import(
      {
        type: "Database",
        name: "legacy-tenant",
        inputs: { name: "legacy-tenant", group: "acme", schemaParent: schema },
      },
      "legacy-tenant",
    );
    expect(child.read.inputs).toEqual({
      name: "legacy-tenant",
      group: "acme",
      schemaParent: schema,
      blockReads: false,
      blockWrites: false,
    });
    expect(child.diff.changes).toBe("NONE");

    const parent = await stack.import(
      {
        type: "SchemaDatabase",
        name: "legacy-schema",
        inputs: { name: "legacy-schema", group: "acme", migrations: ["CREATE TABLE t (x TEXT)"] },
      },
      "legacy-schema",
    );
    expect(parent.read.inputs).toEqual({
      name: "legacy-schema",
      group: "acme",
      migrations: ["CREATE TABLE t (x TEXT)"],
    });
    expect(parent.read.outputs).toMatchObject({ schemaVersion: 1, childCount: 0 });
    expect(parent.diff.changes).toBe("NONE");

    const group = await stack.import(
      { type: "Group", name: "legacy-group", inputs: { name: "legacy-group" } },
      "legacy-group",
    );
    expect(group.diff.changes).toBe("NONE");
    const policy = await stack.import(
      { type: "AttachPolicy", name: "legacy-attach", inputs: { database: "legacy" } },
      "legacy",
    );
    expect(policy.read.inputs).toEqual({ database: "legacy", allowAttach: true });
    expect(policy.diff.changes).toBe("NONE");

    // A program that disagrees with what exists is not an import: the engine would refuse it.
    const mismatch = await stack.import(
      { type: "Database", name: "mismatch", inputs: { name: "legacy", group: "acme", blockWrites: true } },
      "legacy",
    );
    expect(mismatch.diff).toMatchObject({ changes: "SOME", diffs: ["blockWrites"] });
    stack.state.delete("mismatch");

    // A token's JWT is never stored, so a bare jti cannot be read back...
    const reader = stack.outputs("reader");
    const message = await grpcError(
      plugin.read(urnOf("Token", "t"), reader.jti as string),
      "FAILED_PRECONDITION",
    );
    expect(message).toMatch(/cannot be read back from its jti.*Pass the token itself to `Token.get`/);
    // ...but `Token.get(name, jwt)` works: the engine's ReadResource sends the id (and any state) to Read,
    // which verifies the token against its group's keys and reports what it grants. A read step
    // (pkg/resource/deploy/step_generator.go, GenerateReadSteps; step.go, ReadStep.Apply) sends the
    // `get`'s state as both Inputs and State, and keeps the id Read answers.
    const jwt = (reader.jwt as { value: string }).value;
    const got = await plugin.read(urnOf("Token", "got"), jwt);
    expect(got.id).toBe(reader.jti);
    expect(got.outputs).toMatchObject({
      database: "tenant-a",
      authorization: reader.authorization,
      attach: [],
      jti: reader.jti,
      expiresAt: null,
    });
    expect(isSecret(got.outputs.jwt) && got.outputs.jwt.value).toBe(jwt);
    // `Token.get(name, jti, { jwt })`: the token in the state, nothing else known; the grant comes from
    // the token itself, verified as above.
    const byState = await plugin.read(urnOf("Token", "by-state"), reader.jti as string, { jwt }, { jwt });
    expect(byState.id).toBe(reader.jti);
    expect(byState.outputs).toEqual(got.outputs);
    expect(byState.inputs).toEqual(got.inputs);
    // A token of another fleet, or a forged one, is not found rather than believed.
    const forged = `${jwt.split(".").slice(0, 2).join(".")}.${"A".repeat(86)}`;
    expect((await plugin.read(urnOf("Token", "forged"), forged)).id).toBe("");
  });

  it("refuses to delete a schema database that still has children, and a group that holds databases; nothing is lost", async () => {
    await withEngine(dataDir, (e) => e.execute("tenant-a", "INSERT INTO notes (body) VALUES ('keep me')"));
    const schema = stack.state.get("app-schema");
    if (!schema) throw new Error("no app-schema");
    const message = await grpcError(
      plugin.delete(schema.urn, schema.id, schema.outputs),
      "FAILED_PRECONDITION",
    );
    expect(message).toMatch(/still has 2 child databases/);
    const group = stack.state.get("main");
    if (!group) throw new Error("no main");
    expect(await grpcError(plugin.delete(group.urn, group.id, group.outputs), "FAILED_PRECONDITION")).toMatch(
      /group "acme" still has \d+ databases/,
    );
    await withEngine(dataDir, async (e) => {
      expect(e.getDatabase(schema.id).type).toBe("schema");
      const [rows] = await e.execute("tenant-a", "SELECT body FROM notes");
      expect(rows?.rows).toEqual([["keep me"]]);
    });
  });

  it("destroys with Delete only, in reverse dependency order, and deleting again is harmless", async () => {
    const order = [...stack.state.values()].reverse().map((e) => `Delete ${e.type} ${e.name}`);
    stack.calls = [];
    await stack.destroy();
    expect(stack.calls).toEqual(order);
    await withEngine(dataDir, (e) => {
      expect(e.listGroups()).toEqual([]);
      expect(e.listDatabases()).toEqual([]);
    });
    await plugin.delete(urnOf("Database", "tenant"), "tenant-a", { name: "tenant-a" });
    await plugin.delete(urnOf("Group", "main"), "acme", { name: "acme" });
    await plugin.delete(urnOf("AttachPolicy", "attach"), "standalone-b", { database: "standalone-b" });
  });

  it("a failing Check is reported as data, and the plugin is still serving after all of it", async () => {
    await expect(
      new Stack(plugin).preview([
        { type: "Database", name: "bad", inputs: { name: "Bad Name!", group: "acme" } },
      ]),
    ).rejects.toBeInstanceOf(CheckFailed);
    expect(plugin.alive).toBe(true);
    expect(plugin.stderr).not.toMatch(/uncaught|unhandled/);
    if (fleet.credential) expect(plugin.stderr).not.toContain(fleet.credential);
    expect(fleet.serverLog).toEqual([]);
  });
});
