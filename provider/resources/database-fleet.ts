import { failedPrecondition } from "../../engine/errors.js";
import type { Backend } from "../backends/backend.js";
import type { DiffKind, DiffResult } from "../diff.js";
import { Fields } from "../fields.js";
import { containsUnknown, isUnknown, type PropertyMap, UNKNOWN } from "../properties.js";
import type { Resource } from "../resource.js";
import { known } from "./common.js";

/**
 * Many tenant databases of one schema database as one resource: a list of names in, the tenants out.
 * Pulumi pays per resource (previews crawl at thousands, and Pulumi Cloud bills each), so a fleet of
 * 10,000 tenants is one resource whose diff names the tenants that change. Creates and destroys go in
 * bursts (one catalog transaction per thousand). Removing more than a share of the tenants in one step
 * needs an explicit flag, so a truncated list in config does not wipe out customers. Its id is the schema
 * database's name; importing by that id adopts every child the schema database has.
 */

export interface DatabaseFleetArgs {
  schemaParent: string;
  names: string[];
  maxRemovalShare: number;
  allowMassRemoval: boolean;
}

export interface DatabaseFleetState extends DatabaseFleetArgs {
  group: string;
  count: number;
  schemaVersion: number;
}

export const DEFAULT_MAX_REMOVAL_SHARE = 0.1;

const inputs = {
  schemaParent: {
    type: "string",
    replaceOnChanges: true,
    description: "The schema database whose tenants this fleet holds; every tenant follows its migrations.",
  },
  names: {
    type: "string[]",
    description:
      "The tenants' database names (from config or any Output). Order does not matter; a name may appear once.",
  },
  maxRemovalShare: {
    type: "number",
    optional: true,
    default: DEFAULT_MAX_REMOVAL_SHARE,
    description:
      "The largest share (0–1) of the fleet's tenants one update may remove; removing more fails the preview unless `allowMassRemoval` is set.",
  },
  allowMassRemoval: {
    type: "boolean",
    optional: true,
    default: false,
    description:
      "Allow one update (or the fleet's deletion) to remove more than `maxRemovalShare` of its tenants. Set it for that update only.",
  },
} as const;

const outputs = {
  group: { type: "string", description: "The group of the schema database and its tenants." },
  count: { type: "integer", description: "How many tenants the fleet holds." },
  schemaVersion: { type: "integer", description: "The schema version the tenants carry." },
} as const;

function decode(map: PropertyMap) {
  const f = new Fields(map, inputs);
  const names = f.strings("names");
  if (Array.isArray(names)) {
    const seen = new Set<string>();
    for (const [i, name] of names.entries()) {
      if (isUnknown(name)) continue;
      f.checkName(`names[${i}]`, name, "database");
      if (seen.has(name)) f.fail(`names[${i}]`, `"${name}" is listed twice`);
      seen.add(name);
    }
  }
  const share = map.maxRemovalShare ?? DEFAULT_MAX_REMOVAL_SHARE;
  if (!isUnknown(share) && (typeof share !== "number" || !(share >= 0 && share <= 1))) {
    f.fail("maxRemovalShare", `must be a number from 0 to 1, not ${JSON.stringify(share)}`);
  }
  const args = {
    schemaParent: f.name("schemaParent", "database"),
    names,
    maxRemovalShare: share,
    allowMassRemoval: f.boolean("allowMassRemoval", { optional: true }) ?? false,
  } as DatabaseFleetArgs;
  return { args, failures: f.failures };
}

