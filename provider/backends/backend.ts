/**
 * What the resources need from wherever the fleet lives: the local engine over a data directory today, a
 * Platform API over HTTP later. Resources only ever talk to this interface, so a second backend slots in
 * without touching them.
 *
 * Contract for implementations:
 * - failures are `TenantDbError`s (engine/errors.ts) with the engine's codes, so the server maps them to
 *   gRPC statuses in one place whatever the backend;
 * - `get*` return null when the thing does not exist; every other method reports a missing thing as
 *   NOT_FOUND (resources make deletes idempotent on that code);
 * - nothing here knows about Pulumi: no unknowns, no secrets, no property maps.
 */

export interface GroupRecord {
  name: string;
  location: string;
  /** How many databases the group holds. */
  databases: number;
}

export interface DatabaseRecord {
  name: string;
  group: string;
  type: "standard" | "schema" | "child";
  schemaParent: string | null;
  schemaVersion: number;
  allowAttach: boolean;
  blockReads: boolean;
  blockWrites: boolean;
}

export interface DatabaseConfigPatch {
  allowAttach?: boolean;
  blockReads?: boolean;
  blockWrites?: boolean;
}

export interface MigrationPreview {
  /** Databases the pending migrations were dry-run on (0 when nothing is pending). */
  databases: number;
  failed: number;
  /** The first failures (a bounded list), each naming the database and SQLite's error. */
  failures: { database: string; error: string }[];
}

/** A declared schema's plan (see engine/schema): what `up` would apply, and what the linter says of it. */
export interface SchemaPlanRecord {
  fromVersion: number;
  statements: string[];
  /** Names exactly this plan from exactly this version; `applySchema` can insist on it. */
  checksum: string;
  /** One line per finding: `<kind> <code>: <message>`. */
  lint: string[];
  destructive: boolean;
  /** The dry run on the schema database and every child, when asked for. */
  dryRun: MigrationPreview | null;
}

/** How far a migration job has got: `dry_run` comes before the commit point, `run` after it. */
export interface JobProgress {
  phase: "dry_run" | "run";
  done: number;
  total: number;
}

export interface TokenRequest {
  database?: string;
  group?: string;
  authorization: "full-access" | "read-only";
  expiration: string;
  attach: string[];
}

export interface IssuedToken {
  jwt: string;
  jti: string;
  /** Unix seconds, or null for a token that never expires. */
  expiresAt: number | null;
}

export type TokenStatus = { valid: true; expiresAt: number | null } | { valid: false; reason: string };

export interface Backend {
  readonly kind: "local" | "http";
  /** The fleet this backend reaches, as one comparable string (fleetIdentity). */
  readonly identity: string;
  /** Where a group goes when its `location` is omitted. */
  readonly defaultLocation: string;

  getGroup(name: string): Promise<GroupRecord | null>;
  createGroup(name: string, location: string): Promise<GroupRecord>;
  /** Refused (FAILED_PRECONDITION) while the group still holds databases. */
  destroyGroup(name: string): Promise<void>;

  getDatabase(name: string): Promise<DatabaseRecord | null>;
  createDatabase(
    name: string,
    opts: { group: string; type: "standard" | "schema"; schemaParent?: string },
  ): Promise<DatabaseRecord>;
  /** Refused (FAILED_PRECONDITION) while a schema database still has children. */
  destroyDatabase(name: string): Promise<void>;
  updateDatabaseConfig(name: string, patch: DatabaseConfigPatch): Promise<DatabaseRecord>;
  countChildren(schemaDatabase: string): Promise<number>;
  /** The names of a schema database's children, sorted. */
  listChildren(schemaDatabase: string): Promise<string[]>;
  /** Creates children of a schema database in bursts; each burst is all or none. */
  createChildren(schemaDatabase: string, names: string[]): Promise<void>;
  /** Destroys children of a schema database in bursts; a name already gone is skipped. */
  destroyChildren(schemaDatabase: string, names: string[]): Promise<void>;

  /** The SQL of each migration applied to a schema database, in order. */
  listMigrations(schemaDatabase: string): Promise<string[]>;
  /** Dry-runs the not-yet-applied tail of `migrations` on the parent and every child; changes nothing. */
  previewMigrations(schemaDatabase: string, migrations: string[]): Promise<MigrationPreview>;
  /** Dry-runs migrations on an empty database: the preview of a schema database not created yet. */
  previewNewMigrations(migrations: string[]): Promise<{ migration: number; error: string } | null>;
  /**
   * Applies the not-yet-applied tail of `migrations` as one job, all or none; returns the version reached.
   * An aborted `signal` stops the job at its commit point if it has not passed it (nothing changed); past
   * it, the job finishes. Backends that run jobs elsewhere may ignore both options.
   */
  applyMigrations(
    schemaDatabase: string,
    migrations: string[],
    opts?: { signal?: AbortSignal; onProgress?: (p: JobProgress) => void },
  ): Promise<{ version: number }>;

  /** Plans the migration from a schema database's schema to `schema` (DDL); changes nothing. */
  planSchema(schemaDatabase: string, schema: string, opts: { dryRun: boolean }): Promise<SchemaPlanRecord>;
  /**
   * Applies that plan as one job, all or none; no job when there is nothing to do. Refused when destructive
   * and not allowed, and (CONFLICT) when `expectChecksum` names another plan than the one it makes now.
   */
  applySchema(
    schemaDatabase: string,
    schema: string,
    opts: { allowDestructive: boolean; expectChecksum?: string },
  ): Promise<{ version: number; statements: string[]; lint: string[]; checksum: string }>;

  createToken(req: TokenRequest): Promise<IssuedToken>;
  /**
   * Whether a token is still good in a group: signed by its current keys, not expired, not revoked, and
   * (for a database token, given its database) minted for that database and not an earlier one of its name.
   */
  checkToken(jwt: string, group: string, database?: string): Promise<TokenStatus>;
  revokeToken(jti: string): Promise<void>;

  close(): void;
}

/**
 * The fleet a backend reaches, as one comparable string: the absolute data directory, or the normalised
 * URL and organization of a Platform API.
 */
export function fleetIdentity(
  where: { dataDir: string } | { url: string; organization: string | undefined },
): string {
  if ("dataDir" in where) return `local ${where.dataDir}`;
  const url = new URL(where.url);
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  return `platform ${base} organization ${where.organization}`;
}
