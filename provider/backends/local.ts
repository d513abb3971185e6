import {
  type DatabaseInfo,
  DEFAULT_LOCATION,
  dryRunOnEmpty,
  type Engine,
  isTenantDbError,
  openEngine,
} from "../../engine/index.js";
import type { Backend, DatabaseRecord, GroupRecord } from "./backend.js";
import { schemaPlanRecord } from "./schema-plan.js";

/**
 * The embedded default: the engine over a data directory on this machine. The engine is opened on first
 * use, not at Configure, so a preview that touches nothing never creates the directory; and once per
 * directory per process, because opening recovers abandoned migration jobs and that should happen once.
 */

/** Children created or destroyed per catalog transaction: big enough to amortise, small enough to retry. */
const BURST = 1000;

const engines = new Map<string, Promise<Engine>>();

function engineFor(dataDir: string): Promise<Engine> {
  let engine = engines.get(dataDir);
  if (!engine) {
    engine = openEngine(dataDir);
    engines.set(dataDir, engine);
    // A failed open (unwritable directory, say) must not stick: the next operation tries again.
    engine.catch(() => engines.delete(dataDir));
  }
  return engine;
}

export function localBackend(dataDir: string): Backend {
  const engine = () => engineFor(dataDir);
  return {
    kind: "local",
    defaultLocation: DEFAULT_LOCATION,

    async getGroup(name) {
      const e = await engine();
      return orNull(() => toGroup(e.getGroup(name)));
    },
    async createGroup(name, location) {
      return toGroup((await engine()).createGroup(name, { location }));
    },
    async destroyGroup(name) {
      (await engine()).destroyGroup(name);
    },

    async getDatabase(name) {
      const e = await engine();
      return orNull(() => toDatabase(e.getDatabase(name)));
    },
    async createDatabase(name, opts) {
      const e = await engine();
      return toDatabase(
        await e.createDatabase(name, { group: opts.group, type: opts.type, schemaParent: opts.schemaParent }),
      );
    },
    async destroyDatabase(name) {
      (await engine()).destroyDatabase(name);
    },
    async updateDatabaseConfig(name, patch) {
      return toDatabase((await engine()).updateDatabaseConfig(name, patch));
    },
    async countChildren(name) {
      return (await engine()).countDatabases({ schemaParent: name });
    },
    async listChildren(name) {
      return (await engine()).listDatabases({ schemaParent: name }).map((d) => d.name);
    },
    async createChildren(name, names) {
      const e = await engine();
      for (let i = 0; i < names.length; i += BURST) await e.createChildren(name, names.slice(i, i + BURST));
    },
    async destroyChildren(name, names) {
      const e = await engine();
      for (let i = 0; i < names.length; i += BURST) {
        e.destroyDatabases(names.slice(i, i + BURST), { schemaParent: name });
      }
    },

    async listMigrations(name) {
      return (await engine()).listMigrations(name).map((m) => m.sql);
    },
    async previewMigrations(name, migrations) {
      return (await engine()).previewMigrations(name, migrations);
    },
    async previewNewMigrations(migrations) {
      // Needs no data directory, so a preview of a new stack still creates nothing.
      return dryRunOnEmpty(migrations);
    },
    async applyMigrations(name, migrations) {
      const { version } = await (await engine()).applyMigrations(name, migrations);
      return { version };
    },

    async planSchema(name, schema, opts) {
      const plan = await (await engine()).planSchema(name, schema, { dryRun: opts.dryRun });
      return { ...schemaPlanRecord(plan), dryRun: plan.dryRun ?? null };
    },
    async applySchema(name, schema, opts) {
      const e = await engine();
      const { plan, applied } = await e.applySchema(name, schema, opts);
      const record = schemaPlanRecord(plan);
      return { ...record, version: applied?.version ?? e.getDatabase(name).schemaVersion };
    },

    async createToken(req) {
      const t = await (await engine()).createToken(req);
      return { jwt: t.jwt, jti: t.jti, expiresAt: t.expiresAt };
    },
    async checkToken(jwt, group, database) {
      const status = await (await engine()).checkToken(jwt, group, database);
      return status.valid ? { valid: true, expiresAt: status.expiresAt } : status;
    },
    async revokeToken(jti) {
      (await engine()).revokeToken(jti);
    },

    close() {
      const opened = engines.get(dataDir);
      engines.delete(dataDir);
      void opened?.then((e) => e.close()).catch(() => {});
    },
  };
}

function orNull<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (isTenantDbError(e) && e.code === "NOT_FOUND") return null;
    throw e;
  }
}

const toGroup = (g: { name: string; location: string; databases: number }): GroupRecord => ({
  name: g.name,
  location: g.location,
  databases: g.databases,
});

const toDatabase = (d: DatabaseInfo): DatabaseRecord => ({
  name: d.name,
  group: d.group,
  type: d.type,
  schemaParent: d.schemaParent,
  schemaVersion: d.schemaVersion,
  allowAttach: d.allowAttach,
  blockReads: d.blockReads,
  blockWrites: d.blockWrites,
});
