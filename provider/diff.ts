import equal from "fast-deep-equal";
import { AUTONAMED } from "./names.js";
import { containsUnknown, type PropertyMap } from "./properties.js";
import type { PropertySpec } from "./resource.js";

/**
 * The one diff every resource (and the provider config) uses: old inputs against new inputs, property by
 * property, as pulumi-go-provider's default diff does (a list element by element). Which properties force a
 * replacement is declared in
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
    const replace = (k: "ADD" | "DELETE" | "UPDATE") =>
      spec.replaceOnChanges ? (`${k}_REPLACE` as DiffKind) : k;
    const elements = kind === "UPDATE" ? elementChanges(olds[key], news[key]) : null;
    if (elements) {
      for (const [i, k] of elements) detailedDiff[`${key}[${i}]`] = replace(k);
    } else {
      detailedDiff[key] = replace(kind);
    }
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

/**
 * A list that changed, element by element (`migrations[2]: ADD`, `attach[1]: DELETE`), so a reviewer sees
 * which entry moved and `pulumi preview --diff` prints that entry's value. Null when either side is not a
 * list (a list that is itself unknown stays one top-level change).
 */
function elementChanges(old: unknown, next: unknown): [number, "ADD" | "DELETE" | "UPDATE"][] | null {
  if (!Array.isArray(old) || !Array.isArray(next)) return null;
  const changes: [number, "ADD" | "DELETE" | "UPDATE"][] = [];
  for (let i = 0; i < Math.max(old.length, next.length); i++) {
    const kind = i >= old.length ? "ADD" : i >= next.length ? "DELETE" : compare(old[i], next[i]);
    if (kind) changes.push([i, kind === "ADD" || kind === "DELETE" ? kind : "UPDATE"]);
  }
  return changes.length > 0 ? changes : null;
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
