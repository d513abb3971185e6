import fs from "node:fs";
import * as apiTokens from "./api-tokens.js";
import * as auth from "./auth.js";
import {
  authGeneration,
  type Catalog,
  catalogVersion,
  ensureDirs,
  getMeta,
  openCatalog,
  openCatalogWithoutSpace,
  setMeta,
} from "./catalog.js";
import type { EngineContext, EngineOptions } from "./context.js";
import { checkDataDir } from "./data-dir.js";
import * as databases from "./databases.js";
import { namingStorageFailures, storageError, storageFailure } from "./errors.js";
import * as groups from "./groups.js";
import { removeAbandonedFiles } from "./installs.js";
import { type ProgressListener, removeStaleUndoLogs } from "./jobs/runner.js";
import * as jobs from "./jobs/view.js";
import { layoutOf } from "./layout.js";
import * as migrations from "./migrations.js";
import { OWNER, type Principal } from "./query/principal.js";
import { endHeldReads, openSession, type Session, type SessionOptions } from "./query/session.js";
import type { QueryResult, SqlArgs } from "./query/values.js";
import * as schema from "./schema/fleet.js";
import { keepReserve } from "./space.js";

/**
 * The engine over one data directory: the one surface the CLI, the server and the provider use. Each
 * method is a thin binding of a plain function in its own module, so this file is the table of contents.
 */
export type Engine = ReturnType<typeof bind>;

export interface OpenOptions extends EngineOptions {
  /**
   * What to do about jobs abandoned by dead processes. `true` (default): finish them all before returning.
   * `"lazy"`: nothing at open, so a command that does not touch a fenced fleet never waits for one; a
   * migration or `resumeMigrations` settles its own schema database's job first, and `recoverJobs()`
   * settles every one (what a server runs in the background). `false`: nothing at all.
   */
  recover?: boolean | "lazy";
  onRecoveryProgress?: ProgressListener;
  /**
   * Create the data directory if it does not exist yet (default true). Reads pass false: a missing
   * directory is then NOT_FOUND and nothing is created.
   */
  create?: boolean;
}

export async function openEngine(dataDir: string, opts: OpenOptions = {}): Promise<Engine> {
  const layout = layoutOf(dataDir);
  try {
    const create = opts.create !== false;
    checkDataDir(layout, create);
    if (create) ensureDirs(layout.root);
    // The catalog (and its marker) first: a directory holding our subdirectories but no catalog yet still
    // counts as ours (see data-dir.ts), so a crash in between leaves nothing that is refused later.
    const { catalog, full } = openCatalogOrReadOnly(layout.catalog, { create, trace: opts.catalogTrace });
    if (!full) ensureDirs(layout.databases, layout.tmp, layout.locks, layout.undo);
    const ctx: EngineContext = { layout, catalog, options: opts };
    removeAbandonedFiles(ctx);
    // On a full disk there is nothing to recover with; reads still work, and the next open recovers.
    if (!full) {
      keepReserve(layout);
      if (opts.recover === true || opts.recover === undefined) {
        await migrations.recoverAbandonedJobs(ctx, opts.onRecoveryProgress);
      } else if (opts.recover === "lazy") {
        removeStaleUndoLogs(ctx);
      }
    }
    return namingStorageFailures(bind(ctx));
  } catch (e) {
    throw storageError(e, { phase: "open" }) ?? e;
  }
}

/** The catalog, opened without writing anything when the disk is too full to open it as usual. */
function openCatalogOrReadOnly(
  file: string,
  opts: { create: boolean; trace?: (sql: string) => void },
): { catalog: Catalog; full: boolean } {
  try {
    return { catalog: openCatalog(file, opts), full: false };
  } catch (e) {
    if (!storageFailure(e) || !fs.existsSync(file)) throw e;
    return { catalog: openCatalogWithoutSpace(file), full: true };
  }
}

