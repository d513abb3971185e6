import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BACKENDS,
  CheckFailed,
  type Decl,
  type DiffResult,
  grpcError,
  type Props,
  Stack,
  type Suite,
  startSuite,
  urnOf,
  withEngine,
} from "./harness.js";

/**
 * A DatabaseFleet over the real plugin and gRPC, against each backend: 1,000 tenants created in one
 * resource, ten added and five removed with a diff that names exactly those, a mass removal refused
 * unless allowed, an existing fleet imported by its schema database, and destroy.
 */

const NOTES = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)";
const tenant = (i: number) => `t-${String(i).padStart(5, "0")}`;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => tenant(from + i));

function program(names: string[], fleet: Props = {}): Decl[] {
  return [
    { type: "Group", name: "main", inputs: { name: "acme" } },
    { type: "SchemaDatabase", name: "schema", inputs: { name: "app", group: "acme", migrations: [NOTES] } },
    {
      type: "DatabaseFleet",
      name: "tenants",
      inputs: (o) => ({ schemaParent: o("schema").name, names, ...fleet }),
    },
  ];
}

/** The tenants a detailed diff names as added and removed, read back through the lists it indexes. */
function namedChanges(diff: DiffResult | undefined, olds: string[], news: string[]) {
  const added: string[] = [];
  const removed: string[] = [];
  for (const [key, kind] of Object.entries(diff?.detailedDiff ?? {})) {
    const index = Number(/^names\[(\d+)\]$/.exec(key)?.[1]);
    if (Number.isNaN(index)) continue;
    if (kind === "ADD" || kind === "UPDATE") added.push(news[index] as string);
    if (kind === "DELETE" || kind === "UPDATE") removed.push(olds[index] as string);
  }
  return { added: added.sort(), removed: removed.sort() };
}

/** The children of a schema database, from the catalog file, and one child's tables, from its own file. */
function onDisk(dataDir: string, parent: string): { names: string[]; sample?: string[] } {
  const catalog = new Database(path.join(dataDir, "catalog.db"), { readonly: true });
  try {
    const rows = catalog
      .prepare(
        "SELECT name, path FROM databases WHERE parent_id = (SELECT id FROM databases WHERE name = ?) ORDER BY name",
      )
      .all(parent) as { name: string; path: string }[];
    const last = rows.at(-1);
    let sample: string[] | undefined;
    if (last) {
      const file = new Database(path.join(dataDir, last.path), { readonly: true });
      sample = file
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .pluck()
        .all() as string[];
      file.close();
    }
    return { names: rows.map((r) => r.name), sample };
  } finally {
    catalog.close();
  }
}

