import { isTenantDbError, validateName } from "../engine/index.js";
import { isUnknown, type PropertyMap, type Unknown } from "./properties.js";
import type { CheckFailure, PropertySpec } from "./resource.js";

/**
 * Reads input properties one by one, collecting failures instead of throwing: Check returns them as data
 * (each naming its property) so the user sees every problem at once. Unknown values are accepted as they
 * are; they are checked when they become known, at the Check of the `up`.
 */
export class Fields {
  readonly failures: CheckFailure[] = [];

  constructor(
    private readonly map: PropertyMap,
    specs: Record<string, PropertySpec>,
  ) {
    for (const key of Object.keys(map)) {
      // Keys starting with "__" are the engine's own bookkeeping, never a user's typo.
      if (key in specs || key.startsWith("__")) continue;
      this.fail(key, `unknown property; expected one of ${Object.keys(specs).join(", ")}`);
    }
  }

  fail(property: string, reason: string): void {
    this.failures.push({ property, reason });
  }

  string(key: string, opts: { optional?: boolean; oneOf?: readonly string[] } = {}): string | undefined {
    const v = this.map[key];
    if (v === undefined || v === null) return this.missing(key, opts.optional);
    if (isUnknown(v)) return v;
    if (typeof v !== "string") return this.wrongType(key, "a string", v);
    if (opts.oneOf && !opts.oneOf.includes(v)) {
      this.fail(key, `must be one of ${opts.oneOf.map((o) => JSON.stringify(o)).join(", ")}, not ${show(v)}`);
      return undefined;
    }
    return v;
  }

  /** A group or database name, held to the engine's naming rule. */
  name(key: string, kind: "group" | "database", opts: { optional?: boolean } = {}): string | undefined {
    const v = this.string(key, opts);
    if (v === undefined || isUnknown(v)) return v;
    return this.checkName(key, v, kind);
  }

  /** Holds a value (a list item, say) to the naming rule, reporting under `property`. */
  checkName(property: string, value: string, kind: "group" | "database"): string | undefined {
    if (isUnknown(value)) return value;
    try {
      return validateName(kind, value);
    } catch (e) {
      if (!isTenantDbError(e)) throw e;
      this.fail(property, e.message);
      return undefined;
    }
  }

  boolean(key: string, opts: { optional?: boolean } = {}): boolean | Unknown | undefined {
    const v = this.map[key];
    if (v === undefined || v === null) return this.missing(key, opts.optional);
    if (isUnknown(v)) return v;
    if (typeof v !== "boolean") return this.wrongType(key, "true or false", v);
    return v;
  }

  /** A list of strings; its items may be unknown in a preview. */
  strings(key: string, opts: { optional?: boolean } = {}): string[] | Unknown | undefined {
    const v = this.map[key];
    if (v === undefined || v === null) return this.missing(key, opts.optional);
    if (isUnknown(v)) return v;
    if (!Array.isArray(v)) return this.wrongType(key, "a list of strings", v);
    let ok = true;
    for (const [i, item] of v.entries()) {
      if (typeof item !== "string") {
        this.fail(`${key}[${i}]`, `must be a string, not ${describe(item)}`);
        ok = false;
      }
    }
    return ok ? (v as string[]) : undefined;
  }

  private missing(key: string, optional: boolean | undefined): undefined {
    if (!optional) this.fail(key, "is required");
    return undefined;
  }

  private wrongType(key: string, expected: string, got: unknown): undefined {
    this.fail(key, `must be ${expected}, not ${describe(got)}`);
    return undefined;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${show(value)}`;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
