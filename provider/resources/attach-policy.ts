import { Fields } from "../fields.js";
import { isUnknown, type PropertyMap } from "../properties.js";
import type { Resource } from "../resource.js";
import { ignoreNotFound, known } from "./common.js";

/**
 * Whether other databases of the group may ATTACH this one (read-only, and only with a token that lists
 * it). Its id is the database's name; deleting the policy turns attaching off again.
 */

export interface AttachPolicyArgs {
  database: string;
  allowAttach: boolean;
}

export interface AttachPolicyState extends AttachPolicyArgs {}

const inputs = {
  database: {
    type: "string",
    replaceOnChanges: true,
    description: "The database the policy is about.",
  },
  allowAttach: {
    type: "boolean",
    optional: true,
    default: true,
    description: "Whether other databases of the group may ATTACH this one.",
  },
} as const;

function decode(map: PropertyMap) {
  const f = new Fields(map, inputs);
  const args = { database: f.name("database", "database"), allowAttach: f.boolean("allowAttach") };
  return { args: args as AttachPolicyArgs, failures: f.failures };
}

export const AttachPolicy: Resource<AttachPolicyArgs, AttachPolicyState> = {
  token: "tenantdb:index:AttachPolicy",
  description:
    "Allows (or forbids) other databases of the same group to ATTACH a database. Attaching also needs a token that lists the database in `attach`.",
  inputs,
  outputs: {},
  identity: "database",
  decode,

  async check(_ctx, req) {
    const news: PropertyMap = { ...req.news, allowAttach: req.news.allowAttach ?? true };
    return { inputs: news, failures: decode(news).failures };
  },

  async create(ctx, { args, preview }) {
    if (preview) return { id: isUnknown(args.database) ? "" : args.database, state: args };
    const { database, allowAttach } = known(args);
    const db = await ctx.backend.updateDatabaseConfig(database, { allowAttach });
    return { id: db.name, state: { database: db.name, allowAttach: db.allowAttach } };
  },

  async read(ctx, { id }) {
    const db = await ctx.backend.getDatabase(id);
    if (!db) return null;
    const state = { database: db.name, allowAttach: db.allowAttach };
    return { id: db.name, state, inputs: state };
  },

  async update(ctx, { id, args, preview }) {
    if (preview) return args;
    const { allowAttach } = known(args);
    const db = await ctx.backend.updateDatabaseConfig(id, { allowAttach });
    return { database: db.name, allowAttach: db.allowAttach };
  },

  async delete(ctx, { id }) {
    // Without the policy the database is back to the default: not attachable. Gone is fine too.
    await ignoreNotFound(() => ctx.backend.updateDatabaseConfig(id, { allowAttach: false }));
  },
};
