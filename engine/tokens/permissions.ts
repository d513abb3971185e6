/**
 * What a verified token allows, with sqld's rules (libsql-server `auth/authorized.rs`, `permission.rs`), so a
 * token means the same thing here as on sqld.
 */

/** The keys of sqld's `p` claim. `ddl` lets a token run DDL on a schema database's child. */
export type Right = "ro" | "rw" | "roa" | "rwa" | "ddl";

/** A right applies to the databases named in `ns` and to every database of the groups named in `tags`. */
export interface Scopes {
  ns: string[];
  tags: string[];
}

/** The legacy `a` claim: `roa` is sqld's AttachRead. */
export type LegacyAccess = "ro" | "rw" | "roa";

export type Permissions =
  /** The token carried a `p` claim; `id` and `a` were then ignored, as in sqld. */
  | { kind: "authorized"; grants: Partial<Record<Right, Scopes>> }
  /** No `p` claim: one access level on `database`, or on every database the signing group holds when null. */
  | { kind: "legacy"; database: string | null; access: LegacyAccess };

export interface AccessTarget {
  database: string;
  group: string;
  /** The database's unique id (its uuid): what attach grants name, so a re-created database is another target. */
  id?: string;
}

const WRITE: readonly Right[] = ["rw", "rwa", "ddl"];
const READ: readonly Right[] = [...WRITE, "ro", "roa"];
// Attach deliberately excludes rw: being able to write a database does not make it attachable elsewhere.
const ATTACH: readonly Right[] = ["roa", "rwa"];

export function canWrite(p: Permissions, target: AccessTarget): boolean {
  if (p.kind === "legacy") return legacyCovers(p, target) && p.access === "rw";
  return grantsAny(p.grants, WRITE, target);
}

export function canRead(p: Permissions, target: AccessTarget): boolean {
  // Every legacy access level, AttachRead included, implies read.
  if (p.kind === "legacy") return legacyCovers(p, target);
  return grantsAny(p.grants, READ, target);
}

/**
 * Whether `target` may be ATTACHed (read-only) by a connection using this token. Attach grants name
 * databases by id: a name listed in `ns` never grants attach, since a database destroyed and created again
 * under that name is someone else's.
 */
export function canAttach(p: Permissions, target: AccessTarget): boolean {
  if (p.kind === "legacy") return legacyCovers(p, target) && p.access === "roa";
  return grantsAny(p.grants, ATTACH, target, "id");
}

function legacyCovers(p: Extract<Permissions, { kind: "legacy" }>, target: AccessTarget): boolean {
  // The group itself is implied: the token verified against that group's keys.
  return p.database === null || p.database === target.database;
}

/** `ns` entries match a database's name or its id; with `by: "id"`, its id only. */
function grantsAny(
  grants: Partial<Record<Right, Scopes>>,
  rights: readonly Right[],
  target: AccessTarget,
  by: "name or id" | "id" = "name or id",
): boolean {
  const named = (ns: string[]) =>
    (target.id !== undefined && ns.includes(target.id)) || (by !== "id" && ns.includes(target.database));
  return rights.some((right) => {
    const scopes = grants[right];
    return scopes !== undefined && (named(scopes.ns) || scopes.tags.includes(target.group));
  });
}
