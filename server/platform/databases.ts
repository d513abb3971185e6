import type { DatabaseConfig, DatabaseInfo } from "../../engine/index.js";
import type { Handler, ServerContext } from "../context.js";
import { jsonObject } from "../http.js";
import { badRequest } from "../http-errors.js";

/**
 * Databases: `/v1/organizations/:org/databases[/:db[/configuration]]`, with Turso's shapes, including the
 * multi-db schema fields (`is_schema`, `schema`) that Turso's current spec dropped and tenantdb is about.
 */

export const createDatabase: Handler = async (ctx, req) => {
  const body = await jsonObject(req);
  const { name, group, is_schema: isSchema, schema } = body;
  if (typeof name !== "string") throw badRequest('"name" is required: the database\'s name');
  if (group !== undefined && typeof group !== "string") throw badRequest('"group" must be a group name');
  if (isSchema !== undefined && typeof isSchema !== "boolean")
    throw badRequest('"is_schema" must be true or false');
  if (schema !== undefined && typeof schema !== "string") {
    throw badRequest('"schema" must be the name of a schema database');
  }
  if (isSchema === true && schema !== undefined) {
    throw badRequest('"is_schema" and "schema" cannot both be set: a schema database has no schema parent');
  }
  if (group === undefined && schema === undefined) {
    throw badRequest(
      '"group" is required (a child given "schema" may omit it: it joins its parent\'s group)',
    );
  }
  for (const unsupported of ["seed", "remote_encryption"]) {
    if (body[unsupported] !== undefined) {
      throw badRequest(`"${unsupported}" is not supported by tenantdb; create the database without it`);
    }
  }
  const db = await ctx.engine.createDatabase(name, {
    group,
    type: isSchema ? "schema" : "standard",
    schemaParent: schema,
  });
  return { json: { database: { DbId: db.uuid, Hostname: hostname(ctx, db.name), Name: db.name } } };
};

export const listDatabases: Handler = (ctx, req) => {
  const group = req.query.get("group") ?? undefined;
  const schema = req.query.get("schema") ?? undefined;
  const type = req.query.get("type") ?? undefined;
  if (type !== undefined && type !== "schema" && type !== "logical") {
    throw badRequest('"type" filters by "schema" (schema databases) or "logical" (the others)');
  }
  // tenantdb's own `count=true`: only how many, from the engine's maintained counts (Turso ignores it
  // and lists, which is why the provider falls back to counting a list when `count` is missing).
  if (req.query.get("count") === "true") {
    if (type !== undefined) throw badRequest('"count" cannot be combined with "type"');
    return { json: { count: ctx.engine.countDatabases({ group, schemaParent: schema }) } };
  }
  const databases = ctx.engine
    .listDatabases({ group, schemaParent: schema })
    .filter((db) => type === undefined || typeOf(db) === type);
  const locations = new Map(ctx.engine.listGroups().map((g) => [g.name, g.location]));
  return {
    json: { databases: databases.map((db) => databaseJson(ctx, db, locations.get(db.group) ?? null)) },
  };
};

export const getDatabase: Handler = (ctx, req) => {
  const db = ctx.engine.getDatabase(req.params.db as string);
  return { json: { database: databaseJson(ctx, db, ctx.engine.getGroup(db.group).location) } };
};

export const deleteDatabase: Handler = (ctx, req) => {
  const name = req.params.db as string;
  ctx.engine.destroyDatabase(name);
  return { json: { database: name } };
};

export const getConfiguration: Handler = (ctx, req) => ({
  json: configurationJson(ctx.engine.getDatabase(req.params.db as string)),
});

/** Only the fields given change; the ones tenantdb cannot honour are refused rather than ignored. */
export const patchConfiguration: Handler = async (ctx, req) => {
  const body = await jsonObject(req);
  const patch: Partial<DatabaseConfig> = {};
  const fields = [
    ["allow_attach", "allowAttach"],
    ["block_reads", "blockReads"],
    ["block_writes", "blockWrites"],
  ] as const;
  for (const [wire, key] of fields) {
    const value = body[wire];
    if (value === undefined) continue;
    if (typeof value !== "boolean") throw badRequest(`"${wire}" must be true or false`);
    patch[key] = value;
  }
  if (body.delete_protection === true) throw badRequest('"delete_protection" is not supported by tenantdb');
  if (typeof body.size_limit === "string" && body.size_limit !== "") {
    throw badRequest('"size_limit" is not supported by tenantdb');
  }
  const db = ctx.engine.updateDatabaseConfig(req.params.db as string, patch);
  return { json: configurationJson(db) };
};

function typeOf(db: DatabaseInfo): "schema" | "logical" {
  return db.type === "schema" ? "schema" : "logical";
}

/**
 * Where a client reaches the database: `host:port/db/<name>/`, so `http://${Hostname}` is a URL
 * `@libsql/client` can use as is (Turso's hostnames name the database in the host instead).
 */
function hostname(ctx: ServerContext, name: string): string {
  return `${ctx.address()}/db/${name}/`;
}

export function databaseJson(ctx: ServerContext, db: DatabaseInfo, location: string | null) {
  return {
    Name: db.name,
    DbId: db.uuid,
    Hostname: hostname(ctx, db.name),
    group: db.group,
    type: typeOf(db),
    database_type: "libsql",
    version: "tenantdb",
    regions: location === null ? [] : [location],
    primaryRegion: location,
    is_schema: db.type === "schema",
    schema: db.schemaParent,
    /** tenantdb's own: the schema version the database carries. */
    schema_version: db.schemaVersion,
    allow_attach: db.allowAttach,
    block_reads: db.blockReads,
    block_writes: db.blockWrites,
    delete_protection: false,
    sleeping: false,
    archived: false,
  };
}

function configurationJson(db: DatabaseInfo) {
  return {
    allow_attach: db.allowAttach,
    block_reads: db.blockReads,
    block_writes: db.blockWrites,
    delete_protection: false,
    size_limit: "",
  };
}

/**
 * tenantdb's own `POST .../databases/:db/children` with `{"names": [...], "destroy": [...]}`: a fleet's
 * change in one request. Children in `destroy` go first (one catalog transaction; each must be a child
 * of :db, and names already gone are skipped), then those in `names` are created in one burst (one
 * snapshot, one catalog transaction), all or none — what a fleet resource needs to add or remove
 * thousands of tenants without thousands of requests.
 */
export const changeChildren: Handler = async (ctx, req) => {
  const body = await jsonObject(req);
  const parent = req.params.db as string;
  const names = nameList(body.names, "names");
  const destroy = nameList(body.destroy, "destroy");
  ctx.engine.getDatabase(parent); // a missing parent is a 404 even when both lists are empty
  if (destroy.length > 0) ctx.engine.destroyDatabases(destroy, { schemaParent: parent });
  const created = await ctx.engine.createChildren(parent, names);
  return {
    json: { databases: created.map((db) => ({ DbId: db.uuid, Name: db.name })), destroyed: destroy.length },
  };
};

const MAX_CHILDREN_PER_REQUEST = 10_000;

function nameList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((n) => typeof n === "string")) {
    throw badRequest(`"${field}" must be a list of database names`);
  }
  if (value.length > MAX_CHILDREN_PER_REQUEST) {
    throw badRequest(
      `at most ${MAX_CHILDREN_PER_REQUEST} names in "${field}" per request; send the rest in another`,
    );
  }
  return value as string[];
}
