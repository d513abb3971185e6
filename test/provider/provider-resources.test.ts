import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BACKENDS,
  cli,
  type Decl,
  ensureBuilt,
  grpcError,
  Plugin,
  type Props,
  Stack,
  secret,
  urnOf,
  withEngine,
} from "./harness.js";

/**
 * The provider as a provider resource: the default provider (its inputs are the stack's `tenantdb:*`
 * config, pkg/resource/deploy/default_providers.go) and explicit ones, each through the registry's
 * CheckConfig → DiffConfig → Configure (pkg/resource/deploy/providers/registry.go), with a replaced
 * provider replacing every resource through it (pkg/resource/deploy/step_generator.go, providerChanged).
 * Every plugin process gets the whole stack's config in PULUMI_CONFIG
 * (sdk/go/common/resource/plugin/provider_plugin.go, NewProvider).
 */

const program: Decl[] = [
  { type: "Group", name: "main", inputs: { name: "acme" } },
  { type: "SchemaDatabase", name: "app", inputs: { group: "acme", migrations: ["CREATE TABLE t (x)"] } },
  {
    type: "Database",
    name: "tenant",
    inputs: (o) => ({ name: "tenant-1", group: "acme", schemaParent: o("app").name }),
  },
];

describe("a default provider whose configuration is re-spelt keeps its fleet", () => {
  let plugin: Plugin;
  let stack: Stack;
  let dataDir: string;
  beforeAll(async () => {
    ensureBuilt();
    plugin = await Plugin.start();
    stack = new Stack(plugin);
    dataDir = path.join(plugin.cwd, ".tenantdb");
    expect(await stack.configureProvider({})).toBe("create");
    await stack.up(program);
    await stack.up(program); // settles childCount, observed after the tenant was created
    await withEngine(dataDir, (e) => e.execute("tenant-1", "INSERT INTO t VALUES ('the tenant''s data')"));
  });
  afterAll(() => plugin?.stop());

  it.each([
    ["the default made explicit", { dataDir: ".tenantdb" }],
    ["a ./ prefix", { dataDir: "./.tenantdb" }],
    ["the absolute path", { dataDir: "<abs>" }],
    ["unset again", {}],
  ])("%s is no replacement, and up leaves every resource as it is", async (_, config: Props) => {
    const resolved = config.dataDir === "<abs>" ? { dataDir: dataDir } : config;
    expect(await stack.configureProvider(resolved)).not.toBe("replace");
    const steps = await stack.up(program);
    expect(steps.map((s) => s.op)).toEqual(["same", "same", "same"]);
    await withEngine(dataDir, async (e) => {
      const [rows] = await e.execute("tenant-1", "SELECT x FROM t");
      expect(rows?.rows).toEqual([["the tenant's data"]]);
    });
  });

  it("a Platform API URL with or without a trailing slash is the same backend", async () => {
    const base = { apiToken: secret("t"), organization: "o" };
    const a = await plugin.checkConfig({ ...base, url: "http://h:8080" });
    const b = await plugin.checkConfig({ ...base, url: "http://H:8080/" });
    const diff = await plugin.diffConfig(a.inputs, b.inputs);
    expect(diff.replaces).toEqual([]);
  });

  it("pointing it at another data directory fails with an explanation and touches nothing", async () => {
    const before = new Map(stack.state);
    const providerBefore = stack.provider;
    const message = await grpcError(stack.configureProvider({ dataDir: "elsewhere" }), "FAILED_PRECONDITION");
    expect(message).toContain(
      `data directory ${dataDir} → data directory ${path.join(plugin.cwd, "elsewhere")}`,
    );
    expect(message).toMatch(/would replace every resource managed through it/);
    expect(stack.provider).toBe(providerBefore);
    expect(stack.state).toEqual(before);
    expect(fs.existsSync(path.join(plugin.cwd, "elsewhere"))).toBe(false);
    await withEngine(dataDir, (e) => expect(e.getDatabase("tenant-1").name).toBe("tenant-1"));
  });

  it("$TENANTDB_DATA_DIR is read once, when the configuration is checked, and recorded", async () => {
    const checked = await plugin.checkConfig({});
    expect(checked.inputs.__backend).toBe(`local ${dataDir}`);
  });
});

describe("explicit providers see only their own arguments", () => {
  const stackConfig = JSON.stringify({ "tenantdb:dataDir": "stack-dir", "proj:other": "x" });
  let server: Awaited<ReturnType<(typeof BACKENDS)[1]["open"]>>;
  let plugins: Plugin[] = [];
  const start = async () => {
    const p = await Plugin.start({ env: { PULUMI_CONFIG: stackConfig } });
    plugins.push(p);
    return p;
  };
  beforeAll(async () => {
    ensureBuilt();
    server = await (BACKENDS.find((b) => b.name === "platform") as (typeof BACKENDS)[1]).open(await start());
  });
  afterAll(async () => {
    await Promise.all(plugins.map((p) => p.stop()));
    plugins = [];
    await server?.close();
  });

  it("a Platform API provider works in a stack whose config sets tenantdb:dataDir", async () => {
    const plugin = await start();
    const stack = new Stack(plugin);
    expect(await stack.configureProvider(server.config)).toBe("create");
    await stack.up([{ type: "Group", name: "g", inputs: { name: "remote" } }]);
    await withEngine(server.dataDir, (e) => expect(e.getGroup("remote").name).toBe("remote"));
    expect(fs.existsSync(path.join(plugin.cwd, "stack-dir"))).toBe(false);
  });

  it("an explicit provider with no arguments uses the documented default, not the stack's directory", async () => {
    const plugin = await start();
    const stack = new Stack(plugin);
    await stack.configureProvider({});
    await stack.up([{ type: "Group", name: "g", inputs: { name: "local-default" } }]);
    await withEngine(path.join(plugin.cwd, ".tenantdb"), (e) =>
      expect(e.getGroup("local-default")).toBeTruthy(),
    );
    expect(fs.existsSync(path.join(plugin.cwd, "stack-dir"))).toBe(false);
  });

  it("the default provider gets the stack's config as its arguments", async () => {
    const plugin = await start();
    const stack = new Stack(plugin);
    // default_providers.go: the default provider's inputs are the package's stack config.
    await stack.configureProvider({ dataDir: "stack-dir" });
    await stack.up([{ type: "Group", name: "g", inputs: { name: "from-stack" } }]);
    expect(cli(path.join(plugin.cwd, "stack-dir"), "group", "list")).toContain("from-stack");
  });
});

