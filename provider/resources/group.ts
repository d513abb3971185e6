import { Fields } from "../fields.js";
import { isUnknown, type PropertyMap } from "../properties.js";
import type { Resource } from "../resource.js";
import { ignoreNotFound, known, mergeFailures, named } from "./common.js";

/** A group: holds databases and their signing keys. Its id is its name. */

export interface GroupArgs {
  name: string;
  location: string;
}

export interface GroupState extends GroupArgs {}

const inputs = {
  name: {
    type: "string",
    optional: true,
    replaceOnChanges: true,
    description:
      "The group's name: 1–64 lowercase letters, digits and dashes. Omit it to get the resource name plus a random suffix.",
  },
  location: {
    type: "string",
    optional: true,
    replaceOnChanges: true,
    description:
      "Where the group lives. Omitted, the backend's default (`local` for the local engine). A group cannot move, so a change replaces it.",
  },
} as const;

function decode(map: PropertyMap) {
  const f = new Fields(map, inputs);
  const args = { name: f.name("name", "group"), location: f.string("location") } as GroupArgs;
  return { args, failures: f.failures };
}

export const Group: Resource<GroupArgs, GroupState> = {
  token: "tenantdb:index:Group",
  description: "A group of databases sharing a location and signing keys (tokens are signed per group).",
  inputs,
  outputs: {},
  identity: "name",
  decode,
  exists: async (ctx, name) => (await ctx.backend.getGroup(name)) !== null,

  async check(ctx, req) {
    const naming = named(ctx, req);
    const news: PropertyMap = {
      ...naming.news,
      // Filled in so that an imported group (whose location is always known) diffs as unchanged.
      location: req.news.location ?? ctx.backend.defaultLocation,
    };
    return { inputs: news, failures: mergeFailures(naming.failures, decode(news).failures) };
  },

  async create(ctx, { args, preview }) {
    if (preview) return { id: isUnknown(args.name) ? "" : args.name, state: args };
    const { name, location } = known(args);
    const group = await ctx.backend.createGroup(name, location);
    return { id: group.name, state: { name: group.name, location: group.location } };
  },

  async read(ctx, { id }) {
    const group = await ctx.backend.getGroup(id);
    if (!group) return null;
    const state = { name: group.name, location: group.location };
    return { id: group.name, state, inputs: state };
  },

  // Every input replaces, so the engine never asks for an in-place update with a change in it.
  async update(_ctx, { args }) {
    return args;
  },

  async delete(ctx, { id }) {
    // Refused by the engine (FAILED_PRECONDITION) while the group still holds databases.
    await ignoreNotFound(() => ctx.backend.destroyGroup(id));
  },
};
