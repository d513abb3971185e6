import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { failedPrecondition } from "./errors.js";
import { UNFINISHED_SQL } from "./jobs/states.js";
import { turnLatch } from "./turn.js";

export type Catalog = Database.Database;

export type DatabaseType = "standard" | "schema" | "child";

export interface GroupRow {
  id: number;
  name: string;
  location: string;
  uuid: string;
  created_at: number;
}

export interface DatabaseRow {
  id: number;
  name: string;
  group_id: number;
  group_name: string;
  type: DatabaseType;
  parent_id: number | null;
  parent_name: string | null;
  path: string;
  schema_version: number;
  allow_attach: number;
  block_reads: number;
  block_writes: number;
  uuid: string;
  created_at: number;
}

/** PRAGMA application_id of a catalog: marks a directory as a tenantdb data directory ("TDB1"). */
export const CATALOG_APPLICATION_ID = 0x54444231;

/**
 * PRAGMA user_version of a catalog that has everything below (SCHEMA, COUNTS, the added columns): bump it
 * whenever they change. A catalog at this version opens without the write lock that setting them up takes,
 * so a read never waits for a writer, and a catalog from before (0) is brought up to date once.
 */
export const CATALOG_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS groups (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  location TEXT NOT NULL,
  uuid TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS databases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE RESTRICT,
  type TEXT NOT NULL CHECK (type IN ('standard', 'schema', 'child')),
  parent_id INTEGER REFERENCES databases(id) ON DELETE RESTRICT,
  path TEXT NOT NULL,
  schema_version INTEGER NOT NULL DEFAULT 0,
  allow_attach INTEGER NOT NULL DEFAULT 0,
  block_reads INTEGER NOT NULL DEFAULT 0,
  block_writes INTEGER NOT NULL DEFAULT 0,
  uuid TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
DROP INDEX IF EXISTS databases_group;
CREATE INDEX IF NOT EXISTS databases_group_name ON databases(group_id, name);
CREATE INDEX IF NOT EXISTS databases_parent ON databases(parent_id);
CREATE INDEX IF NOT EXISTS databases_uuid ON databases(uuid);
CREATE INDEX IF NOT EXISTS databases_parent_name ON databases(parent_id, name);
CREATE TABLE IF NOT EXISTS migrations (
  database_id INTEGER NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  sql TEXT NOT NULL,
  checksum TEXT NOT NULL,
  job_id INTEGER NOT NULL,
  applied_at INTEGER NOT NULL,
  PRIMARY KEY (database_id, version)
);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  database_id INTEGER NOT NULL,
  database_name TEXT NOT NULL,
  from_version INTEGER NOT NULL,
  version INTEGER NOT NULL,
  sql TEXT NOT NULL,
  parts TEXT NOT NULL,
  checksum TEXT NOT NULL,
  state TEXT NOT NULL,
  error TEXT,
  total INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  committed_at INTEGER,
  finished_at INTEGER,
  summary TEXT,
  class TEXT NOT NULL DEFAULT 'data',
  migrated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_database ON jobs(database_id, id);
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs(database_id) WHERE state IN ${UNFINISHED_SQL};
CREATE TABLE IF NOT EXISTS job_tasks (
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  database_id INTEGER NOT NULL,
  database_name TEXT NOT NULL,
  path TEXT NOT NULL,
  state TEXT NOT NULL,
  error TEXT,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
-- A write's fence reads its database's task state (engine/query/fence.ts): covering, one entry per write.
CREATE INDEX IF NOT EXISTS job_tasks_fence ON job_tasks(job_id, database_id, state);
CREATE INDEX IF NOT EXISTS job_tasks_failed ON job_tasks(job_id, seq) WHERE state IN ('dry_run_failed', 'failed');
CREATE TABLE IF NOT EXISTS signing_keys (
  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  kid TEXT NOT NULL PRIMARY KEY,
  public_pem TEXT NOT NULL,
  private_pem TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS signing_keys_group ON signing_keys(group_id);
CREATE TABLE IF NOT EXISTS revoked_tokens (
  jti TEXT NOT NULL PRIMARY KEY,
  revoked_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
  name TEXT NOT NULL PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
`;

/**
 * How many databases there are in all ('all', 0), per group ('group', group id) and per schema database
 * ('parent', parent id), kept by triggers inside the very transactions that insert and delete databases:
 * a count is one row read however large the fleet. Databases never change group or parent.
 */
const COUNTS = `
CREATE TABLE IF NOT EXISTS database_counts (
  scope TEXT NOT NULL,
  id INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (scope, id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS databases_count_insert AFTER INSERT ON databases BEGIN
  INSERT INTO database_counts VALUES ('all', 0, 1) ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO database_counts VALUES ('group', NEW.group_id, 1) ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO database_counts SELECT 'parent', NEW.parent_id, 1 WHERE NEW.parent_id IS NOT NULL
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS databases_count_delete AFTER DELETE ON databases BEGIN
  UPDATE database_counts SET n = n - 1 WHERE scope = 'all' AND id = 0;
  UPDATE database_counts SET n = n - 1 WHERE scope = 'group' AND id = OLD.group_id;
  UPDATE database_counts SET n = n - 1 WHERE scope = 'parent' AND id = OLD.parent_id;
END;
`;

/**
 * A counter (`meta` key 'auth_generation') that every change able to turn a verified token's answer stale
 * moves, kept by triggers inside the very transactions that make the change: signing keys replaced, a
 * token revoked, a database destroyed or renamed, re-created under a new id, moved or retyped. A server
 * drops what it remembers of tokens when this moves, not at every commit to the catalog: a migration job
 * commits its progress many times a second, and none of that touches a token.
 */
export const AUTH_GENERATION = "auth_generation";
const bumpAuth = `INSERT INTO meta VALUES ('${AUTH_GENERATION}', '1')
    ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1;`;
const AUTH = ["INSERT", "UPDATE", "DELETE"]
  .flatMap((event) => [
    `CREATE TRIGGER IF NOT EXISTS auth_keys_${event.toLowerCase()} AFTER ${event} ON signing_keys BEGIN ${bumpAuth} END;`,
    `CREATE TRIGGER IF NOT EXISTS auth_revoked_${event.toLowerCase()} AFTER ${event} ON revoked_tokens BEGIN ${bumpAuth} END;`,
  ])
  .concat(
    `CREATE TRIGGER IF NOT EXISTS auth_databases_delete AFTER DELETE ON databases BEGIN ${bumpAuth} END;`,
    `CREATE TRIGGER IF NOT EXISTS auth_databases_update AFTER UPDATE OF name, uuid, group_id, type ON databases
      BEGIN ${bumpAuth} END;`,
  )
  .join("\n");

/** A catalog made before the counts existed gets them once, from one pass over its databases. */
function backfillCounts(db: Database.Database): void {
  if (db.prepare("SELECT 1 FROM database_counts WHERE scope = 'all' AND id = 0").get()) return;
  db.exec(`DELETE FROM database_counts;
    INSERT INTO database_counts SELECT 'all', 0, count(*) FROM databases;
    INSERT INTO database_counts SELECT 'group', group_id, count(*) FROM databases GROUP BY group_id;
    INSERT INTO database_counts SELECT 'parent', parent_id, count(*) FROM databases
      WHERE parent_id IS NOT NULL GROUP BY parent_id;`);
}

/**
 * Columns added after a table was first shipped: CREATE TABLE IF NOT EXISTS leaves old tables as they
 * are. A catalog that predates job summaries gets its finished jobs compacted once, here.
 */
function addMissingColumns(db: Database.Database): void {
  const jobColumns = db.pragma("table_info(jobs)") as { name: string }[];
  // A job's class decides its fences (jobs/classify.ts); jobs recorded before classes were fenced whole.
  if (!jobColumns.some((c) => c.name === "class"))
    db.exec("ALTER TABLE jobs ADD COLUMN class TEXT NOT NULL DEFAULT 'data'");
  // How many databases a running job has migrated, for the fence's message without counting tasks.
  if (!jobColumns.some((c) => c.name === "migrated"))
    db.exec("ALTER TABLE jobs ADD COLUMN migrated INTEGER NOT NULL DEFAULT 0");
  if (jobColumns.some((c) => c.name === "summary")) return;
  db.exec("ALTER TABLE jobs ADD COLUMN summary TEXT");
  // The same compaction as jobs/store.ts's compactFinishedJob, in SQL over every finished job at once.
  db.exec(`
    UPDATE jobs SET summary = (
      SELECT json_group_object(state, n) FROM (
        SELECT state, count(*) AS n FROM job_tasks WHERE job_id = jobs.id GROUP BY state))
    WHERE state NOT IN ${UNFINISHED_SQL};
    DELETE FROM job_tasks WHERE state NOT IN ('dry_run_failed', 'failed')
      AND job_id IN (SELECT id FROM jobs WHERE state NOT IN ${UNFINISHED_SQL});`);
}

const SELECT_DATABASE = `
SELECT d.*, g.name AS group_name, p.name AS parent_name
FROM databases d JOIN groups g ON g.id = d.group_id LEFT JOIN databases p ON p.id = d.parent_id`;

/**
 * Opens the catalog in WAL mode with synchronous=FULL: job transitions (above all the commit point) must
 * survive power loss, and WAL lets the CLI, the server and the provider read while one of them writes.
 */
export function openCatalog(
  file: string,
  opts: { create?: boolean; trace?: (sql: string) => void } = {},
): Catalog {
  const trace = opts.trace;
  const db = new Database(file, {
    timeout: 30_000,
    fileMustExist: opts.create === false,
    ...(trace ? { verbose: (sql?: unknown) => trace(String(sql)) } : {}),
  });
  try {
    // Judged before anything is written: switching to WAL alone would change someone else's file.
    if (!isOurs(db)) throw notOurs(file);
    withBusyRetry(() => db.pragma("journal_mode = WAL"));
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    if (!isCurrent(db)) withBusyRetry(() => db.transaction(() => setUp(db)).immediate());
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === "SQLITE_NOTADB") throw notOurs(file);
    throw e;
  }
  return db;
}

/**
 * Marked as ours and at this version or a later one (whose additions, triggers included, live in the file
 * and keep working): one read of the header, which SQLite has already made.
 */
function isCurrent(db: Catalog): boolean {
  return (
    db.pragma("application_id", { simple: true }) === CATALOG_APPLICATION_ID &&
    (db.pragma("user_version", { simple: true }) as number) >= CATALOG_VERSION
  );
}

/** Everything a catalog needs, idempotently, inside the caller's write transaction. */
function setUp(db: Catalog): void {
  db.exec(SCHEMA);
  addMissingColumns(db);
  db.exec(COUNTS);
  backfillCounts(db);
  db.exec(AUTH);
  // Only when missing or older: rewriting them would touch the file on every open, and a newer version
  // (from a later tenantdb) stays.
  if (db.pragma("application_id", { simple: true }) !== CATALOG_APPLICATION_ID)
    db.pragma(`application_id = ${CATALOG_APPLICATION_ID}`);
  if ((db.pragma("user_version", { simple: true }) as number) < CATALOG_VERSION)
    db.pragma(`user_version = ${CATALOG_VERSION}`);
}

/**
 * Opens an existing catalog when the disk is full. A WAL database needs its shared-memory file, and
 * creating one takes space; in exclusive locking mode SQLite keeps that index in its own memory instead,
 * and still reads the WAL. Nothing is created and the schema is left alone, so reads work; writes fail
 * with SQLITE_FULL until there is room. The lock keeps other processes out while this one has it open,
 * which is why only a process that could not open the catalog normally uses it.
 */
export function openCatalogWithoutSpace(file: string): Catalog {
  const db = new Database(file, { fileMustExist: true, timeout: 30_000 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.prepare("SELECT count(*) FROM sqlite_schema").get(); // takes the lock and reads the WAL now
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/**
 * A catalog is ours if it carries our application_id, or is new (no tables: another process may be creating
 * it right now), or predates the marker (it has our `databases` table). Anything else is someone's SQLite
 * file that happens to be called catalog.db, and is left alone.
 */
function isOurs(db: Catalog): boolean {
  const id = withBusyRetry(() => db.pragma("application_id", { simple: true })) as number;
  if (id === CATALOG_APPLICATION_ID) return true;
  if (id !== 0) return false;
  const tables = (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[]
  ).filter((t) => !t.startsWith("sqlite_"));
  return tables.length === 0 || tables.includes("databases");
}

function notOurs(file: string) {
  return failedPrecondition(
    `${file} is not a tenantdb catalog, so ${path.dirname(file)} is not a tenantdb data directory; pass --data-dir with a new or empty directory`,
  );
}

/** A value the data directory keeps about itself (e.g. what made it); undefined if never set. */
export function getMeta(catalog: Catalog, key: string): string | undefined {
  const row = catalog.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
    | { value: string }
    | undefined;
  return row?.value;
}

export function setMeta(catalog: Catalog, key: string, value: string): void {
  catalog
    .prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .run(key, value);
}

/** Switching to WAL needs a moment of exclusivity; several processes opening a new directory race for it. */
function withBusyRetry<T>(fn: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if ((e as { code?: string }).code !== "SQLITE_BUSY" || attempt > 50) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

export function getDatabaseRow(catalog: Catalog, name: string): DatabaseRow | undefined {
  return catalog.prepare(`${SELECT_DATABASE} WHERE d.name = ?`).get(name) as DatabaseRow | undefined;
}

export function getDatabaseRowById(catalog: Catalog, uuid: string): DatabaseRow | undefined {
  return catalog.prepare(`${SELECT_DATABASE} WHERE d.uuid = ?`).get(uuid) as DatabaseRow | undefined;
}

/**
 * Databases by one filter, each served by an index that also gives the order: by name list (the unique
 * name index), by group or by schema database (`(group_id, name)`, `(parent_id, name)`). The ids are
 * resolved first, so the planner never has to choose between joining first and filtering first.
 */
export function listDatabaseRows(
  catalog: Catalog,
  filter: { group?: string; parent?: string; names?: string[] } = {},
): DatabaseRow[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.names !== undefined) {
    where.push("d.name IN (SELECT value FROM json_each(?))");
    args.push(JSON.stringify(filter.names));
  }
  if (filter.parent !== undefined) {
    where.push("d.parent_id = (SELECT id FROM databases WHERE name = ?)");
    args.push(filter.parent);
  }
  if (filter.group !== undefined) {
    where.push("d.group_id = (SELECT id FROM groups WHERE name = ?)");
    args.push(filter.group);
  }
  const clause = where.length ? ` WHERE ${where.join(" AND ")}` : "";
  return catalog.prepare(`${SELECT_DATABASE}${clause} ORDER BY d.name`).all(...args) as DatabaseRow[];
}

/** A maintained count (see COUNTS): one row read. */
export function maintainedCount(catalog: Catalog, scope: "all" | "group" | "parent", id = 0): number {
  const row = catalog.prepare("SELECT n FROM database_counts WHERE scope = ? AND id = ?").get(scope, id) as
    | { n: number }
    | undefined;
  return row?.n ?? 0;
}

export function getGroupRow(catalog: Catalog, name: string): GroupRow | undefined {
  return catalog.prepare("SELECT * FROM groups WHERE name = ?").get(name) as GroupRow | undefined;
}

export function ensureDirs(...dirs: string[]): void {
  for (const dir of dirs) fs.mkdirSync(dir, { recursive: true });
}

const prepared = new WeakMap<Catalog, Map<string, Database.Statement>>();

/**
 * A statement of the catalog's, prepared once per connection: for queries on a hot path (every write's
 * fence, every attached file's row), where preparing each time would cost more than running.
 */
export function catalogStatement(catalog: Catalog, sql: string): Database.Statement {
  let statements = prepared.get(catalog);
  if (!statements) {
    statements = new Map();
    prepared.set(catalog, statements);
  }
  let stmt = statements.get(sql);
  if (!stmt) {
    stmt = catalog.prepare(sql);
    statements.set(sql, stmt);
  }
  return stmt;
}

interface SeenVersion {
  value: string;
  firstThisTurn: () => boolean;
}
const dataVersions = new WeakMap<Catalog, SeenVersion>();

/**
 * A value that moves whenever the catalog may have changed: another connection's commit (SQLite's
 * `data_version`, which takes the catalog's read lock: read now, or with `turn` at most once per turn of
 * the event loop, every caller of the turn sharing it) or this connection's own (`total_changes()`, which
 * reads no table and takes no lock).
 */
export function catalogVersion(catalog: Catalog, checks: "statement" | "turn"): string {
  let v = dataVersions.get(catalog);
  if (!v) {
    v = { value: "", firstThisTurn: turnLatch() };
    dataVersions.set(catalog, v);
  }
  // Both are asked, so that a read now also counts as this turn's.
  if (v.firstThisTurn() || checks === "statement") {
    v.value = String(catalogStatement(catalog, "PRAGMA data_version").pluck().get());
  }
  return `${v.value}:${catalogStatement(catalog, "SELECT total_changes()").pluck().get()}`;
}

/** The catalog's auth generation (see AUTH_GENERATION), read now. */
export function authGeneration(catalog: Catalog): string | undefined {
  return catalogStatement(catalog, "SELECT value FROM meta WHERE key = ?").pluck().get(AUTH_GENERATION) as
    | string
    | undefined;
}
