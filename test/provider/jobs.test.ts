import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  ensureBuilt,
  fingerprint,
  grpcError,
  holdLock,
  migrateOutside,
  Plugin,
  type Props,
  type Resource,
  Stack,
  UNKNOWN,
  until,
  urnOf,
  withEngine,
} from "./harness.js";

/**
 * The provider next to migration jobs, in the engine's call orders (pkg/resource/deploy/step_generator.go
 * for preview and up, step.go's RefreshStep for refresh): previews and reads that never write, creates
 * that wait out a running job, progress through the engine's Log service
 * (sdk/go/common/resource/plugin/host.go, Host.Log; the address comes as the plugin's argument and in
 * Handshake, sdk/go/common/resource/plugin/provider_plugin.go), Cancel (the engine's plugin host sends it
 * on SIGINT before it stops the plugin) and customTimeouts (CreateRequest/UpdateRequest.timeout).
 */

const TENANTS = ["t-1", "t-2", "t-3", "t-4"];
const FIRST = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)";
/** A migration that makes rows: a tenant created after it must carry all of them. */
const BIG_TABLE =
  "CREATE TABLE big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) SELECT x, randomblob(16) AS b FROM c";

let plugins: Plugin[] = [];
afterEach(async () => {
  await Promise.all(plugins.map((p) => p.stop()));
  plugins = [];
});

/** A plugin over a fleet made outside it: group g, schema database app (one migration), five tenants. */
async function fleet(): Promise<{ plugin: Plugin; dataDir: string; stack: Stack }> {
  ensureBuilt();
  const plugin = await Plugin.start();
  plugins.push(plugin);
  const dataDir = path.join(plugin.cwd, "data");
  await withEngine(dataDir, async (e) => {
    e.createGroup("g");
    await e.createDatabase("app", { group: "g", type: "schema" });
    await e.migrate("app", FIRST);
    await e.createChildren("app", TENANTS);
  });
  await plugin.handshake();
  const stack = new Stack(plugin);
  await stack.configureProvider({ dataDir: "data" });
  return { plugin, dataDir, stack };
}

const appUrn = urnOf("SchemaDatabase", "app");
const appInputs = (migrations: string[]): Props => ({ name: "app", group: "g", migrations });

describe("previews, Check, Diff and Read write nothing", () => {
  it("leaves a job a dead process left half done as it is, until up writes", async () => {
    const { plugin, dataDir, stack } = await fleet();
    // A job past its commit point whose run failed on t-3: committed, incomplete, resumable.
    const job = migrateOutside(dataDir, "app", "ALTER TABLE notes ADD COLUMN tag TEXT", {
      failRunOn: ["t-3"],
    });
    expect((await job.finished).error).toMatch(/committed but incomplete/);
    const before = fingerprint(dataDir);

    // import (Read, Check, Diff), a refresh's Read, and the preview of an update and of a new tenant.
    const read = await plugin.read(appUrn, "app");
    const checked = await plugin.check(
      appUrn,
      read.inputs ?? {},
      appInputs([FIRST, "ALTER TABLE notes ADD COLUMN tag TEXT"]),
    );
    expect(checked.failures).toEqual([]);
    // The committed migration is part of the history already: no change.
    const diff = await plugin.diff(appUrn, "app", read.outputs, read.inputs, checked.inputs);
    expect(diff.changes).toBe("NONE");
    // The preview of appending a migration dry-runs it everywhere (and rolls back).
    const appended = [FIRST, "ALTER TABLE notes ADD COLUMN tag TEXT", "CREATE TABLE more (x)"];
    const planned = await plugin.check(appUrn, checked.inputs, appInputs(appended));
    // (The engine's dry run still expects the version from before the unfinished job, so it refuses the
    // databases that job already reached; what matters here is that the preview wrote and finished nothing.)
    await plugin.update(appUrn, "app", read.outputs, checked.inputs, planned.inputs, true).catch(() => {});
    await plugin.read(urnOf("Database", "t-3"), "t-3", {}, {});
    const tenant = await plugin.check(
      urnOf("Database", "t-6"),
      {},
      { name: "t-6", group: "g", schemaParent: "app" },
    );
    await plugin.create(urnOf("Database", "t-6"), tenant.inputs, true);

    expect(fingerprint(dataDir)).toEqual(before);
    await withEngine(dataDir, (e) => expect(e.getDatabase("t-3").schemaVersion).toBe(1));

    // The first write of `up` finishes the job first, as opening the engine for the CLI would.
    await stack.up([
      { type: "Database", name: "t-6", inputs: { name: "t-6", group: "g", schemaParent: "app" } },
    ]);
    await withEngine(dataDir, (e) => {
      expect(e.getDatabase("t-3").schemaVersion).toBe(2);
      expect(e.getDatabase("t-6").schemaVersion).toBe(2);
    });
  });

  it("the preview of a name that exists outside the stack fails as up would, naming the import", async () => {
    // pkg/resource/deploy/step.go, CreateStep.Apply: a preview's create step calls Create with
    // Preview = the deployment's DryRun, so the plugin sees the name the create would take.
    const { plugin } = await fleet();
    const urn = urnOf("Database", "someone-elses");
    const checked = await plugin.check(urn, {}, { name: "t-1", group: "g" });
    const message = await grpcError(plugin.create(urn, checked.inputs, true), "ALREADY_EXISTS");
    expect(message).toMatch(/a Database named "t-1" already exists and this stack does not manage it/);
    expect(message).toContain("pulumi import tenantdb:index:Database someone-elses t-1");
  });
});