export const DatabaseFleet: Resource<DatabaseFleetArgs, DatabaseFleetState> = {
  token: "tenantdb:index:DatabaseFleet",
  description:
    "Many tenant databases of one schema database, declared as a list of names: one resource however many tenants, created and destroyed in bursts, with a diff that names each tenant added or removed and a guard against removing many at once by accident.",
  inputs,
  outputs,
  decode,

  async check(_ctx, req) {
    const news: PropertyMap = {
      ...req.news,
      maxRemovalShare: req.news.maxRemovalShare ?? DEFAULT_MAX_REMOVAL_SHARE,
      allowMassRemoval: req.news.allowMassRemoval ?? false,
    };
    // A fleet is a set: sorted, a reordered list is no change (and the diff lines up by name).
    if (Array.isArray(news.names) && !containsUnknown(news.names)) {
      news.names = [...(news.names as unknown[])].sort(compareValues);
    }
    const { args, failures } = decode(news);
    if (failures.length === 0 && !containsUnknown(args) && Array.isArray(req.olds.names)) {
      const olds = req.olds.names.filter((n): n is string => typeof n === "string");
      const reason = removalRefusal(olds, removedNames(olds, args.names), args);
      // Only an in-place change removes tenants one by one; a new schemaParent replaces the whole fleet.
      if (reason && req.olds.schemaParent === args.schemaParent) failures.push({ property: "names", reason });
    }
    return { inputs: news, failures };
  },

  diff(olds, news, base) {
    return namesDiff(olds, news, base);
  },

  async create(ctx, { args, preview }) {
    if (preview) {
      const count = Array.isArray(args.names) ? args.names.length : UNKNOWN;
      const id = isUnknown(args.schemaParent) ? "" : args.schemaParent;
      return { id, state: { ...args, group: UNKNOWN, count, schemaVersion: UNKNOWN } };
    }
    const a = known(args);
    const parent = await requireSchemaDatabase(ctx.backend, a.schemaParent);
    try {
      await ctx.backend.createChildren(a.schemaParent, a.names);
    } catch (e) {
      // Bursts are all-or-none each; undo the earlier ones so a failed create leaves nothing behind.
      const existing = new Set(await ctx.backend.listChildren(a.schemaParent));
      const made = a.names.filter((n) => existing.has(n));
      await ctx.backend.destroyChildren(a.schemaParent, made).catch(() => {});
      throw e;
    }
    return {
      id: a.schemaParent,
      state: { ...a, group: parent.group, count: a.names.length, schemaVersion: parent.schemaVersion },
    };
  },

  async read(ctx, { id, state, inputs: oldInputs }) {
    const parent = await ctx.backend.getDatabase(id);
    if (!parent) return null;
    if (parent.type !== "schema") {
      throw failedPrecondition(`"${id}" is not a schema database, so it has no tenants to hold as a fleet`);
    }
    const children = await ctx.backend.listChildren(id);
    // A refresh keeps to the fleet's own tenants (others may be Database resources); an import (no state)
    // adopts every child of the schema database.
    const owned = Array.isArray(state.names) ? new Set(state.names) : undefined;
    const names = owned ? children.filter((n) => owned.has(n)) : children;
    const share =
      typeof oldInputs.maxRemovalShare === "number" ? oldInputs.maxRemovalShare : DEFAULT_MAX_REMOVAL_SHARE;
    const allow = oldInputs.allowMassRemoval === true;
    const args: DatabaseFleetArgs = {
      schemaParent: id,
      names,
      maxRemovalShare: share,
      allowMassRemoval: allow,
    };
    return {
      id,
      inputs: args,
      state: { ...args, group: parent.group, count: names.length, schemaVersion: parent.schemaVersion },
    };
  },

  async update(ctx, { id, olds, args, preview }) {
    if (preview) {
      const count = Array.isArray(args.names) ? args.names.length : UNKNOWN;
      return { ...args, group: olds.group, count, schemaVersion: olds.schemaVersion };
    }
    const a = known(args);
    const removed = removedNames(olds.names, a.names);
    const refused = removalRefusal(olds.names, removed, a);
    if (refused) throw failedPrecondition(refused);
    const parent = await requireSchemaDatabase(ctx.backend, id);
    // Against what exists, not only the old state: an update that failed halfway converges on a retry.
    const existing = new Set(await ctx.backend.listChildren(id));
    await ctx.backend.destroyChildren(
      id,
      removed.filter((n) => existing.has(n)),
    );
    await ctx.backend.createChildren(
      id,
      a.names.filter((n) => !existing.has(n)),
    );
    return { ...a, group: parent.group, count: a.names.length, schemaVersion: parent.schemaVersion };
  },

  async delete(ctx, { id, state }) {
    const names = Array.isArray(state.names) ? state.names : [];
    const refused = removalRefusal(names, names, {
      maxRemovalShare:
        typeof state.maxRemovalShare === "number" ? state.maxRemovalShare : DEFAULT_MAX_REMOVAL_SHARE,
      allowMassRemoval: state.allowMassRemoval === true,
    });
    if (refused) {
      throw failedPrecondition(
        `${refused}. Deleting the fleet destroys its tenants: set allowMassRemoval: true and run \`pulumi up\` first, then delete it`,
      );
    }
    await ctx.backend.destroyChildren(id, names);
  },
};

