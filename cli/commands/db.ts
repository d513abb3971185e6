import { invalidArgument } from "../../engine/errors.js";
import type { DatabaseInfo } from "../../engine/index.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson, printLine, printTable } from "../output.js";

export interface DbCreateOptions {
  group?: string;
  type?: string;
  schema?: string;
}

export async function dbCreate(g: GlobalOptions, names: string[], opts: DbCreateOptions) {
  if (opts.type !== undefined && opts.type !== "schema" && opts.type !== "standard") {
    throw invalidArgument(`unknown database type "${opts.type}"; use --type schema for a schema database`);
  }
  if (names.length > 1) return createMany(g, names, opts);
  const name = names[0] as string;
  await withEngine(g, async (engine) => {
    const db = await engine.createDatabase(name, {
      // A child lives in its parent's group; "default" is only implied for databases without a parent.
      group: opts.group ?? (opts.schema ? undefined : "default"),
      type: opts.type as "schema" | "standard" | undefined,
      schemaParent: opts.schema,
      createGroup: opts.group === undefined && !opts.schema,
    });
    if (g.json) return printJson(db);
    const what =
      db.type === "schema"
        ? "schema database"
        : db.type === "child"
          ? `database (child of ${db.schemaParent})`
          : "database";
    printLine(`Created ${what} ${db.name} in group ${db.group}, schema version ${db.schemaVersion}.`);
    printLine(`Open a shell: tenantdb db shell ${db.name}`);
  });
}

/** Tenants arrive in bursts: children of one parent in one call (one snapshot, one catalog transaction). */
async function createMany(g: GlobalOptions, names: string[], opts: DbCreateOptions) {
  if (!opts.schema) {
    throw invalidArgument(
      "several names at once create children: add --schema <parent> (or create one database at a time)",
    );
  }
  const parent = opts.schema;
  await withEngine(g, async (engine) => {
    const dbs = await engine.createChildren(parent, names, { group: opts.group });
    if (g.json) return printJson(dbs);
    printLine(
      `Created ${dbs.length} databases as children of ${parent}, at schema version ${dbs[0]?.schemaVersion}.`,
    );
  });
}

export async function dbList(g: GlobalOptions, opts: { group?: string; schema?: string }) {
  await withEngine(g, (engine) => {
    const dbs = engine.listDatabases({ group: opts.group, schemaParent: opts.schema });
    if (g.json) return printJson(dbs);
    printTable(
      ["name", "group", "type", "parent", "version"],
      dbs.map((d) => [d.name, d.group, d.type, d.schemaParent ?? "-", d.schemaVersion]),
    );
  });
}

export async function dbShow(g: GlobalOptions, name: string) {
  await withEngine(g, (engine) => {
    const db = engine.getDatabase(name);
    if (g.json) return printJson(db);
    printDatabase(db);
  });
}

function printDatabase(db: DatabaseInfo) {
  const rows: [string, unknown][] = [
    ["name", db.name],
    ["group", db.group],
    ["type", db.type],
    ["schema parent", db.schemaParent ?? "-"],
    ["schema version", db.schemaVersion],
    ["allow attach", db.allowAttach],
    ["block reads", db.blockReads],
    ["block writes", db.blockWrites],
    ["path", db.path],
  ];
  for (const [k, v] of rows)
    printLine(`${`${k}:`.padEnd(16)}${typeof v === "boolean" ? (v ? "yes" : "no") : String(v)}`);
}

export async function dbDestroy(g: GlobalOptions, name: string) {
  await withEngine(g, (engine) => {
    engine.destroyDatabase(name);
    if (g.json) printJson({ destroyed: name });
    else printLine(`Destroyed database ${name}.`);
  });
}

export async function dbConfigAttach(g: GlobalOptions, action: string, name: string) {
  await withEngine(g, (engine) => {
    if (action !== "allow" && action !== "disallow" && action !== "show") {
      throw invalidArgument(`unknown action "${action}": use allow, disallow or show`);
    }
    const db =
      action === "show"
        ? engine.getDatabase(name)
        : engine.updateDatabaseConfig(name, { allowAttach: action === "allow" });
    if (g.json) return printJson({ database: db.name, allowAttach: db.allowAttach });
    printLine(`Attach is ${db.allowAttach ? "allowed" : "not allowed"} on ${db.name}.`);
  });
}