describe("creates meet running jobs", () => {
  it("wait for the parent's migration side by side (telling the engine), or give up at their customTimeout", async () => {
    const { plugin, dataDir } = await fleet();
    // t-1 is busy: the job's dry run waits there, so the job runs until the test lets it go on.
    const release = await holdLock(dataDir, "t-1", "write");
    const job = migrateOutside(dataDir, "app", BIG_TABLE);
    const urn = urnOf("Database", "t-6");
    let creating: Promise<Resource[]>;
    const tenants = ["t-6", "t-7", "t-8"];
    try {
      await job.started;
      const { inputs } = await plugin.check(urn, {}, { name: "t-6", group: "g", schemaParent: "app" });

      // customTimeouts.create of 1 s (pkg/resource/deploy/step.go, CreateStep.Apply sends
      // CustomTimeouts.Create as CreateRequest.timeout): the step fails, saying what it waited for.
      const impatient = await grpcError(plugin.create(urn, inputs, false, 1), "ABORTED");
      expect(impatient).toMatch(
        /migration in progress.*waited for it to finish before creating t-6; gave up after/,
      );

      // Without one, Creates wait (bounded by the default) and each tenant gets the new version. The
      // engine runs independent steps side by side (pkg/resource/deploy/step_executor.go,
      // ExecuteParallel), so a fleet's Creates meet the job together.
      const others = await Promise.all(
        tenants.slice(1).map(async (name) => {
          const other = urnOf("Database", name);
          return {
            urn: other,
            inputs: (await plugin.check(other, {}, { name, group: "g", schemaParent: "app" })).inputs,
          };
        }),
      );
      creating = Promise.all([{ urn, inputs }, ...others].map((c) => plugin.create(c.urn, c.inputs)));
      const waits = (u: string) =>
        plugin.messages.filter((m) => m.urn === u && /^waiting for/.test(m.message));
      await until(
        () => waits(urn).length === 2 && others.every((c) => waits(c.urn).length === 1),
        "every create to say it waits",
      );
    } finally {
      release();
    }
    const created = await creating;
    expect(created.map((c) => [c.id, c.outputs.schemaVersion])).toEqual(tenants.map((t) => [t, 2]));
    expect((await job.finished).version).toBe(2);
    expect(plugin.messages).toContainEqual(
      expect.objectContaining({
        severity: "info",
        urn,
        message: expect.stringMatching(/^waiting for a migration to finish before creating t-6/),
      }),
    );
    await withEngine(dataDir, async (e) => {
      for (const t of tenants) {
        expect(e.getDatabase(t).schemaVersion).toBe(2);
        const [count] = await e.execute(t, "SELECT count(*) FROM big");
        expect(Number(count?.rows[0]?.[0])).toBe(5000);
      }
    });
  });
});

