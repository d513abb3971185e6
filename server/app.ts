import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Handler, ServerContext } from "./context.js";
import { cursor } from "./hrana/cursor.js";
import { hranaCode } from "./hrana/errors.js";
import { pipeline, probe } from "./hrana/http.js";
import {
  createRequest,
  fromNode,
  type Incoming,
  type Outgoing,
  type Reply,
  type Request,
  readTarget,
} from "./http.js";
import { errorReply, HttpError, isExpected } from "./http-errors.js";
import { getJob, listJobs } from "./jobs.js";
import * as apiTokens from "./platform/api-tokens.js";
import * as databases from "./platform/databases.js";
import * as groups from "./platform/groups.js";
import * as migrations from "./platform/migrations.js";
import * as orgs from "./platform/organizations.js";
import * as schema from "./platform/schema.js";
import * as tokens from "./platform/tokens.js";
import { Router } from "./router.js";

/**
 * Every route the server answers, and the one path a request takes through it: match, authenticate
 * (Platform routes need an API token; data routes authenticate their database token themselves), handle,
 * and write the reply — or the error, mapped in http-errors.ts.
 */

/** `platform`: behind an API token, errors in Turso's vocabulary. `data`: Hrana's. `public`: no token. */
type Api = "platform" | "data" | "public";

interface Route {
  api: Api;
  handle: Handler;
}

function routes(): Router<Route> {
  const router = new Router<Route>();
  const add = (api: Api, method: string, path: string, handle: Handler) =>
    router.add(method, path, { api, handle });
  const platform = (method: string, path: string, handle: Handler) => add("platform", method, path, handle);
  const org = "/v1/organizations/:org";

  // ── Platform API ─────────────────────────────────────────────────────────────────────────────────
  platform("GET", "/v1/organizations", orgs.listOrganizations);
  platform("GET", org, orgs.getOrganization);
  platform("GET", "/v1/locations", orgs.listLocations);

  platform("GET", `${org}/groups`, groups.listGroups);
  platform("POST", `${org}/groups`, groups.createGroup);
  platform("GET", `${org}/groups/:group`, groups.getGroup);
  platform("DELETE", `${org}/groups/:group`, groups.deleteGroup);
  platform("POST", `${org}/groups/:group/auth/tokens`, tokens.createGroupToken);
  platform("POST", `${org}/groups/:group/auth/rotate`, tokens.rotateGroupTokens);

  platform("GET", `${org}/databases`, databases.listDatabases);
  platform("POST", `${org}/databases`, databases.createDatabase);
  platform("GET", `${org}/databases/:db`, databases.getDatabase);
  platform("DELETE", `${org}/databases/:db`, databases.deleteDatabase);
  platform("POST", `${org}/databases/:db/children`, databases.changeChildren);
  platform("GET", `${org}/databases/:db/configuration`, databases.getConfiguration);
  platform("PATCH", `${org}/databases/:db/configuration`, databases.patchConfiguration);
  platform("POST", `${org}/databases/:db/auth/tokens`, tokens.createDatabaseToken);
  platform("POST", `${org}/databases/:db/auth/rotate`, tokens.rotateDatabaseTokens);

  // tenantdb's own: schema migrations and single tokens, which Turso's API cannot manage.
  platform("GET", `${org}/databases/:db/migrations`, migrations.listMigrations);
  platform("POST", `${org}/databases/:db/migrations`, migrations.applyMigrations);
  platform("POST", `${org}/databases/:db/migrations/preview`, migrations.previewMigrations);
  platform("POST", `${org}/databases/:db/schema`, schema.applySchema);
  platform("POST", `${org}/databases/:db/schema/plan`, schema.planSchema);
  platform("POST", `${org}/auth/tokens/revoke`, tokens.revokeToken);
  platform("POST", `${org}/groups/:group/auth/tokens/validate`, tokens.validateToken);

  platform("GET", "/v1/auth/validate", apiTokens.validateApiToken);
  platform("GET", "/v1/auth/api-tokens", apiTokens.listApiTokens);
  platform("GET", "/v1/auth/api-tokens/validate", apiTokens.validateApiToken);
  platform("POST", "/v1/auth/api-tokens/:name", apiTokens.mintApiToken);
  platform("DELETE", "/v1/auth/api-tokens/:name", apiTokens.revokeApiToken);

  // ── data plane: Hrana over HTTP and migration jobs, at the root or under /db/<name> ─────────────────
  for (const prefix of ["", "/db/:db"]) {
    add("public", "GET", `${prefix}/v2`, probe(2));
    add("public", "GET", `${prefix}/v3`, probe(3));
    add("data", "POST", `${prefix}/v2/pipeline`, pipeline(2));
    add("data", "POST", `${prefix}/v3/pipeline`, pipeline(3));
    add("data", "POST", `${prefix}/v3/cursor`, cursor);
    add("data", "GET", `${prefix}/v1/jobs`, listJobs);
    add("data", "GET", `${prefix}/v1/jobs/:id`, getJob);
  }
  add("public", "GET", "/health", () => ({ text: "ok" }));
  return router;
}

