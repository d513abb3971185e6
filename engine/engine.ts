import * as apiTokens from "./api-tokens.js";
import * as auth from "./auth.js";
import { ensureDirs, openCatalog } from "./catalog.js";
import type { EngineContext, EngineOptions } from "./context.js";
import * as databases from "./databases.js";
import { removeAbandonedTempFiles } from "./files.js";
import * as groups from "./groups.js";
import type { ProgressListener } from "./jobs/runner.js";
import * as jobs from "./jobs/view.js";
import { layoutOf } from "./layout.js";
import * as migrations from "./migrations.js";
import { OWNER, type Principal } from "./query/principal.js";
import { openSession, type Session, type SessionOptions } from "./query/session.js";
import type { QueryResult, SqlArgs } from "./query/values.js";

/**
 * The engine over one data directory: the one surface the CLI, the server and the provider use. Each
 * method is a thin binding of a plain function in its own module, so this file is the table of contents.
 */
export type Engine = ReturnType<typeof bind>;

export interface OpenOptions extends EngineOptions {
  /** Finish jobs abandoned by dead processes before returning (default true). */
  recover?: boolean;
  onRecoveryProgress?: ProgressListener;
}

export async function openEngine(dataDir: string, opts: OpenOptions = {}): Promise<Engine> {
  const layout = layoutOf(dataDir);
  ensureDirs(layout.root, layout.databases, layout.tmp, layout.locks, layout.undo);
  const catalog = openCatalog(layout.catalog);
  const ctx: EngineContext = { layout, catalog, options: opts };
  removeAbandonedTempFiles(layout.tmp);
  if (opts.recover !== false) await migrations.recoverAbandonedJobs(ctx, opts.onRecoveryProgress);
  return bind(ctx);
}

function bind(ctx: EngineContext) {
  return {
    dataDir: ctx.layout.root,

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
    updateDatabaseConfig: (name: string, patch: Partial<databases.DatabaseConfig>) =>
      databases.updateDatabaseConfig(ctx, name, patch),

    openSession: (name: string, principal: Principal = OWNER, opts?: SessionOptions): Session =>
      openSession(ctx, name, principal, opts),
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
    /** Finishes jobs abandoned by dead processes (what opening does unless `recover: false`). */
    recoverAbandonedJobs: (onProgress?: ProgressListener) => migrations.recoverAbandonedJobs(ctx, onProgress),
    listJobs: (parent: string) => jobs.listJobViews(ctx, parent),
    getJob: (parent: string, id: number) => jobs.getJobView(ctx, parent, id),

    createToken: (req: auth.CreateTokenRequest) => auth.createToken(ctx, req),
    authenticate: (jwt: string, database: string) => auth.authenticate(ctx, jwt, database),
    rotateGroupKeys: (group: string) => auth.rotateGroupKeys(ctx, group),
    revokeToken: (tokenOrJti: string) => auth.revokeToken(ctx, tokenOrJti),
    publicKeys: (group: string) => auth.publicKeys(ctx, group),
    ensureGroupKey: (group: string) => auth.ensureGroupKey(ctx, group),
    checkToken: (jwt: string, group: string, database?: string) => auth.checkToken(ctx, jwt, group, database),

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
