import { createHash } from "node:crypto";
import { decodeJwt } from "jose";
import {
  DEFAULT_LOCATION,
  dryRunOnEmpty,
  ERROR_CODES,
  type ErrorCode,
  type Finding,
  failedPrecondition,
  TenantDbError,
} from "../../engine/index.js";
import { type Backend, type DatabaseRecord, fleetIdentity, type GroupRecord } from "./backend.js";
import { schemaPlanRecord } from "./schema-plan.js";

/**
 * The fleet behind a Platform API over HTTP: `tenantdb serve`, or Turso's own API for teams that outgrow
 * one machine. Groups, databases, their configuration and token minting are Turso's routes; migrations of
 * a schema database and single-token revocation and checks are tenantdb's extension routes, which Turso
 * lacks, so against Turso those say so plainly instead of failing as a confusing NOT_FOUND.
 *
 * Failures come back as TenantDbErrors with the server's own message, so the provider maps them to gRPC
 * statuses in its one place. The API token goes into the Authorization header and nowhere else.
 */

export interface PlatformOptions {
  url: string;
  apiToken: string;
  organization: string;
}

type Json = Record<string, unknown>;

interface Call {
  query?: Record<string, string>;
  body?: unknown;
  /** What needs this route, when it is one of tenantdb's own (so a 404 means "not tenantdb serve"). */
  extension?: string;
  /** Migration jobs run as long as the fleet is large, so they get no deadline. */
  noTimeout?: boolean;
}

const TIMEOUT_MS = 5 * 60_000;
/** Children per bulk-create request (the server's own limit is 10,000). */
const BURST = 1000;