describe("delete-before-replace follows who chose the name", () => {
  let plugin: Plugin;
  let stack: Stack;
  beforeAll(async () => {
    ensureBuilt();
    plugin = await Plugin.start();
    stack = new Stack(plugin);
    await stack.configureProvider({ dataDir: "data" });
  });
  afterAll(() => plugin?.stop());

  const groups: Decl[] = [
    { type: "Group", name: "g1", inputs: { name: "g1" } },
    { type: "Group", name: "g2", inputs: { name: "g2" } },
  ];

  it("an explicit name shaped like an auto-name moves group delete-first, and the preview says so", async () => {
    const tenant = (group: string): Decl => ({
      type: "Database",
      name: "tenant",
      inputs: { name: "tenant-2024001", group },
    });
    await stack.up([...groups, tenant("g1")]);
    const preview = await stack.preview([...groups, tenant("g2")]);
    expect(preview.find((s) => s.name === "tenant")).toMatchObject({
      op: "replace",
      diff: { replaces: ["group"], deleteBeforeReplace: true },
    });
    await stack.up([...groups, tenant("g2")]);
    await withEngine(path.join(plugin.cwd, "data"), (e) =>
      expect(e.getDatabase("tenant-2024001").group).toBe("g2"),
    );
    // step_generator.go: with delete-before-replace the old one goes before the new one is created.
    const calls = stack.calls.filter((c) => c.endsWith("Database tenant"));
    expect(calls.slice(-2)).toEqual(["Delete Database tenant", "Create Database tenant"]);
  });

  it("an auto-named resource renamed by an alias is created first, under a fresh name", async () => {
    const urn = urnOf("Database", "auto");
    const first = await plugin.check(urn, {}, { group: "g1" });
    expect(first.inputs).toMatchObject({ __autonamed: true });
    const created = await plugin.create(urn, first.inputs);
    // The engine sends the aliased resource's old inputs with Check under the new name.
    const renamed = urnOf("Database", "renamed-by-alias");
    const checked = await plugin.check(renamed, first.inputs, { group: "g2" });
    expect(checked.inputs).toMatchObject({ name: created.id, __autonamed: true });
    const diff = await plugin.diff(renamed, created.id, created.outputs, first.inputs, checked.inputs);
    expect(diff).toMatchObject({ replaces: ["group"], deleteBeforeReplace: false });
  });

  it("a name Check kept from an import is not its own: delete-first", async () => {
    cli(path.join(plugin.cwd, "data"), "db", "create", "imported-7abcdef", "--group", "g1");
    const urn = urnOf("Database", "imported");
    const read = await plugin.read(urn, "imported-7abcdef");
    const checked = await plugin.check(urn, read.inputs ?? {}, { group: "g2" });
    expect(checked.inputs.__autonamed).toBeUndefined();
    const diff = await plugin.diff(urn, read.id, read.outputs, read.inputs, checked.inputs);
    expect(diff.deleteBeforeReplace).toBe(true);
  });

  it("import then update: the imported name stays given, so later replacements go delete-first", async () => {
    const dataDir = path.join(plugin.cwd, "data");
    cli(dataDir, "db", "create", "legacy", "--group", "g1");
    const decl = (k: Props): Decl => ({ type: "Database", name: "legacy", inputs: { group: "g1", ...k } });
    // `import:` with the name left out of the program: Check keeps the imported name (Read's inputs).
    const imported = await stack.import(decl({}), "legacy");
    expect(imported.diff.changes).toBe("NONE");
    const kept = [...stack.state.values()].filter((e) => e.name !== "legacy");
    const program = (k: Props): Decl[] => [
      ...groups,
      ...kept
        .filter((e) => !groups.some((g) => g.name === e.name))
        .map((e) => ({ type: e.type, name: e.name, inputs: e.inputs })),
      decl(k),
    ];
    const updated = await stack.up(program({ blockWrites: true }));
    expect(updated.find((s) => s.name === "legacy")).toMatchObject({
      op: "update",
      diff: { diffs: ["blockWrites"] },
    });
    await withEngine(dataDir, (e) => expect(e.getDatabase("legacy").blockWrites).toBe(true));
    const moved = await stack.up(program({ blockWrites: true, group: "g2" }));
    expect(moved.find((s) => s.name === "legacy")).toMatchObject({
      op: "replace",
      diff: { deleteBeforeReplace: true },
    });
    // The program never named it, so the replacement is named afresh (step_generator.go re-Checks with
    // no olds); the imported database went first.
    const replacement = stack.outputs("legacy").name as string;
    expect(replacement).toMatch(/^legacy-[0-9a-f]{7}$/);
    await withEngine(dataDir, (e) => {
      expect(e.getDatabase(replacement).group).toBe("g2");
      expect(e.listDatabases().map((d) => d.name)).not.toContain("legacy");
    });
  });
});