/** An answer at once when the handler had it at once (a read answered on this thread), else later. */
export type Answer = (incoming: Incoming) => Outgoing | Promise<Outgoing>;

/** The app: every request, from whichever front read it, to its answer. Never throws or rejects. */
export function createApp(ctx: ServerContext): Answer {
  const router = routes();

  return function answer(incoming: Incoming): Outgoing | Promise<Outgoing> {
    let api: Api = "public";
    let req: Request | undefined;
    const failed = (e: unknown): Outgoing => {
      if (!isExpected(e)) ctx.logError(e);
      const { status, headers, body } = errorReply(e, api === "data" ? hranaCode : undefined);
      return outgoing({ status, headers, json: body }, req);
    };
    try {
      const url = readTarget(incoming.target);
      const match = router.match(incoming.method, url.pathname);
      if (match.kind === "not-found") throw notFound(incoming.method, url.pathname);
      if (match.kind === "method-not-allowed") {
        throw new HttpError(
          405,
          "METHOD_NOT_ALLOWED",
          `${incoming.method} is not allowed on ${url.pathname}`,
          { allow: match.allow.join(", ") },
        );
      }
      api = match.value.api;
      const request = createRequest(incoming, url, match.params);
      req = request;
      if (api === "platform") checkPlatformAccess(ctx, request);
      const reply = match.value.handle(ctx, request);
      if (!(reply instanceof Promise)) return outgoing(reply, request);
      return reply.then((r) => outgoing(r, request)).catch(failed);
    } catch (e) {
      return failed(e);
    }
  };
}

/** The request log's line for a request: method, target, database, status (or "gone"), milliseconds. */
export function logLine(incoming: Incoming, out: Outgoing | undefined, startedMs: number): string {
  return `${incoming.method} ${incoming.target} ${out?.database ?? "-"} ${out && !incoming.gone.aborted ? out.status : "gone"} ${(performance.now() - startedMs).toFixed(1)}ms`;
}

/** The app behind node:http: what the lean front (http1.ts) hands over, and everything in tests' eyes the same. */
export function nodeHandler(ctx: ServerContext, answer: Answer, maxBodyBytes: number) {
  return async (raw: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const gone = { aborted: false };
    const incoming = fromNode(raw, maxBodyBytes, gone);
    let out: Outgoing | undefined;
    res.on("close", () => {
      if (!res.writableFinished) gone.aborted = true;
      ctx.logRequest(logLine(incoming, res.writableFinished ? out : undefined, started));
    });
    out = await answer(incoming);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(out.status, out.headers);
    res.end(raw.method === "HEAD" ? undefined : out.body);
    // A body the handler never read (a refusal before it looked) is drained, so keep-alive stays usable.
    if (!raw.complete) raw.resume();
  };
}

/** Platform routes need a valid API token, and name this server's organization. */
function checkPlatformAccess(ctx: ServerContext, req: Request): void {
  const token = req.bearer();
  if (token === undefined) {
    throw new HttpError(
      401,
      "UNAUTHENTICATED",
      "an API token is required: send `Authorization: Bearer <token>`; mint one with `tenantdb api-tokens mint <name>`",
    );
  }
  ctx.engine.verifyApiToken(token);
  const org = req.params.org;
  if (org !== undefined && org !== ctx.org) {
    throw new HttpError(404, "NOT_FOUND", `organization "${org}" not found; this server serves "${ctx.org}"`);
  }
}

function notFound(method: string, path: string): HttpError {
  const hint = /^\/db\/[^/]+\/?$/.test(path)
    ? `; a database URL needs a trailing slash for clients to build on: http://<host>:<port>${path.replace(/\/?$/, "/")}`
    : "";
  return new HttpError(404, "NOT_FOUND", `no route for ${method} ${path}${hint}`);
}

function outgoing(reply: Reply, req: Request | undefined): Outgoing {
  let body = "";
  const headers: Record<string, string | number> = {};
  if (reply.json !== undefined || reply.rawJson !== undefined) {
    body = reply.rawJson ?? JSON.stringify(reply.json);
    // Exactly this: hrana-client only reads a JSON error body when the content type is "application/json".
    headers["content-type"] = "application/json";
  } else if (reply.text !== undefined) {
    body = reply.text;
    headers["content-type"] = "text/plain; charset=utf-8";
  }
  headers["content-length"] = Buffer.byteLength(body);
  return {
    status: reply.status ?? 200,
    headers: reply.headers ? { ...headers, ...reply.headers } : headers,
    body,
    database: req?.database ?? req?.params.db ?? "-",
  };
}