export function platformBackend(opts: PlatformOptions): Backend {
  const api = new PlatformClient(opts);
  const db = (name: string, rest = "") => `/databases/${encodeURIComponent(name)}${rest}`;
  const group = (name: string, rest = "") => `/groups/${encodeURIComponent(name)}${rest}`;
  const MIGRATIONS = "managing a SchemaDatabase's migrations";
  const SCHEMA = "managing a SchemaDatabase's declared schema";

  async function getDatabase(name: string): Promise<DatabaseRecord | null> {
    const found = await orNull(api.call("GET", db(name)));
    if (!found) return null;
    const d = object(found.database);
    // Turso's current API keeps `allow_attach` in the configuration only; tenantdb serve has it inline.
    const complete = ["allow_attach", "block_reads", "block_writes"].every((k) => typeof d[k] === "boolean");
    return toDatabase(d, complete ? {} : await api.call("GET", db(name, "/configuration")));
  }

  async function requireDatabase(name: string): Promise<DatabaseRecord> {
    const found = await getDatabase(name);
    if (!found) throw failedPrecondition(`database "${name}" disappeared while it was being changed`);
    return found;
  }

  async function listDatabases(query: Record<string, string>): Promise<Json[]> {
    const all: Json[] = [];
    // Turso pages long lists (`pagination.next`); tenantdb serve answers in one page.
    for (let cursor: string | undefined; ; ) {
      const page = await api.call("GET", "/databases", { query: cursor ? { ...query, cursor } : query });
      all.push(...(Array.isArray(page.databases) ? page.databases.map(object) : []));
      const next = object(page.pagination).next;
      if (typeof next !== "string" || next === "" || next === cursor) return all;
      cursor = next;
    }
  }

  /**
   * tenantdb serve answers `count=true` with `{count}` from its maintained counts. Turso ignores the
   * parameter and lists; only then is the list counted.
   */
  async function countDatabases(query: Record<string, string>): Promise<number> {
    const res = await api.call("GET", "/databases", { query: { ...query, count: "true" } });
    if (typeof res.count === "number") return res.count;
    return (await listDatabases(query)).length;
  }

  /** tenantdb serve's fleet route: children destroyed and created in bursts, one request each. */
  async function changeChildren(name: string, body: { names?: string[]; destroy?: string[] }) {
    await api.call("POST", db(name, "/children"), {
      body,
      extension: "changing a DatabaseFleet's tenants in bursts",
      noTimeout: true,
    });
  }

  return {
    kind: "http",
    identity: fleetIdentity(opts),
    // Turso has no default location; there a Group needs an explicit `location`.
    defaultLocation: DEFAULT_LOCATION,

    async getGroup(name) {
      const found = await orNull(api.call("GET", group(name)));
      if (!found) return null;
      return toGroup(object(found.group), await countDatabases({ group: name }));
    },
    async createGroup(name, location) {
      const created = await api.call("POST", "/groups", { body: { name, location } });
      return toGroup(object(created.group), 0);
    },
    async destroyGroup(name) {
      await api.call("DELETE", group(name));
    },

    getDatabase,
    async createDatabase(name, o) {
      const body = {
        name,
        group: o.group,
        ...(o.type === "schema" ? { is_schema: true } : {}),
        ...(o.schemaParent !== undefined ? { schema: o.schemaParent } : {}),
      };
      await api.call("POST", "/databases", { body });
      return requireDatabase(name);
    },
    async destroyDatabase(name) {
      await api.call("DELETE", db(name));
    },
    async updateDatabaseConfig(name, patch) {
      const body = {
        allow_attach: patch.allowAttach,
        block_reads: patch.blockReads,
        block_writes: patch.blockWrites,
      };
      const config = await api.call("PATCH", db(name, "/configuration"), { body });
      return { ...(await requireDatabase(name)), ...flags(config) };
    },
    async countChildren(name) {
      return countDatabases({ schema: name });
    },
    async listChildren(name) {
      return (await listDatabases({ schema: name })).map((d) => String(d.Name ?? d.name)).sort();
    },
    async createChildren(name, names) {
      for (let i = 0; i < names.length; i += BURST)
        await changeChildren(name, { names: names.slice(i, i + BURST) });
    },
    async destroyChildren(name, names) {
      for (let i = 0; i < names.length; i += BURST)
        await changeChildren(name, { destroy: names.slice(i, i + BURST) });
    },

    async listMigrations(name) {
      const res = await api.call("GET", db(name, "/migrations"), { extension: MIGRATIONS });
      return (Array.isArray(res.migrations) ? res.migrations : []).map((m) => String(object(m).sql));
    },
    async previewMigrations(name, migrations) {
      const res = await api.call("POST", db(name, "/migrations/preview"), {
        body: { migrations },
        extension: MIGRATIONS,
        noTimeout: true,
      });
      const failures = (Array.isArray(res.failures) ? res.failures : []).map((f) => ({
        database: String(object(f).database),
        error: String(object(f).error),
      }));
      return { databases: Number(res.databases ?? 0), failed: Number(res.failed ?? 0), failures };
    },
    async previewNewMigrations(migrations) {
      // An empty database needs no server: the preview of a new stack asks the API nothing.
      return dryRunOnEmpty(migrations);
    },
    async applyMigrations(name, migrations) {
      const res = await api.call("POST", db(name, "/migrations"), {
        body: { migrations },
        extension: MIGRATIONS,
        noTimeout: true,
      });
      return { version: Number(res.schema_version) };
    },

    async planSchema(name, schema, opts) {
      const res = await api.call("POST", db(name, "/schema/plan"), {
        body: { schema, dry_run: opts.dryRun },
        extension: SCHEMA,
        noTimeout: true,
      });
      const dry = res.dry_run === null || res.dry_run === undefined ? null : object(res.dry_run);
      return {
        ...planOf(res),
        dryRun: dry && {
          databases: Number(dry.databases ?? 0),
          failed: Number(dry.failed ?? 0),
          failures: (Array.isArray(dry.failures) ? dry.failures : []).map((f) => ({
            database: String(object(f).database),
            error: String(object(f).error),
          })),
        },
      };
    },
    async applySchema(name, schema, opts) {
      const res = await api.call("POST", db(name, "/schema"), {
        body: { schema, allow_destructive: opts.allowDestructive, expect_checksum: opts.expectChecksum },
        extension: SCHEMA,
        noTimeout: true,
      });
      return { ...planOf(object(res.plan)), version: Number(res.schema_version) };
    },

    async createToken(req) {
      const path = req.database !== undefined ? db(req.database) : group(req.group ?? "");
      const res = await api.call("POST", `${path}/auth/tokens`, {
        query: { expiration: req.expiration, authorization: req.authorization },
        body: { permissions: { read_attach: { databases: req.attach } } },
      });
      if (typeof res.jwt !== "string") throw api.unexpected("a token without `jwt`");
      return issued(res.jwt, res);
    },
    async checkToken(jwt, groupName, database) {
      const res = await api.call("POST", group(groupName, "/auth/tokens/validate"), {
        body: { jwt, database },
        extension: "refreshing a Token",
      });
      if (res.valid === true) return { valid: true, expiresAt: numberOrNull(res.expires_at) };
      return { valid: false, reason: String(res.reason ?? "not valid") };
    },
    async revokeToken(jti) {
      await api.call("POST", "/auth/tokens/revoke", {
        body: { jti },
        extension: "revoking a single token (deleting a Token)",
      });
    },

    close() {
      // Nothing is held open: each call is one fetch.
    },
  };
}

