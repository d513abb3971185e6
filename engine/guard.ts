import { blocked, permissionDenied, type TenantDbError } from "./errors.js";
import { callsFunction, mentionsIdentifier, readsOnly, type Statement } from "./sql/statements.js";
import { STAMP_TABLE } from "./stamp.js";

/**
 * The guard, before execution: better-sqlite3 has no authorizer, so each statement is classified from its
 * tokens and refused here, before any statement of its batch runs. What the classifier cannot see is
 * caught after the fact by the session (a child whose `schema_version` moved is rolled back).
 */

/** Pragmas whose assignment would change how the engine's files behave or reach outside them. */
const FORBIDDEN_PRAGMA_ASSIGNMENTS = new Set([
  "schema_version",
  "journal_mode",
  "locking_mode",
  "temp_store_directory",
  "data_store_directory",
  "mmap_size",
  // The run phase relies on no page reaching a file before COMMIT (see jobs/undo.ts).
  "cache_spill",
]);

/** Refusals that hold on every database, whatever its kind and whoever asks. */
export function refusal(s: Statement): TenantDbError | null {
  if (s.kind === "attach" && s.attach.target.type !== "identifier") {
    return permissionDenied(
      `ATTACH takes the name of a database in this group, as in ATTACH "catalog" AS catalog; file paths, URIs, :memory: and expressions are not allowed`,
    );
  }
  if (s.kind === "vacuum" && s.vacuumInto) {
    return permissionDenied("VACUUM INTO writes a file outside the data directory and is not allowed");
  }
  if (s.kind === "pragma") {
    if (s.pragma.name === "writable_schema") return permissionDenied("PRAGMA writable_schema is not allowed");
    if (s.pragma.assigns && FORBIDDEN_PRAGMA_ASSIGNMENTS.has(s.pragma.name)) {
      return permissionDenied(`PRAGMA ${s.pragma.name} cannot be changed; the engine manages it`);
    }
  }
  if (callsFunction(s, "load_extension")) return permissionDenied("loading extensions is not allowed");
  if (!readsOnly(s) && mentionsIdentifier(s, STAMP_TABLE)) {
    return permissionDenied(
      `${STAMP_TABLE} is reserved for the engine's schema stamp: read it, never write it`,
    );
  }
  return null;
}

/** Refusals on a child of a schema database: its schema belongs to its parent. */
export function childRefusal(s: Statement, child: string, parent: string): TenantDbError | null {
  if (s.kind === "ddl" || s.kind === "vacuum") {
    return blockedOnChild(child, parent);
  }
  return null;
}

export function blockedOnChild(child: string, parent: string): TenantDbError {
  return blocked(
    `schema changes are not allowed on "${child}", a child of schema database "${parent}"; change the schema database instead (tenantdb db shell ${parent} "…")`,
  );
}
