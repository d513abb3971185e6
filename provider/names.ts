import { createHash, randomBytes } from "node:crypto";

/**
 * Auto-naming: a resource declared without `name` gets `<resource name>-<7 hex>`, made into a valid
 * group/database name (lowercase letters, digits and dashes, at most 64). The suffix derives from the
 * random seed the engine sends with Check when it has one (with an update plan, the seed saved at preview
 * time, so `up --plan` creates the names the preview showed). Check keeps an earlier name (olds.name), so
 * the name is stable across updates; a replacement (Check with empty olds) gets a fresh one, which lets
 * the new resource be created before the old one is deleted. When the engine proposes a name (Pulumi's
 * autonaming configuration), that name is used instead of ours.
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

function suffix(seed?: Uint8Array): string {
  const bytes = seed && seed.length > 0 ? createHash("sha256").update(seed).digest() : randomBytes(8);
  return bytes.toString("hex").slice(0, SUFFIX);
}

/** Pulumi's autonaming configuration for one resource, as the engine sends it with Check. */
export interface Autonaming {
  proposedName: string;
  mode: "propose" | "enforce" | "disable";
}

/**
 * Where Check records that it chose the name (a private key: the engine keeps it in the state's inputs,
 * Diff and the schema ignore it). Diff asks for delete-before-replace only for names it did not choose,
 * because a chosen name is chosen afresh on replacement.
 */
export const AUTONAMED = "__autonamed";

export interface ChosenName {
  name: unknown;
  autonamed: boolean;
  failure?: string;
}

/**
 * The name Check settles on: the one given; else the one chosen earlier (olds), so a name survives
 * updates; else the engine's proposal (its autonaming configuration, `pulumi:autonaming`); else our own
 * auto-name. With autonaming disabled, a missing name is a failure.
 */
export function chooseName(
  news: Record<string, unknown>,
  olds: Record<string, unknown>,
  resourceName: string,
  seed?: Uint8Array,
  autonaming?: Autonaming,
): ChosenName {
  if (news.name !== undefined && news.name !== null) return { name: news.name, autonamed: false };
  // Kept, with whoever chose it. Without the mark (an import, older state) it counts as given: a
  // delete-first replacement is the order that works for any name.
  if (typeof olds.name === "string") return { name: olds.name, autonamed: olds[AUTONAMED] === true };
  if (autonaming?.mode === "disable") {
    return {
      name: undefined,
      autonamed: false,
      failure: "is required: autonaming is disabled for this resource (`pulumi:autonaming` config)",
    };
  }
  if (autonaming?.proposedName) return { name: autonaming.proposedName, autonamed: true };
  return { name: autoName(resourceName, seed), autonamed: true };
}

/** Check's inputs with the chosen name (and the marker when it was chosen, never otherwise). */
export function withName(news: Record<string, unknown>, chosen: ChosenName): Record<string, unknown> {
  const { [AUTONAMED]: _, ...rest } = news;
  return { ...rest, name: chosen.name, ...(chosen.autonamed ? { [AUTONAMED]: true } : {}) };
}
