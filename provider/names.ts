import { createHash, randomBytes } from "node:crypto";

/**
 * Auto-naming: a resource declared without `name` gets `<resource name>-<7 hex>`, made into a valid
 * group/database name (lowercase letters, digits and dashes, at most 64). The suffix derives from the
 * random seed the engine sends with Check when it has one (with an update plan, the seed saved at preview
 * time, so `up --plan` creates the names the preview showed). Check keeps an earlier name (olds.name), so
 * the name is stable across updates; a replacement (Check with empty olds) gets a fresh one, which lets
 * the new resource be created before the old one is deleted.
 */

const MAX = 64;
const SUFFIX = 7;

/** The resource name in a URN: `urn:pulumi:<stack>::<project>::<type>::<name>` (the name may hold `::`). */
export function resourceNameOf(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

/** The type token in a URN; a component child's qualified type is `parent$child`. */
export function typeOfUrn(urn: string): string {
  return (urn.split("::")[2] ?? "").split("$").pop() ?? "";
}

export function autoName(resourceName: string, seed?: Uint8Array): string {
  const base =
    resourceName
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/-{2,}/g, "-")
      .replace(/^-+/, "")
      .slice(0, MAX - SUFFIX - 1)
      .replace(/-+$/, "") || "tenantdb";
  return `${base}-${suffix(seed)}`;
}

/** Whether `name` looks like something autoName made for this resource (used to choose replace order). */
export function isAutoName(resourceName: string, name: unknown): boolean {
  if (typeof name !== "string") return false;
  const base = autoName(resourceName).slice(0, -SUFFIX);
  return (
    name.length === base.length + SUFFIX && name.startsWith(base) && /^[0-9a-f]+$/.test(name.slice(-SUFFIX))
  );
}

function suffix(seed?: Uint8Array): string {
  const bytes = seed && seed.length > 0 ? createHash("sha256").update(seed).digest() : randomBytes(8);
  return bytes.toString("hex").slice(0, SUFFIX);
}

/**
 * The name Check settles on: the one given; else the one chosen earlier (olds), so an auto-name survives
 * updates; else a new auto-name.
 */
export function chooseName(
  news: Record<string, unknown>,
  olds: Record<string, unknown>,
  resourceName: string,
  seed?: Uint8Array,
): unknown {
  if (news.name !== undefined && news.name !== null) return news.name;
  if (typeof olds.name === "string") return olds.name;
  return autoName(resourceName, seed);
}
