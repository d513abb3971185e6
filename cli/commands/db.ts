import { invalidArgument, isTenantDbError, notFound } from "../../engine/errors.js";
import type { DatabaseInfo, Engine } from "../../engine/index.js";
import { confirm } from "../confirm.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson, printLine, printTable } from "../output.js";

export interface DbCreateOptions {
  group?: string;
  type?: string;
  schema?: string;
  fromDb?: string;
  fromDump?: string;
}

export async function dbCreate(g: GlobalOptions, names: string[], opts: DbCreateOptions) {
  if (opts.type !== undefined && opts.type !== "schema" && opts.type !== "standard") {
    throw invalidArgument(`unknown database type "${opts.type}"; use --type schema for a schema database`);
  }
  if (opts.fromDb !== undefined || opts.fromDump !== undefined)
    return (await import("./seed.js")).createSeeded(g, names, opts);
  if (names.length > 1) return createMany(g, names, opts);
  const name = names[0] as string;
  await withEngine(
    g,
    async (engine) => {
      const db = await engine.createDatabase(name, {
        // A child lives in its parent's group; "default" is only implied for databases without a parent.
        group: opts.group ?? (opts.schema ? undefined : "default"),
        type: opts.type as "schema" | "standard" | undefined,
        schemaParent: opts.schema,
        createGroup: opts.group === undefined && !opts.schema,
      });
      printCreated(g, db);
    },
    { create: true },
  );
}

export function printCreated(g: GlobalOptions, db: DatabaseInfo, seededFrom?: string) {
  if (g.json) return printJson(db);
  const what =
    db.type === "schema"
      ? "schema database"
      : db.type === "child"
        ? `database (child of ${db.schemaParent})`
        : "database";
  const seeded = seededFrom ? ` from ${seededFrom}` : "";
  printLine(`Created ${what} ${db.name}${seeded} in group ${db.group}, schema version ${db.schemaVersion}.`);
  printLine(`Open a shell: tenantdb db shell ${db.name}`);
}

/** Tenants arrive in bursts: children of one parent in one call (one snapshot, one catalog transaction). */
async function createMany(g: GlobalOptions, names: string[], opts: DbCreateOptions) {
  if (!opts.schema) {
    throw invalidArgument(
      "several names at once create children: add --schema <parent> (or create one database at a time)",
    );
  }
  const parent = opts.schema;
  await withEngine(
    g,
    async (engine) => {
      const dbs = await engine.createChildren(parent, names, { group: opts.group });
      if (g.json) return printJson(dbs);
      printLine(
        `Created ${dbs.length} databases as children of ${parent}, at schema version ${dbs[0]?.schemaVersion}.`,
      );
    },
    { create: true },
  );
}

export async function dbList(g: GlobalOptions, opts: { group?: string; schema?: string }) {
  await withEngine(g, (engine) => {
    const dbs = engine.listDatabases({ group: opts.group, schemaParent: opts.schema });
    if (g.json) return printJson(dbs);
    if (dbs.length === 0) return printLine("No databases yet. Create one: tenantdb db create <name>");
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

/**
 * Destroys exactly the databases named (or, with --schema, the children of that parent): every name is
 * checked before anything is removed, children go before their parent, and a terminal is asked first.
 */
export async function dbDestroy(g: GlobalOptions, names: string[], opts: { schema?: string; yes?: boolean }) {
  if (names.length === 0 && opts.schema === undefined) {
    throw invalidArgument("name the databases to destroy, or pass --schema <parent> to destroy its children");
  }
  await withEngine(g, async (engine) => {
    const targets = destroyTargets(engine, names, opts.schema);
    if (targets.length === 0) {
      if (g.json) return printJson({ destroyed: [] });
      return printLine(`${opts.schema} has no children; nothing to destroy.`);
    }
    const what =
      targets.length === 1
        ? `database ${targets[0]?.name}`
        : `${targets.length} databases (${summary(targets)})`;
    if (!(await confirm(`Destroy ${what}? Its data cannot be recovered`, opts.yes))) {
      return printLine("Nothing destroyed.");
    }
    const destroyed: string[] = [];
    for (const db of targets) {
      engine.destroyDatabase(db.name);
      destroyed.push(db.name);
      if (!g.json) printLine(`Destroyed database ${db.name}.`);
    }
    if (g.json) printJson({ destroyed });
  });
}

function destroyTargets(engine: Engine, names: string[], schema: string | undefined): DatabaseInfo[] {
  const seen = new Map<string, DatabaseInfo>();
  if (schema !== undefined) {
    if (engine.getDatabase(schema).type !== "schema") {
      throw invalidArgument(`"${schema}" is not a schema database, so it has no children to destroy`);
    }
    for (const d of engine.listDatabases({ schemaParent: schema })) seen.set(d.name, d);
  }
  const missing = names.filter((n) => {
    if (seen.has(n)) return false;
    try {
      seen.set(n, engine.getDatabase(n));
      return false;
    } catch (e) {
      if (isTenantDbError(e) && e.code === "NOT_FOUND") return true;
      throw e;
    }
  });
  if (missing.length > 0) {
    throw notFound(
      `database${missing.length === 1 ? "" : "s"} not found: ${missing.join(", ")}; nothing was destroyed`,
    );
  }
  // Children before parents, so naming both in one call works.
  return [...seen.values()].sort((a, b) => Number(a.type === "schema") - Number(b.type === "schema"));
}

function summary(dbs: DatabaseInfo[]): string {
  const shown = dbs.slice(0, 5).map((d) => d.name);
  return dbs.length > 5 ? `${shown.join(", ")} and ${dbs.length - 5} more` : shown.join(", ");
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

export async function dbConfigBlock(
  g: GlobalOptions,
  verb: "block-reads" | "block-writes",
  state: string,
  name: string,
) {
  if (state !== "on" && state !== "off" && state !== "show") {
    throw invalidArgument(`unknown state "${state}": use on, off or show`);
  }
  const key = verb === "block-reads" ? "blockReads" : "blockWrites";
  await withEngine(g, (engine) => {
    const db =
      state === "show"
        ? engine.getDatabase(name)
        : engine.updateDatabaseConfig(name, { [key]: state === "on" });
    if (g.json) return printJson({ database: db.name, [key]: db[key] });
    const what = verb === "block-reads" ? "Reads" : "Writes";
    printLine(`${what} are ${db[key] ? "blocked" : "not blocked"} on ${db.name}.`);
  });
}
