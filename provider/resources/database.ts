import { failedPrecondition } from "../../engine/errors.js";
import type { DatabaseRecord } from "../backends/backend.js";
import { Fields } from "../fields.js";
import { isUnknown, type PropertyMap, UNKNOWN } from "../properties.js";
import type { Resource } from "../resource.js";
import { ignoreNotFound, known, mergeFailures, named } from "./common.js";

/**
 * A database: standard, or a tenant database (`schemaParent` set) whose schema is owned by a
 * SchemaDatabase and which rejects DDL of its own. Its id is its name.
 */

export interface DatabaseArgs {
  name: string;
  group: string;
  schemaParent?: string;
  blockReads: boolean;
  blockWrites: boolean;
}

export interface DatabaseState extends DatabaseArgs {
  schemaVersion: number;
}

const inputs = {
  name: {
    type: "string",
    optional: true,
    replaceOnChanges: true,
    description:
      "The database's name: 1–64 lowercase letters, digits and dashes. Omit it to get the resource name plus a random suffix.",
  },
  group: {
    type: "string",
    replaceOnChanges: true,
    description: "The group the database lives in (for a tenant database, its schema database's group).",
  },
  schemaParent: {
    type: "string",
    optional: true,
    outputOptional: true,
    replaceOnChanges: true,
    description:
      "The schema database that owns this database's schema. The database starts as a copy of it and follows its migrations; DDL sent to it directly is refused.",
  },
  blockReads: {
    type: "boolean",
    optional: true,
    default: false,
    description: "Refuse reads (for maintenance or a suspended tenant).",
  },
  blockWrites: {
    type: "boolean",
    optional: true,
    default: false,
    description: "Refuse writes (for maintenance or a suspended tenant).",
  },
} as const;

const outputs = {
  schemaVersion: {
    type: "integer",
    description: "The schema version the database carries (its schema database's, for a tenant database).",
  },
} as const;

function decode(map: PropertyMap) {
  const f = new Fields(map, inputs);
  const args = {
    name: f.name("name", "database"),
    group: f.name("group", "group"),
    schemaParent: f.name("schemaParent", "database", { optional: true }),
    blockReads: f.boolean("blockReads"),
    blockWrites: f.boolean("blockWrites"),
  } as DatabaseArgs;
  return { args, failures: f.failures };
}

export const Database: Resource<DatabaseArgs, DatabaseState> = {
  token: "tenantdb:index:Database",
  description:
    "A SQLite database. With `schemaParent` it is a tenant database: a copy of its schema database that receives every migration applied to it.",
  inputs,
  outputs,
  identity: "name",
  decode,
  exists: async (ctx, name) => (await ctx.backend.getDatabase(name)) !== null,
  // A tenant database's version is its parent's: a migration of the parent moves it.
  async observe(ctx, id) {
    const db = await ctx.backend.getDatabase(id);
    return db && { schemaVersion: db.schemaVersion };
  },

  async check(ctx, req) {
    const naming = named(ctx, req);
    const news: PropertyMap = {
      ...naming.news,
      // Defaults are written into the inputs so an imported database (whose flags are always known)
      // diffs as unchanged against a program that leaves them out.
      blockReads: req.news.blockReads ?? false,
      blockWrites: req.news.blockWrites ?? false,
    };
    return { inputs: news, failures: mergeFailures(naming.failures, decode(news).failures) };
  },

  async create(ctx, { args, preview }) {
    if (preview) {
      // A tenant database copies its parent's version, which this same preview may be changing.
      const schemaVersion = args.schemaParent === undefined ? 0 : UNKNOWN;
      return { id: isUnknown(args.name) ? "" : args.name, state: { ...args, schemaVersion } };
    }
    const { name, group, schemaParent, blockReads, blockWrites } = known(args);
    let db = await ctx.backend.createDatabase(name, { group, type: "standard", schemaParent });
    if (blockReads || blockWrites) {
      try {
        db = await ctx.backend.updateDatabaseConfig(name, { blockReads, blockWrites });
      } catch (e) {
        // Leave nothing half-made behind: the database was created a moment ago and holds no data.
        await ignoreNotFound(() => ctx.backend.destroyDatabase(name));
        throw e;
      }
    }
    return { id: db.name, state: toState(db) };
  },

  async read(ctx, { id }) {
    const db = await ctx.backend.getDatabase(id);
    if (!db) return null;
    if (db.type === "schema") {
      throw failedPrecondition(
        `"${id}" is a schema database; manage it with a tenantdb:index:SchemaDatabase resource instead`,
      );
    }
    const state = toState(db);
    const { schemaVersion: _, ...inputs } = state;
    return { id: db.name, state, inputs };
  },

  // Only the block flags change in place; everything else is a replacement. An update with the same
  // flags is Diff's freshly observed schemaVersion: it writes nothing, only reads.
  async update(ctx, { id, olds, oldArgs, args, preview }) {
    const unchanged = args.blockReads === oldArgs.blockReads && args.blockWrites === oldArgs.blockWrites;
    if (preview || unchanged) {
      const db = await ctx.backend.getDatabase(id);
      return { ...args, schemaVersion: db?.schemaVersion ?? olds.schemaVersion };
    }
    const { blockReads, blockWrites } = known(args);
    return toState(await ctx.backend.updateDatabaseConfig(id, { blockReads, blockWrites }));
  },

  async delete(ctx, { id }) {
    await ignoreNotFound(() => ctx.backend.destroyDatabase(id));
  },
};

function toState(db: DatabaseRecord): DatabaseState {
  return {
    name: db.name,
    group: db.group,
    // Omitted rather than null for a standard database, matching inputs that never set it.
    ...(db.schemaParent !== null ? { schemaParent: db.schemaParent } : {}),
    schemaVersion: db.schemaVersion,
    blockReads: db.blockReads,
    blockWrites: db.blockWrites,
  };
}
