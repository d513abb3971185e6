import fs from "node:fs";
import path from "node:path";
import { notFound } from "../../engine/errors.js";
import {
  type DatabaseInfo,
  DEFAULT_LOCATION,
  dryRunOnEmpty,
  type Engine,
  isTenantDbError,
  jobLimitsFromEnv,
  openEngine,
} from "../../engine/index.js";
import { layoutOf } from "../../engine/layout.js";
import { type Backend, type DatabaseRecord, fleetIdentity, type GroupRecord } from "./backend.js";
import { schemaPlanRecord } from "./schema-plan.js";

/**
 * The embedded default: the engine over a data directory on this machine, opened once per directory per
 * process and never at Configure. Reads (Check, Diff, Read, every preview) open it without recovery and
 * never create the directory: a `pulumi preview` must not change a file, not even to finish a job a dead
 * process left behind. The first write of the process finishes such jobs first, as the CLI would.
 */

/** Children created or destroyed per catalog transaction: big enough to amortise, small enough to retry. */
const BURST = 1000;

interface Opened {
  engine: Promise<Engine>;
  recovered?: Promise<unknown>;
}

const opened = new Map<string, Opened>();

function open(dataDir: string): Opened {
  let entry = opened.get(dataDir);
  if (!entry) {
    const engine = openEngine(dataDir, { recover: false, ...jobLimitsFromEnv() });
    entry = { engine };
    opened.set(dataDir, entry);
    // A failed open (unwritable directory, say) must not stick: the next operation tries again.
    engine.catch(() => opened.delete(dataDir));
  }
  return entry;
}

export function localBackend(dataDir: string): Backend {
  /** The engine for reading, or null when there is no fleet here yet (nothing to read, nothing created). */
  const reader = async (): Promise<Engine | null> =>
    fs.existsSync(layoutOf(dataDir).catalog) ? open(dataDir).engine : null;
  const engine = async (): Promise<Engine> => {
    const entry = open(dataDir);
    const e = await entry.engine;
    entry.recovered ??= e.recoverJobs();
    await entry.recovered;
    return e;
  };
  const missing = (name: string) => notFound(`database "${name}" not found`);
  return {
    kind: "local",
    identity: fleetIdentity({ dataDir: path.resolve(dataDir) }),
    defaultLocation: DEFAULT_LOCATION,

    async getGroup(name) {
      const e = await reader();
      return e && orNull(() => toGroup(e.getGroup(name)));
    },
    async createGroup(name, location) {
      return toGroup((await engine()).createGroup(name, { location }));
    },
    async destroyGroup(name) {
      (await engine()).destroyGroup(name);
    },

    async getDatabase(name) {
      const e = await reader();
      return e && orNull(() => toDatabase(e.getDatabase(name)));
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
      return (await reader())?.countDatabases({ schemaParent: name }) ?? 0;
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
      const e = await reader();
      if (!e) throw missing(name);
      return e.listMigrations(name).map((m) => m.sql);
    },
    async previewMigrations(name, migrations) {
      const e = await reader();
      if (!e) throw missing(name);
      return e.previewMigrations(name, migrations);
    },
    async previewNewMigrations(migrations) {
      // Needs no data directory, so a preview of a new stack still creates nothing.
      return dryRunOnEmpty(migrations);
    },
    async applyMigrations(name, migrations, opts = {}) {
      const { version } = await (await engine()).applyMigrations(name, migrations, {
        signal: opts.signal,
        onProgress:
          opts.onProgress && ((p) => opts.onProgress?.({ phase: p.phase, done: p.done, total: p.total })),
      });
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
      const e = await reader();
      if (!e) throw notFound(`group "${group}" not found`);
      const status = await e.checkToken(jwt, group, database);
      return status.valid ? { valid: true, expiresAt: status.expiresAt } : status;
    },
    async revokeToken(jti) {
      (await engine()).revokeToken(jti);
    },

    close() {
      const entry = opened.get(dataDir);
      opened.delete(dataDir);
      void entry?.engine.then((e) => e.close()).catch(() => {});
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