describe.each(BACKENDS)("DatabaseFleet over the real plugin ($name backend)", (backend) => {
  let suite: Suite;
  let stack: Stack;
  const initial = range(0, 1000);
  // Ten added, five removed (spread over the list).
  const grown = [...initial.filter((_, i) => ![3, 250, 500, 750, 999].includes(i)), ...range(1000, 1010)];

  beforeAll(async () => {
    suite = await startSuite(backend);
    stack = suite.stack;
    await suite.plugin.configure((await suite.plugin.checkConfig(suite.fleet.config)).inputs);
  });
  afterAll(() => suite?.stop());

  it("previews 1,000 tenants without touching anything, then creates them all", async () => {
    const preview = await stack.preview(program(initial));
    expect(preview.map((s) => s.op)).toEqual(["create", "create", "create"]);
    expect(preview[2]?.outputs?.count).toBe(1000);
    expect(await suite.fleet.untouched()).toBe(true);

    await stack.up(program(initial));
    const out = stack.outputs("tenants");
    expect(out).toMatchObject({ schemaParent: "app", group: "acme", count: 1000, schemaVersion: 1 });
    const disk = onDisk(suite.dataDir, "app");
    expect(disk.names).toEqual(initial);
    expect(disk.sample).toContain("notes");
  }, 180_000);

  it("adds ten and removes five, and the diff names exactly those tenants", async () => {
    const olds = stack.state.get("tenants")?.inputs.names as string[];
    const preview = await stack.preview(program(grown));
    const step = preview.find((s) => s.name === "tenants");
    expect(step?.op).toBe("update");
    expect(step?.diff?.replaces).toEqual([]);
    const checked = (
      await suite.plugin.check(
        urnOf("DatabaseFleet", "tenants"),
        { names: olds },
        {
          schemaParent: "app",
          names: grown,
        },
      )
    ).inputs.names as string[];
    expect(namedChanges(step?.diff, olds, checked)).toEqual({
      added: range(1000, 1010),
      removed: [tenant(3), tenant(250), tenant(500), tenant(750), tenant(999)],
    });
    expect(onDisk(suite.dataDir, "app").names).toEqual(initial); // a preview changes nothing

    await stack.up(program(grown));
    expect(onDisk(suite.dataDir, "app").names).toEqual([...grown].sort());
    expect(stack.outputs("tenants").count).toBe(1005);
    // A reordered list is the same fleet.
    const same = await stack.preview(program([...grown].reverse()));
    expect(same.find((s) => s.name === "tenants")?.op).toBe("same");
  }, 180_000);

  it("refuses to remove more than maxRemovalShare in one update unless allowMassRemoval is set", async () => {
    const shrunk = grown.slice(0, 800);
    const refused = await stack.preview(program(shrunk)).catch((e) => e);
    expect(refused).toBeInstanceOf(CheckFailed);
    expect((refused as CheckFailed).failures).toEqual([
      { property: "names", reason: expect.stringMatching(/remove 205 of 1005 tenants .*allowMassRemoval/) },
    ]);
    await expect(stack.up(program(shrunk))).rejects.toThrow(/allowMassRemoval/);
    expect(onDisk(suite.dataDir, "app").names).toHaveLength(1005);

    // A larger share in the program lets it through; so does the flag.
    await stack.up(program(shrunk, { maxRemovalShare: 0.25 }));
    expect(onDisk(suite.dataDir, "app").names).toEqual([...shrunk].sort());
    await stack.up(program(shrunk.slice(0, 100), { allowMassRemoval: true }));
    expect(onDisk(suite.dataDir, "app").names).toEqual([...shrunk.slice(0, 100)].sort());
  }, 180_000);

  it("imports an existing fleet by its schema database, and refreshes to what exists", async () => {
    const legacy = Array.from({ length: 40 }, (_, i) => `legacy-${i}`);
    await withEngine(suite.dataDir, async (e) => {
      e.createGroup("old");
      await e.createDatabase("legacy", { type: "schema", group: "old" });
      await e.createChildren("legacy", legacy);
    });
    const other = new Stack(suite.plugin);
    const decl: Decl = {
      type: "DatabaseFleet",
      name: "legacy",
      inputs: { schemaParent: "legacy", names: [...legacy].reverse() },
    };
    const { read, diff } = await other.import(decl, "legacy");
    expect(read.outputs).toMatchObject({ schemaParent: "legacy", count: 40, group: "old" });
    expect(diff.changes).toBe("NONE");
    // Importing with one tenant fewer than exists is a change that names it.
    const partial = await suite.plugin.diff(
      urnOf("DatabaseFleet", "legacy"),
      "legacy",
      read.outputs,
      read.inputs,
      {
        ...(read.inputs as Props),
        names: [...legacy].sort().filter((n) => n !== "legacy-7"),
        maxRemovalShare: 0.1,
        allowMassRemoval: false,
      },
    );
    expect(Object.entries(partial.detailedDiff)).toEqual([
      [expect.stringMatching(/^names\[\d+\]$/), "DELETE"],
    ]);

    // A tenant destroyed behind the stack's back drops out on refresh.
    await withEngine(suite.dataDir, (e) => e.destroyDatabase("legacy-3"));
    await other.refresh();
    expect(other.state.get("legacy")?.outputs.count).toBe(39);
    expect(other.state.get("legacy")?.inputs.names).not.toContain("legacy-3");
  }, 180_000);

  it("refuses to be deleted with its tenants unless allowed, then destroys them all", async () => {
    // The flag is for one update: the last one set it, so this one clears it again.
    const kept = stack.state.get("tenants")?.inputs.names as string[];
    await stack.up(program(kept));
    const message = await grpcError(stack.destroy(), "FAILED_PRECONDITION");
    expect(message).toMatch(/allowMassRemoval/);
    expect(onDisk(suite.dataDir, "app").names).toHaveLength(100);
    await stack.up(program(kept, { allowMassRemoval: true }));
    await stack.destroy();
    expect(stack.state.size).toBe(0);
    await withEngine(suite.dataDir, (e) => {
      expect(() => e.getDatabase("app")).toThrow(/not found/);
      expect(() => e.getGroup("acme")).toThrow(/not found/);
      expect(e.countDatabases({ schemaParent: "legacy" })).toBe(39);
    });
    // The files went with the catalog rows.
    const files = fs.readdirSync(path.join(suite.dataDir, "dbs"), { recursive: true }).map(String);
    expect(files.filter((f) => /t-\d{5}\.db$/.test(f))).toEqual([]);
  }, 180_000);
});
