import { pick, type Rng } from "../helpers.js";
import { KELVIN } from "./fixture.js";

/**
 * A grammar of SQLite features for the generated isolation suite: what a hostile tenant would try, in
 * every statement kind, with aliases SQLite and JavaScript fold differently. Deterministic for a seed.
 */

// Aliases that fold differently in JavaScript and SQLite: the Kelvin sign, a long s, dotless i, full-width
// and accented letters, next to their ASCII look-alikes; plus the built-in schema names.
const ALIASES = [
  "k",
  "K",
  KELVIN,
  "s",
  "\u017F",
  "i",
  "I",
  "\u0131",
  "\uFF43",
  "é",
  "É",
  "x y",
  "main",
  "temp",
  "MAIN",
  "Temp",
];
const TARGETS = ["c2", "catalog", "app", "c1", "nothing", "'c2'", "'catalog'", "{catalogId}", "'{c2Id}'"];
const TABLES = [
  "users",
  "notes",
  "docs",
  "promotions",
  "blurbs",
  "sqlite_schema",
  "sqlite_stat1",
  "_tenantdb_",
];
const PRAGMAS = [
  "analysis_limit",
  "application_id",
  "auto_vacuum",
  "automatic_index",
  "busy_timeout",
  "cache_size",
  "cache_spill",
  "case_sensitive_like",
  "cell_size_check",
  "checkpoint_fullfsync",
  "collation_list",
  "compile_options",
  "data_version",
  "database_list",
  "defer_foreign_keys",
  "encoding",
  "foreign_key_check",
  "foreign_key_list",
  "foreign_keys",
  "freelist_count",
  "fullfsync",
  "function_list",
  "hard_heap_limit",
  "ignore_check_constraints",
  "incremental_vacuum",
  "index_info",
  "index_list",
  "index_xinfo",
  "integrity_check",
  "journal_mode",
  "journal_size_limit",
  "legacy_alter_table",
  "locking_mode",
  "max_page_count",
  "mmap_size",
  "module_list",
  "optimize",
  "page_count",
  "page_size",
  "pragma_list",
  "query_only",
  "quick_check",
  "read_uncommitted",
  "recursive_triggers",
  "reverse_unordered_selects",
  "schema_version",
  "secure_delete",
  "shrink_memory",
  "soft_heap_limit",
  "synchronous",
  "table_info",
  "table_list",
  "table_xinfo",
  "temp_store",
  "temp_store_directory",
  "threads",
  "trusted_schema",
  "user_version",
  "wal_autocheckpoint",
  "wal_checkpoint",
  "writable_schema",
];
const PRAGMA_VALUES = [
  "0",
  "1",
  "-1",
  "0x10002",
  "'off'",
  "'delete'",
  "'wal'",
  "OFF",
  "ON",
  "FULL",
  "MEMORY",
  "EXCLUSIVE",
  "512",
  "'users'",
  "NORMAL",
];
const FTS3_COMMANDS = ["optimize", "rebuild", "integrity-check", "merge=1,2", "automerge=2", "automerge=0"];
const FTS5_COMMANDS = [
  "optimize",
  "merge",
  "rebuild",
  "delete-all",
  "integrity-check",
  "automerge",
  "crisismerge",
  "usermerge",
  "pgsz",
  "secure-delete",
  "rank",
  "deletemerge",
];

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** An alias, half the time one the case has attached (`near`), so statements reach what is attached. */
function alias(rng: Rng, near: readonly string[]): string {
  return near.length > 0 && rng() < 0.5 ? pick(rng, near) : pick(rng, ALIASES);
}

function qualified(rng: Rng, near: readonly string[], table = pick(rng, TABLES)): string {
  const r = rng();
  if (r < 0.25) return table;
  const a = alias(rng, near);
  return `${rng() < 0.7 ? q(a) : `[${a}]`}.${table}`;
}

function schemaName(rng: Rng, near: readonly string[]): string {
  return q(alias(rng, near));
}

/** A temp trigger on `table` (of the session's own database) whose body writes where the grammar points. */
export function tempTrigger(rng: Rng, table: string, near: readonly string[]): string {
  return `CREATE TEMP TRIGGER tr${Math.floor(rng() * 4)} AFTER INSERT ON ${table} BEGIN DELETE FROM ${qualified(rng, near, pick(rng, ["users", "promotions"]))}; END`;
}