describe("long migrations through the provider", () => {
  // An index to build: its dry run opens every child (a migration touching only the schema would be
  // judged on the parent for children holding the same schema, and a busy child would not hold it up).
  const update = (
    plugin: Plugin,
    preview = false,
    timeout = 0,
    migration = "CREATE TABLE more (x); CREATE INDEX more_x ON more (x)",
  ) =>
    plugin.update(
      appUrn,
      "app",
      { ...appInputs([FIRST]), schemaVersion: 1, childCount: 4 },
      appInputs([FIRST]),
      appInputs([FIRST, migration]),
      preview,
      timeout,
    );

  it("reports progress to the engine and, cancelled before its commit point, changes nothing", async () => {
    const { plugin, dataDir } = await fleet();
    const before = fingerprint(path.join(dataDir, "dbs"), { mtimes: false });
    // t-4 is busy: the dry run waits there until the Cancel has been delivered.
    const release = await holdLock(dataDir, "t-4", "write");
    const running = update(plugin);
    running.catch(() => {}); // awaited below; it may fail before the test gets there
    try {
      await until(
        () => plugin.messages.some((m) => /dry run/.test(m.message)),
        "the dry run's first progress",
      );
      // On SIGINT pkg/resource/deploy/deployment_executor.go calls Host.SignalCancellation, which each
      // provider (sdk/go/common/resource/plugin/provider_plugin.go, SignalCancellation) sends as Cancel.
      await plugin.cancel();
    } finally {
      release();
    }
    const message = await grpcError(running, "FAILED_PRECONDITION");
    expect(message).toMatch(
      /stopped before its commit point \(the deployment was cancelled\), so nothing was changed/,
    );
    expect(plugin.messages.find((m) => /dry run/.test(m.message))).toMatchObject({
      urn: appUrn,
      ephemeral: true,
    });
    await withEngine(dataDir, async (e) => {
      expect(e.getDatabase("app").schemaVersion).toBe(1);
      for (const t of TENANTS) expect(e.getDatabase(t).schemaVersion).toBe(1);
      expect(e.listJobs("app").filter((j) => j.state === "failed")).toEqual([
        expect.objectContaining({ error: expect.stringMatching(/stopped before its commit point/) }),
      ]);
    });
    // Database files are byte for byte what they were (the catalog records the failed job).
    expect(fingerprint(path.join(dataDir, "dbs"), { mtimes: false })).toEqual(before);
  });

  it("cancelled after its commit point, finishes on every database and says so", async () => {
    const { plugin, dataDir } = await fleet();
    // A reader on t-4: the dry run passes it, the run's COMMIT there waits until the Cancel has been delivered.
    const release = await holdLock(dataDir, "t-4", "read");
    const running = update(plugin);
    running.catch(() => {}); // awaited below; it may fail before the test gets there
    try {
      await until(
        () => plugin.messages.some((m) => /passed its commit point/.test(m.message)),
        "the commit point",
      );
      await plugin.cancel();
    } finally {
      release();
    }
    const outputs = await running;
    expect(outputs.schemaVersion).toBe(2);
    await until(() => plugin.messages.some((m) => m.severity === "warning"), "the warning");
    expect(plugin.messages.filter((m) => m.severity === "warning")).toEqual([
      expect.objectContaining({
        urn: appUrn,
        message: expect.stringMatching(
          /was past its commit point when the operation was cancelled, so it finished on every database/,
        ),
      }),
    ]);
    await withEngine(dataDir, (e) => {
      for (const t of TENANTS) expect(e.getDatabase(t).schemaVersion).toBe(2);
    });
  });

  it("a customTimeouts.update that runs out before the commit point stops it there", async () => {
    const { plugin, dataDir } = await fleet();
    // t-4 is busy, so the dry run cannot end before the 0.2 s deadline (counted from the Update's
    // dispatch, before the dry run's first progress) has passed, however fast the machine.
    const release = await holdLock(dataDir, "t-4", "write");
    const running = update(plugin, false, 0.2);
    running.catch(() => {}); // awaited below; it may fail before the test gets there
    try {
      await until(
        () => plugin.messages.some((m) => /dry run/.test(m.message)),
        "the dry run's first progress",
      );
      await new Promise((r) => setTimeout(r, 400));
    } finally {
      release();
    }
    const message = await grpcError(running, "FAILED_PRECONDITION");
    expect(message).toMatch(/stopped before its commit point .*so nothing was changed/);
    await withEngine(dataDir, (e) => expect(e.getDatabase("app").schemaVersion).toBe(1));
  });
});

describe("Handshake and Pulumi's autonaming", () => {
  it("announces autonaming support and honours the engine's proposed name and mode", async () => {
    // pkg/resource/deploy/step_generator.go asks its Autonamer for each custom resource's options and
    // puts them in the CheckRequest; sdk/go/common/resource/plugin/provider_plugin.go (Check) sends them
    // only to a plugin whose Handshake answered supportsAutonamingConfiguration.
    ensureBuilt();
    const plugin = await Plugin.start();
    plugins.push(plugin);
    const res = await plugin.handshake();
    expect(res.getSupportsAutonamingConfiguration()).toBe(true);
    expect(res.getAcceptSecrets()).toBe(true);
    await plugin.configure({ dataDir: "data" });

    const urn = urnOf("Group", "team");
    const proposed = await plugin.check(urn, {}, {}, undefined, {
      proposedName: "team-prod-x1",
      mode: "propose",
    });
    expect(proposed.inputs).toMatchObject({ name: "team-prod-x1", __autonamed: true });
    const enforced = await plugin.check(urn, {}, {}, undefined, {
      proposedName: "team-exact",
      mode: "enforce",
    });
    expect(enforced.inputs.name).toBe("team-exact");
    // A name the program gives wins over any proposal.
    const given = await plugin.check(urn, {}, { name: "given" }, undefined, {
      proposedName: "p",
      mode: "enforce",
    });
    expect(given.inputs.name).toBe("given");
    expect(given.inputs.__autonamed).toBeUndefined();
    const disabled = await plugin.check(urn, {}, {}, undefined, { proposedName: "", mode: "disable" });
    expect(disabled.failures).toEqual([
      { property: "name", reason: expect.stringMatching(/required: autonaming is disabled/) },
    ]);
    // An enforced name the engine cannot hold is reported, not altered.
    const invalid = await plugin.check(urn, {}, {}, undefined, {
      proposedName: "Not_Valid",
      mode: "enforce",
    });
    expect(invalid.failures.map((f) => f.property)).toEqual(["name"]);
    // The preview of a create with an unknown name still works.
    const unknown = await plugin.create(urn, { name: UNKNOWN, location: "local" }, true);
    expect(unknown.id).toBe("");
  });
});
