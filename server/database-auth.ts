import { decodeJwt } from "jose";
import { type Engine, type Principal, TenantDbError } from "../engine/index.js";
import { decodeTokenUnverified } from "../engine/tokens/jwt.js";
import type { Request } from "./http.js";
import { HttpError } from "./http-errors.js";

/**
 * Who is asking, and about which database, on the data plane (Hrana and the jobs API). The database is
 * the one in the path (`/db/<name>/…`) or, without one, the single database the token names; either way
 * the engine verifies the token against that database's group.
 */
export interface DatabaseCaller {
  database: string;
  principal: Principal;
  jwt: string;
}

export async function authenticateDatabase(
  engine: Engine,
  req: Request,
  pathDatabase: string | undefined,
): Promise<DatabaseCaller> {
  const jwt = req.bearer();
  if (jwt === undefined) {
    throw new HttpError(
      401,
      "AUTH_HEADER_NOT_FOUND",
      "Expected authorization header but none given: send `Authorization: Bearer <database token>` (mint one with `tenantdb db tokens create <db>`)",
    );
  }
  const database = pathDatabase ?? databaseNamedBy(jwt);
  return { database, principal: await engine.authenticate(jwt, database), jwt };
}

/**
 * The one database a token is for, read without verifying it (verification follows, against that
 * database's group): sqld's `p` rights naming a single database, or else the legacy `id` claim. Rights
 * to read or write win over attach-only rights, so a tenant token that may also attach a catalog still
 * names its tenant.
 */
export function databaseNamedBy(jwt: string): string {
  const hints = decodeTokenUnverified(jwt); // refuses what is not a JWT at all, with the engine's wording
  const p = (decodeJwt(jwt) as { p?: unknown }).p;
  let names: Set<string> = new Set();
  if (typeof p === "object" && p !== null) {
    const rights = p as Record<string, { ns?: unknown } | undefined>;
    const namesIn = (keys: string[]) =>
      new Set(
        keys.flatMap((k) => {
          const ns = rights[k]?.ns;
          return Array.isArray(ns) ? ns.filter((n): n is string => typeof n === "string") : [];
        }),
      );
    names = namesIn(["rw", "ro", "ddl"]);
    if (names.size === 0) names = namesIn(["rwa", "roa"]);
  } else if (hints.id !== null) {
    names.add(hints.id);
  }
  const [only, ...others] = names;
  if (only === undefined || others.length > 0) {
    throw new TenantDbError(
      "INVALID_ARGUMENT",
      "this token does not name a single database, so put the database in the URL: http://<host>:<port>/db/<name>/",
    );
  }
  return only;
}
