import { decodeJwt } from "jose";
import { type Engine, type Principal, turnLatch } from "../engine/index.js";
import { databaseNamedBy } from "./database-auth.js";
import { credentialOf } from "./hrana/streams.js";
import { HttpError } from "./http-errors.js";

/**
 * Verified database tokens, remembered so a request costs a map lookup rather than a signature check
 * and catalog reads. Whatever could make an answer stale is a commit to the catalog — a revoked token,
 * rotated keys, a database destroyed or re-created — by this process or any other sharing the data
 * directory, and each such commit moves the catalog's auth generation (engine/catalog.ts, kept by
 * triggers). So the whole cache is dropped when that moves: looked for whenever SQLite's `PRAGMA
 * data_version` says another connection committed (a migration's progress commits many times a second,
 * and must not cost every request a signature check). That look is taken once per turn of the event
 * loop, not per request: the requests of one turn arrived together, and a commit after it is seen by the
 * next turn, within a fraction of a millisecond. Expiry is checked on every hit.
 */

export interface Caller {
  database: string;
  principal: Principal;
  jwt: string;
  /** A hash of the token: how streams and cached sessions recognize it. */
  credential: string;
  isSchema: boolean;
  /** Unix seconds, or null for a token that never expires. */
  expiresAt: number | null;
}

const MAX_ENTRIES = 10_000;

export interface TokenCache {
  /**
   * The caller a token names. With `memo`, what is kept is also remembered for the connection the
   * request came on, under its raw Authorization header (see known).
   */
  authenticate(
    jwt: string | undefined,
    pathDatabase: string | undefined,
    memo?: { connection: object; authorization: string },
  ): Promise<Caller>;
  /**
   * The caller a connection's last request authenticated as, when this request sends the same header for
   * the same database and nothing has changed since: what a client sending request after request on one
   * connection costs — a string comparison, not a token's parsing and hashing.
   */
  known(
    connection: object | undefined,
    authorization: string | undefined,
    pathDatabase: string | undefined,
  ): Caller | undefined;
}

interface Memo {
  authorization: string;
  pathDatabase: string | undefined;
  caller: Caller;
  generation: number;
}

export function createTokenCache(engine: Engine): TokenCache {
  let seen = engine.catalogVersion();
  let seenAuth = engine.authGeneration();
  const entries = new Map<string, Caller>();
  // Bumped whenever entries are dropped: a connection's memo from before is dead.
  let generation = 0;
  const memos = new WeakMap<object, Memo>();
  const remember = (
    memo: { connection: object; authorization: string },
    pathDatabase: string | undefined,
    caller: Caller,
  ) => memos.set(memo.connection, { authorization: memo.authorization, pathDatabase, caller, generation });

  /** Whether what is remembered still holds; drops it all when a token may have turned stale. */
  const fresh = (): boolean => {
    const now = engine.catalogVersion();
    if (now === seen) return true;
    seen = now;
    const auth = engine.authGeneration();
    if (auth === seenAuth) return true;
    seenAuth = auth;
    entries.clear();
    generation++;
    return false;
  };
  // Before a request is answered the look is taken once per turn (turnLatch); after a verification,
  // which spans turns, it is taken again, in fresh().
  const firstThisTurn = turnLatch();
  const freshThisTurn = () => {
    if (firstThisTurn()) fresh();
  };

  return {
    known(connection, authorization, pathDatabase) {
      if (connection === undefined || authorization === undefined) return undefined;
      freshThisTurn();
      const memo = memos.get(connection);
      if (
        memo?.generation !== generation ||
        memo.authorization !== authorization ||
        memo.pathDatabase !== pathDatabase
      ) {
        return undefined;
      }
      return unexpired(memo.caller) ? memo.caller : undefined;
    },
    async authenticate(jwt, pathDatabase, memo) {
      if (jwt === undefined) {
        throw new HttpError(
          401,
          "AUTH_HEADER_NOT_FOUND",
          "Expected authorization header but none given: send `Authorization: Bearer <database token>` (mint one with `tenantdb db tokens create <db>`)",
        );
      }
      freshThisTurn();
      const key = `${pathDatabase ?? ""}\0${jwt}`;
      const hit = entries.get(key);
      if (hit && unexpired(hit)) {
        if (memo) remember(memo, pathDatabase, hit);
        return hit;
      }
      const database = pathDatabase ?? databaseNamedBy(jwt);
      const principal = await engine.authenticate(jwt, database);
      const exp = decodeJwt(jwt).exp;
      const caller: Caller = {
        database,
        principal,
        jwt,
        credential: credentialOf(jwt),
        isSchema: engine.getDatabase(database).type === "schema",
        expiresAt: typeof exp === "number" ? exp : null,
      };
      // Something committed while we verified: this answer may already be stale, so it is not kept.
      if (fresh()) {
        if (entries.size >= MAX_ENTRIES) {
          entries.clear();
          generation++;
        }
        entries.set(key, caller);
        if (memo) remember(memo, pathDatabase, caller);
      }
      return caller;
    },
  };
}

const unexpired = (caller: Caller) => caller.expiresAt === null || caller.expiresAt > Date.now() / 1000;