/** HTTP against one organization of a Platform API, with errors turned into TenantDbErrors. */
class PlatformClient {
  /** Where the API is; safe in messages, since a URL's origin carries no credentials. */
  readonly #base: string;
  readonly #org: string;
  readonly #token: string;
  #checked: Promise<void> | undefined;

  constructor(opts: PlatformOptions) {
    const url = new URL(opts.url);
    // The base without a trailing `/v1`, which users copy from Turso's client settings.
    const pathname = url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
    this.#base = `${url.origin}${pathname}`;
    this.#org = opts.organization;
    this.#token = opts.apiToken;
  }

  /** A call under `/v1/organizations/{org}`, after the organization was found once. */
  async call(method: string, path: string, c: Call = {}): Promise<Json> {
    await this.#ready();
    return this.#fetch(method, `/v1/organizations/${encodeURIComponent(this.#org)}${path}`, c);
  }

  unexpected(what: string): TenantDbError {
    return new TenantDbError("INTERNAL", `the Platform API at ${this.#base} answered with ${what}`);
  }

  /**
   * A wrong organization or URL would otherwise look like every resource being gone (404 → refresh drops
   * them from the stack), so the organization is confirmed before anything else is asked.
   */
  #ready(): Promise<void> {
    this.#checked ??= this.#fetch("GET", `/v1/organizations/${encodeURIComponent(this.#org)}`, {}).then(
      () => {},
      (e) => {
        this.#checked = undefined;
        if (e instanceof TenantDbError && e.code === "NOT_FOUND") {
          throw failedPrecondition(
            `organization "${this.#org}" was not found at the Platform API at ${this.#base}: ${e.message}. Check the provider's \`organization\` and \`url\``,
          );
        }
        throw e;
      },
    );
    return this.#checked;
  }

  async #fetch(method: string, path: string, c: Call): Promise<Json> {
    const url = `${this.#base}${path}${c.query ? `?${new URLSearchParams(c.query)}` : ""}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (c.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
        signal: c.noTimeout ? undefined : AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw this.#unreachable(method, path, e);
    }
    const text = await res.text().catch(() => "");
    const body = parseJson(text);
    if (res.ok) {
      if (body === undefined) throw this.unexpected(`${res.status} and a body that is not JSON`);
      return body;
    }
    const message = this.#redact(
      typeof body?.error === "string" ? body.error : `HTTP ${res.status} ${text.slice(0, 200)}`.trim(),
    );
    if (c.extension && (res.status === 404 || res.status === 405) && !isTenantDbAnswer(body, message)) {
      throw failedPrecondition(
        `${c.extension} needs tenantdb serve: the Platform API at ${this.#base} has no route for ${method} ${path}; Turso's Platform API has no such route (and an older tenantdb serve may lack it too)`,
      );
    }
    const code = codeOf(res.status, body);
    if (code === "UNAUTHENTICATED") {
      throw new TenantDbError(
        code,
        `the Platform API at ${this.#base} refused the API token (\`apiToken\`): ${message}`,
      );
    }
    if (code === "INTERNAL") {
      throw new TenantDbError(
        code,
        `the Platform API at ${this.#base} failed (HTTP ${res.status}): ${message}`,
      );
    }
    throw new TenantDbError(code, message);
  }

  #unreachable(method: string, path: string, e: unknown): TenantDbError {
    const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err?.name === "TimeoutError") {
      return failedPrecondition(
        `the Platform API at ${this.#base} did not answer ${method} ${path} within ${TIMEOUT_MS / 1000} s`,
      );
    }
    const reason = err?.cause?.message ?? err?.cause?.code ?? err?.message ?? String(e);
    return failedPrecondition(`cannot reach the Platform API at ${this.#base}: ${this.#redact(reason)}`);
  }

  #redact(text: string): string {
    return this.#token === "" ? text : text.split(this.#token).join("<apiToken>");
  }
}