/** One statement; `ids` fills in database ids for ATTACH by id; `near` are the aliases attached before it. */
export function statement(rng: Rng, ids: Record<string, string>, near: readonly string[] = []): string {
  const makers: (() => string)[] = [
    () => {
      const target = pick(rng, TARGETS).replace(/\{(\w+)Id\}/, (_, db: string) => ids[db] ?? db);
      const quoted = target.startsWith("'") || /^[a-z]+$/.test(target) ? target : q(target);
      return `ATTACH ${rng() < 0.3 ? "DATABASE " : ""}${quoted} AS ${schemaName(rng, near)}`;
    },
    () => `DETACH ${rng() < 0.3 ? "DATABASE " : ""}${schemaName(rng, near)}`,
    () => `SELECT count(*) FROM ${qualified(rng, near)}`,
    () =>
      `SELECT * FROM ${qualified(rng, near, "users")} JOIN ${qualified(rng, near, "promotions")} ON 1 LIMIT 3`,
    () => `INSERT INTO ${qualified(rng, near, pick(rng, ["users", "promotions"]))} DEFAULT VALUES`,
    // At most two rows a time: a table doubled by every such case grew past a million rows in some seeds'
    // runs, and every later case (and the look at the files after it) paid for them.
    () =>
      `INSERT INTO ${qualified(rng, near, "users")} (name) SELECT name FROM ${qualified(rng, near, "users")} LIMIT 2 RETURNING id`,
    () => `REPLACE INTO ${qualified(rng, near, "users")} (id, name) VALUES (1, 'r')`,
    () =>
      `UPDATE ${qualified(rng, near, pick(rng, ["users", "promotions", "sqlite_schema"]))} SET name = 'u' WHERE 1`,
    () => `DELETE FROM ${qualified(rng, near)}`,
    () => `WITH w AS (SELECT 1) DELETE FROM ${qualified(rng, near, "users")} WHERE id IN (SELECT * FROM w)`,
    () => `CREATE TABLE ${qualified(rng, near, `t${Math.floor(rng() * 5)}`)} (a)`,
    () =>
      `CREATE ${pick(rng, ["", "TEMP "])}TABLE ${pick(rng, ["", "temp."])}tt${Math.floor(rng() * 3)} AS SELECT * FROM ${qualified(rng, near, "users")}`,
    () => `CREATE INDEX ${qualified(rng, near, `i${Math.floor(rng() * 5)}`)} ON users(name)`,
    () => `DROP INDEX ${qualified(rng, near, pick(rng, ["users_name", "promotions_category"]))}`,
    () => `DROP TABLE ${qualified(rng, near)}`,
    () =>
      `ALTER TABLE ${qualified(rng, near, pick(rng, ["users", "promotions"]))} ADD COLUMN z${Math.floor(rng() * 9)}`,
    () =>
      `CREATE TEMP TRIGGER tr${Math.floor(rng() * 4)} AFTER INSERT ON ${qualified(rng, near, pick(rng, ["users", "promotions"]))} BEGIN DELETE FROM ${qualified(rng, near, pick(rng, ["users", "promotions"]))}; INSERT INTO ${qualified(rng, near, "users")} (name) VALUES ('t'); END`,
    () => `CREATE TEMP VIEW v${Math.floor(rng() * 4)} AS SELECT * FROM ${qualified(rng, near)}`,
    () => `DROP ${pick(rng, ["TRIGGER", "VIEW", "TABLE"])} IF EXISTS temp.${pick(rng, ["tr0", "v0", "tt0"])}`,
    () => `ANALYZE ${rng() < 0.3 ? "" : schemaName(rng, near)}`,
    () => `VACUUM ${rng() < 0.3 ? "" : schemaName(rng, near)}`,
    () => `REINDEX ${qualified(rng, near, pick(rng, ["users_name", "promotions_category", "users"]))}`,
    () => {
      const name = pick(rng, PRAGMAS);
      const prefix = rng() < 0.5 ? `${schemaName(rng, near)}.` : "";
      const form = rng();
      if (form < 0.4) return `PRAGMA ${prefix}${name}`;
      const value = pick(rng, PRAGMA_VALUES);
      return form < 0.7 ? `PRAGMA ${prefix}${name} = ${value}` : `PRAGMA ${prefix}${name}(${value})`;
    },
    () => {
      const name = pick(rng, PRAGMAS);
      const spelled = rng() < 0.2 ? `PRAGMA_${name.toUpperCase()}` : `pragma_${name}`;
      const r = rng();
      if (r < 0.3) return `SELECT * FROM ${spelled}`;
      if (r < 0.6) return `SELECT * FROM ${spelled}(${pick(rng, PRAGMA_VALUES)})`;
      if (r < 0.8) return `SELECT * FROM ${q(spelled)} WHERE arg = ${pick(rng, PRAGMA_VALUES)}`;
      return `SELECT * FROM ${spelled}(${pick(rng, ["'users'", "'notes'"])}, ${q(alias(rng, near))})`;
    },
    () => `INSERT INTO ${qualified(rng, near, "notes")}(notes) VALUES ('${pick(rng, FTS3_COMMANDS)}')`,
    () => {
      const command = pick(rng, FTS5_COMMANDS);
      const rank = [
        "rank",
        "pgsz",
        "automerge",
        "crisismerge",
        "usermerge",
        "deletemerge",
        "secure-delete",
        "merge",
      ].includes(command);
      return `INSERT INTO ${qualified(rng, near, "docs")}(docs${rank ? ", rank" : ""}) VALUES ('${command}'${rank ? `, ${pick(rng, ["1", "2", "'bm25(10.0)'", "-4"])}` : ""})`;
    },
    () =>
      `SELECT ${pick(rng, ["optimize", "OPTIMIZE", "snippet", "offsets", "matchinfo"])}(notes) FROM ${qualified(rng, near, "notes")} ${rng() < 0.5 ? "WHERE notes MATCH 'note'" : ""}`,
    () => `SELECT highlight(docs, 0, '[', ']') FROM ${qualified(rng, near, "docs")} WHERE docs MATCH 'doc'`,
    () => `SELECT * FROM ${qualified(rng, near, "users")} ORDER BY randomblob(10)`,
    () =>
      pick(rng, [
        "BEGIN",
        "BEGIN IMMEDIATE",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT s",
        "RELEASE s",
        "ROLLBACK TO s",
        "END",
      ]),
    () => `EXPLAIN ${statement(rng, ids, near)}`,
  ];
  return pick(rng, makers)();
}
