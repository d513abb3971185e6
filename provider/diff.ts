import equal from "fast-deep-equal";
import { AUTONAMED } from "./names.js";
import { containsUnknown, type PropertyMap } from "./properties.js";
import type { PropertySpec } from "./resource.js";

/**
 * The one diff every resource (and the provider config) uses: old inputs against new inputs, property by
 * property, as pulumi-go-provider's default diff does. Which properties force a replacement is declared in
 * the property specs, never coded here. `diffs` and `detailedDiff` are built from the same list, so they
 * always agree and never repeat a key (pulumi/pulumi#17610).
 */

export type DiffKind = "ADD" | "ADD_REPLACE" | "DELETE" | "DELETE_REPLACE" | "UPDATE" | "UPDATE_REPLACE";

export interface DiffResult {
  changes: boolean;
  /** Top-level properties that changed. */
  diffs: string[];
  /** The subset of `diffs` that forces a replacement. */
  replaces: string[];
  /** Properties an in-place update is guaranteed to leave alone. */
  stables: string[];
  detailedDiff: Record<string, DiffKind>;
  deleteBeforeReplace: boolean;
  /** Keys of `diffs` that are outputs other resources moved, not inputs the program changed. */
  outputOnly: string[];
}

export interface DiffOptions {
  /** Properties the program asked the engine to ignore (`ignoreChanges`). */
  ignoreChanges?: string[];
  /**
   * The input that names the resource. Replacing it while that name stays the same cannot create the new
   * one first (the name is taken), so the old one must go first. A name Check chose (marked AUTONAMED in
   * the new inputs) is chosen afresh on replacement, so it never needs that.
   */
  identity?: string;
}

export function diffInputs(
  specs: Record<string, PropertySpec>,
  olds: PropertyMap,
  news: PropertyMap,
  opts: DiffOptions = {},
): DiffResult {
  const ignored = new Set(opts.ignoreChanges ?? []);
  const detailedDiff: Record<string, DiffKind> = {};
  const diffs: string[] = [];
  const replaces: string[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    if (ignored.has(key)) continue;
    const kind = compare(olds[key], news[key]);
    if (!kind) continue;
    diffs.push(key);
    if (spec.replaceOnChanges) replaces.push(key);
    detailedDiff[key] = spec.replaceOnChanges ? (`${kind}_REPLACE` as DiffKind) : kind;
  }
  const stables =
    replaces.length > 0
      ? []
      : Object.keys(specs).filter((k) => specs[k]?.replaceOnChanges && !diffs.includes(k));
  const id = opts.identity;
  const deleteBeforeReplace =
    id !== undefined && replaces.length > 0 && !diffs.includes(id) && news[AUTONAMED] !== true;
  return {
    changes: diffs.length > 0,
    diffs,
    replaces,
    stables,
    detailedDiff,
    deleteBeforeReplace,
    outputOnly: [],
  };
}

/** How one property changed, or null. Absent and null are the same thing: "not set". */
function compare(old: unknown, next: unknown): "ADD" | "DELETE" | "UPDATE" | null {
  const had = old !== undefined && old !== null;
  const has = next !== undefined && next !== null;
  if (!had && !has) return null;
  if (!had) return "ADD";
  if (!has) return "DELETE";
  // An unknown is never equal to anything: it may turn out to be a different value.
  if (containsUnknown(next)) return "UPDATE";
  return equal(old, next) ? null : "UPDATE";
}
