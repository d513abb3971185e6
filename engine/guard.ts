import { blocked, permissionDenied, type TenantDbError } from "./errors.js";
import { isDatabaseRef } from "./query/targets.js";
import {
  callsFunction,
  mentionsIdentifier,
  pragmaFunctions,
  QUERY_PRAGMAS,
  readsOnly,
  type Statement,
} from "./sql/statements.js";
import { STAMP_TABLE } from "./stamp.js";

/**
 * The guard, before execution: better-sqlite3 has no authorizer, so each statement is classified from its
 * tokens and refused here, before any statement of its batch runs. This is the first of the session's
 * layers and the one with the clear messages; what it cannot see, SQLite refuses (a read-only principal's
 * connection is `query_only`) or the session's checks after each statement catch and roll back.
 */

/** Pragmas whose assignment would change how the engine's files behave, reach outside them, or undo a guard. */
const FORBIDDEN_PRAGMA_ASSIGNMENTS: ReadonlyMap<string, string> = new Map([
  ["schema_version", "the engine manages it"],
  ["journal_mode", "the engine manages it"],
  ["locking_mode", "the engine manages it"],
  ["temp_store_directory", "the engine manages it"],
  ["data_store_directory", "the engine manages it"],
  ["mmap_size", "the engine manages it"],
  // The run phase relies on no page reaching a file before COMMIT (see jobs/undo.ts).
  ["cache_spill", "the engine manages it"],
  ["query_only", "the engine sets it from the token's rights"],
  ["busy_timeout", "the engine and the server decide how long a statement waits for a lock"],
  // Temporary files stay in memory, never in a directory outside the data directory.
  ["temp_store", "temporary data stays in memory"],
  // Both are process-wide: one tenant would set them for every database the process serves.
  ["hard_heap_limit", "it applies to the whole process"],
  ["soft_heap_limit", "it applies to the whole process"],
]);

/**
 * Pragmas whose table-valued function takes an argument that *sets* them (`pragma_optimize(0x10002)` runs
 * `PRAGMA optimize=0x10002`, creating sqlite_stat1 from inside a SELECT that SQLite calls read-only).
 * Found by preparing `pragma_<name>(1)` for every pragma SQLite lists; test/engine/guard-names.test.ts
 * redoes that search so that a new SQLite cannot add one unnoticed.
 */
export const SETTING_PRAGMA_FUNCTIONS: ReadonlySet<string> = new Set([
  "auto_vacuum",
  "cache_size",
  "cache_spill",
  "journal_mode",
  "journal_size_limit",
  "locking_mode",
  "max_page_count",
  "optimize",
  "page_size",
  "synchronous",
]);

/** Functions with side effects SQLite cannot refuse on its own. */
const FORBIDDEN_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ["load_extension", "loading extensions is not allowed"],
  // Registers a tokenizer from a raw pointer (where enabled): memory-unsafe by design.
  ["fts3_tokenizer", "fts3_tokenizer() is not allowed"],
]);

export const ATTACH_FORMS = `ATTACH takes a database of this group by name or id, in double or single quotes: ATTACH "catalog" AS catalog, ATTACH '<database id>' AS c; file paths, URIs, :memory: and expressions are not allowed`;

/** Refusals that hold on every database, whatever its kind and whoever asks. */
export function refusal(s: Statement): TenantDbError | null {
  if (s.kind === "attach") {
    const target = s.attach.target;
    const ref = target.type === "identifier" ? target.name : target.type === "string" ? target.value : null;
    if (ref === null || !isDatabaseRef(ref)) return permissionDenied(ATTACH_FORMS);
  }
  if (s.kind === "vacuum" && s.vacuumInto) {
    return permissionDenied("VACUUM INTO writes a file outside the data directory and is not allowed");
  }
  if (s.kind === "pragma") {
    if (s.pragma.name === "writable_schema") return permissionDenied("PRAGMA writable_schema is not allowed");
    const why = FORBIDDEN_PRAGMA_ASSIGNMENTS.get(s.pragma.name);
    if (s.pragma.assigns && why) return permissionDenied(`PRAGMA ${s.pragma.name} cannot be changed; ${why}`);
  }
  for (const name of pragmaFunctions(s)) {
    if (SETTING_PRAGMA_FUNCTIONS.has(name) && !QUERY_PRAGMAS.has(name)) {
      return permissionDenied(
        `pragma_${name}() can change a setting from inside a query and is not allowed; use PRAGMA ${name} instead`,
      );
    }
  }
  for (const [name, why] of FORBIDDEN_FUNCTIONS) if (callsFunction(s, name)) return permissionDenied(why);
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