async function requireSchemaDatabase(backend: Backend, name: string) {
  const parent = await backend.getDatabase(name);
  if (!parent) throw failedPrecondition(`schema database "${name}" does not exist; create it first`);
  if (parent.type !== "schema") {
    throw failedPrecondition(`"${name}" is not a schema database; a fleet's schemaParent must be one`);
  }
  return parent;
}

function removedNames(olds: string[], news: string[]): string[] {
  const keep = new Set(news);
  return olds.filter((n) => !keep.has(n));
}

/** Why removing `removed` of `current` needs the explicit flag, or null when it may go ahead. */
function removalRefusal(
  current: string[],
  removed: string[],
  opts: { maxRemovalShare: number; allowMassRemoval: boolean },
): string | null {
  if (removed.length === 0 || opts.allowMassRemoval) return null;
  const share = removed.length / Math.max(1, current.length);
  if (share <= opts.maxRemovalShare) return null;
  const shown =
    removed.slice(0, 5).join(", ") + (removed.length > 5 ? `, and ${removed.length - 5} more` : "");
  return `this would remove ${removed.length} of ${current.length} tenants (${percent(share)}: ${shown}), more than maxRemovalShare ${percent(opts.maxRemovalShare)}; if that is intended, set allowMassRemoval: true for this update`;
}

const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

const compareValues = (a: unknown, b: unknown) =>
  String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;

/**
 * The diff of `names` tenant by tenant: `names[i]` ADD for each tenant the new list adds (its index in
 * the new list) and `names[j]` DELETE for each one it drops (its index in the old list), so a preview
 * names exactly the tenants that change instead of "names changed".
 */
function namesDiff(olds: PropertyMap, news: PropertyMap, base: DiffResult): DiffResult {
  if (!base.diffs.includes("names")) return base;
  const before = olds.names;
  const after = news.names;
  if (!Array.isArray(before) || !Array.isArray(after) || containsUnknown(after)) return base;
  // The generic diff lines lists up by position; a fleet is a set, so its entries are redone by name.
  const detailedDiff = Object.fromEntries(
    Object.entries(base.detailedDiff).filter(([k]) => k !== "names" && !k.startsWith("names[")),
  ) as Record<string, DiffKind>;
  const had = new Set(before);
  const has = new Set(after);
  after.forEach((name, i) => {
    if (!had.has(name)) detailedDiff[`names[${i}]`] = "ADD";
  });
  before.forEach((name, i) => {
    if (has.has(name)) return;
    // The sorted lists put an added and a removed tenant at the same index: one replaced the other.
    const key = `names[${i}]`;
    detailedDiff[key] = detailedDiff[key] === "ADD" ? "UPDATE" : "DELETE";
  });
  if (Object.keys(detailedDiff).some((k) => k.startsWith("names["))) return { ...base, detailedDiff };
  // Same tenants in another order: no change at all.
  const diffs = base.diffs.filter((d) => d !== "names");
  return { ...base, detailedDiff, diffs, changes: diffs.length > 0 };
}
