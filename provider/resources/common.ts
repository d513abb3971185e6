import { invalidArgument } from "../../engine/errors.js";
import { isTenantDbError } from "../../engine/index.js";
import { chooseName, withName } from "../names.js";
import { containsUnknown, type PropertyMap } from "../properties.js";
import type { CheckFailure, CheckRequest, Previewed, ResourceContext } from "../resource.js";

/** Small helpers every resource file uses. */

/**
 * Narrows arguments that may hold unknowns to known ones. The engine never sends unknowns outside a
 * preview (`RejectUnknowns: !preview`), so reaching the throw means a caller broke the protocol.
 */
export function known<T extends object>(args: Previewed<T>): T {
  if (containsUnknown(args)) {
    throw invalidArgument("some inputs are not known yet; they can only be unknown during a preview");
  }
  return args as T;
}

/** Deletes are idempotent: a thing that is already gone is what we wanted. */
export async function ignoreNotFound(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (isTenantDbError(e) && e.code === "NOT_FOUND") return;
    throw e;
  }
}

/** Whether a replacement is already certain from the inputs alone (so history checks do not apply). */
export function replacing(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  keys: string[],
): boolean {
  return Object.keys(olds).length > 0 && keys.some((k) => olds[k] !== news[k]);
}

/**
 * Check's naming step for resources named by their `name` input: the chosen name (and its marker) in the
 * inputs, and the naming failure if there is one.
 */
export function named(
  ctx: ResourceContext,
  req: CheckRequest,
): { news: PropertyMap; failures: CheckFailure[] } {
  const chosen = chooseName(req.news, req.olds, ctx.resourceName, req.randomSeed, req.autonaming);
  const failures = chosen.failure ? [{ property: "name", reason: chosen.failure }] : [];
  return { news: withName(req.news, chosen), failures };
}

/** Failures from several steps, one per property (the first, most specific, wins). */
export function mergeFailures(...lists: CheckFailure[][]): CheckFailure[] {
  const seen = new Set<string>();
  return lists.flat().filter((f) => !seen.has(f.property) && seen.add(f.property));
}