function bind(ctx: EngineContext) {
  return {
    dataDir: ctx.layout.root,
    /** What the data directory keeps about itself, for its tools (e.g. the demo marks its own). */
    getMeta: (key: string) => getMeta(ctx.catalog, key),
    setMeta: (key: string, value: string) => setMeta(ctx.catalog, key, value),

    createGroup: (name: string, opts?: { location?: string }) => groups.createGroup(ctx, name, opts),
    getGroup: (name: string) => groups.getGroup(ctx, name),
    listGroups: () => groups.listGroups(ctx),
    destroyGroup: (name: string) => groups.destroyGroup(ctx, name),

    createDatabase: (name: string, opts?: databases.CreateDatabaseOptions) =>
      databases.createDatabase(ctx, name, opts),
    createChildren: (
      parent: string,
      names: string[],
      opts?: Parameters<typeof databases.createChildren>[3],
    ) => databases.createChildren(ctx, parent, names, opts),
    getDatabase: (name: string) => databases.getDatabase(ctx, name),
    listDatabases: (filter?: { group?: string; schemaParent?: string }) =>
      databases.listDatabases(ctx, filter),
    countDatabases: (filter?: { group?: string; schemaParent?: string }) =>
      databases.countDatabases(ctx, filter),
    destroyDatabase: (name: string) => databases.destroyDatabase(ctx, name),
    destroyDatabases: (names: string[], opts?: { schemaParent?: string }) =>
      databases.destroyDatabases(ctx, names, opts),
    updateDatabaseConfig: (name: string, patch: Partial<databases.DatabaseConfig>) =>
      databases.updateDatabaseConfig(ctx, name, patch),

    openSession: (name: string, principal: Principal = OWNER, opts?: SessionOptions): Session =>
      openSession(ctx, name, principal, opts),
    /**
     * Ends the read transactions this engine's sessions hold on a database (`readTransactions: "held"`):
     * for a server before another process writes there, which would otherwise wait for them.
     */
    endHeldReads: (name: string) => endHeldReads(ctx, name),
    /** Runs SQL on a database in a session of its own. */
    async execute(
      name: string,
      sql: string,
      opts: { principal?: Principal; args?: SqlArgs; onProgress?: ProgressListener } = {},
    ): Promise<QueryResult[]> {
      const session = openSession(ctx, name, opts.principal ?? OWNER);
      try {
        return await session.execute(sql, opts.args, { onProgress: opts.onProgress });
      } finally {
        session.close();
      }
    },

    migrate: (parent: string, sql: string | string[], opts?: { onProgress?: ProgressListener }) =>
      migrations.migrate(ctx, parent, sql, opts),
    applyMigrations: (
      parent: string,
      list: string[],
      opts?: { onProgress?: ProgressListener; signal?: AbortSignal },
    ) => migrations.applyMigrations(ctx, parent, list, opts),
    previewMigrations: (parent: string, list: string[]) => migrations.previewMigrations(ctx, parent, list),
    dryRunOnEmpty: (list: string[]) => migrations.dryRunOnEmpty(list),
    pendingMigrations: (parent: string, list: string[]) => migrations.pendingMigrations(ctx, parent, list),
    listMigrations: (parent: string) => migrations.listMigrations(ctx, parent),
    resumeMigrations: (parent: string, opts?: { onProgress?: ProgressListener }) =>
      migrations.resumeMigrations(ctx, parent, opts),
    planSchema: (parent: string, desired: string, opts?: schema.SchemaPlanOptions) =>
      schema.planSchema(ctx, parent, desired, opts),
    applySchema: (parent: string, desired: string, opts?: schema.SchemaApplyOptions) =>
      schema.applySchema(ctx, parent, desired, opts),
    showSchema: (name: string) => schema.showSchema(ctx, name),
    schemaDrift: (parent: string) => schema.schemaDrift(ctx, parent),
    listJobs: (parent: string) => jobs.listJobViews(ctx, parent),
    getJob: (parent: string, id: number, page?: { after?: number; limit?: number }) =>
      jobs.getJobView(ctx, parent, id, page),
    /** Finishes every abandoned job (see `recover`); jobs another live process runs are left to it. */
    recoverJobs: (opts?: { onProgress?: ProgressListener }) =>
      migrations.recoverAbandonedJobs(ctx, opts?.onProgress),

    createToken: (req: auth.CreateTokenRequest) => auth.createToken(ctx, req),
    authenticate: (jwt: string, database: string) => auth.authenticate(ctx, jwt, database),
    rotateGroupKeys: (group: string) => auth.rotateGroupKeys(ctx, group),
    revokeToken: (tokenOrJti: string) => auth.revokeToken(ctx, tokenOrJti),
    publicKeys: (group: string) => auth.publicKeys(ctx, group),
    ensureGroupKey: (group: string) => auth.ensureGroupKey(ctx, group),
    checkToken: (jwt: string, group: string, database?: string) => auth.checkToken(ctx, jwt, group, database),
    /**
     * Moves whenever the catalog may have changed (catalog.ts catalogVersion; `turn` reads it once per
     * turn of the event loop); when it moved, `authGeneration` says whether a verified token may be stale.
     */
    catalogVersion: (checks: "statement" | "turn" = "turn") => catalogVersion(ctx.catalog, checks),
    authGeneration: () => authGeneration(ctx.catalog),

    mintApiToken: (name: string) => apiTokens.mintApiToken(ctx, name),
    listApiTokens: () => apiTokens.listApiTokens(ctx),
    revokeApiToken: (name: string) => apiTokens.revokeApiToken(ctx, name),
    verifyApiToken: (token: string) => apiTokens.verifyApiToken(ctx, token),

    close: (): void => {
      void ctx.pool?.close();
      ctx.pool = undefined;
      ctx.catalog.close();
    },
  };
}