function parseJson(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** tenantdb serve names the engine's code in every error; Turso's errors carry only the status. */
function codeOf(status: number, body: Json | undefined): ErrorCode {
  if (isErrorCode(body?.code)) return body.code;
  if (status === 400) return "INVALID_ARGUMENT";
  if (status === 401) return "UNAUTHENTICATED";
  if (status === 403) return "PERMISSION_DENIED";
  if (status === 404) return "NOT_FOUND";
  if (status === 409) return "ALREADY_EXISTS";
  if (status === 412 || status === 422) return "FAILED_PRECONDITION";
  if (status === 507) return "DISK_FULL";
  return "INTERNAL";
}

/** A 404 that is tenantdb serve's answer about a thing (a database not found), not about the route. */
function isTenantDbAnswer(body: Json | undefined, message: string): boolean {
  return isErrorCode(body?.code) && !message.startsWith("no route for ");
}

const isErrorCode = (v: unknown): v is ErrorCode =>
  typeof v === "string" && (ERROR_CODES as readonly string[]).includes(v);

/** A plan in the server's JSON (`POST …/schema/plan`). */
function planOf(json: Json) {
  const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  return schemaPlanRecord({
    fromVersion: Number(json.from_version ?? 0),
    statements: strings(json.statements),
    checksum: String(json.checksum ?? ""),
    lint: (Array.isArray(json.lint) ? json.lint : []).map((f) => {
      const o = object(f);
      return { kind: o.kind as Finding["kind"], code: String(o.code), message: String(o.message) };
    }),
    destructive: json.destructive === true,
  });
}

async function orNull(call: Promise<Json>): Promise<Json | null> {
  try {
    return await call;
  } catch (e) {
    if (e instanceof TenantDbError && e.code === "NOT_FOUND") return null;
    throw e;
  }
}

const object = (v: unknown): Json =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};

const numberOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function flags(config: Json): Partial<DatabaseRecord> {
  const out: Partial<DatabaseRecord> = {};
  if (typeof config.allow_attach === "boolean") out.allowAttach = config.allow_attach;
  if (typeof config.block_reads === "boolean") out.blockReads = config.block_reads;
  if (typeof config.block_writes === "boolean") out.blockWrites = config.block_writes;
  return out;
}

function toDatabase(d: Json, config: Json): DatabaseRecord {
  const schemaParent = typeof d.schema === "string" && d.schema !== "" ? d.schema : null;
  const isSchema = d.is_schema === true || d.type === "schema";
  return {
    name: String(d.Name ?? d.name),
    group: String(d.group ?? ""),
    type: isSchema ? "schema" : schemaParent !== null ? "child" : "standard",
    schemaParent,
    // Only tenantdb serve reports it; Turso's API does not say.
    schemaVersion: numberOrNull(d.schema_version) ?? 0,
    allowAttach: d.allow_attach === true,
    blockReads: d.block_reads === true,
    blockWrites: d.block_writes === true,
    ...flags(config),
  };
}

function toGroup(g: Json, databases: number): GroupRecord {
  const locations = Array.isArray(g.locations) ? g.locations : [];
  return { name: String(g.name), location: String(g.primary ?? locations[0] ?? DEFAULT_LOCATION), databases };
}

/**
 * tenantdb serve returns the token's id and expiry beside it; Turso returns the JWT alone, so they are
 * read from its (unverified) payload. A token without a `jti` still needs a stable id for the stack.
 */
function issued(jwt: string, res: Json): { jwt: string; jti: string; expiresAt: number | null } {
  let payload: { jti?: unknown; exp?: unknown } = {};
  try {
    payload = decodeJwt(jwt);
  } catch {
    // Not a JWT we can read: the id falls back to a digest, the expiry to what the server said.
  }
  const jti =
    typeof res.jti === "string" && res.jti !== ""
      ? res.jti
      : typeof payload.jti === "string" && payload.jti !== ""
        ? payload.jti
        : createHash("sha256").update(jwt).digest("base64url").slice(0, 32);
  const expiresAt = "expires_at" in res ? numberOrNull(res.expires_at) : numberOrNull(payload.exp);
  return { jwt, jti, expiresAt };
}
