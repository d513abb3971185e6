import type { Engine } from "../engine/index.js";
import type { ExecutorPool } from "./executor/pool.js";
import type { Streams } from "./hrana/streams.js";
import type { Reply, Request } from "./http.js";
import type { InlineReads } from "./inline-reads.js";
import type { TokenCache } from "./token-cache.js";

/** What every handler works against: the engine, the server's settings and its open Hrana streams. */
export interface ServerContext {
  engine: Engine;
  /** The one organization this server answers for (`--org`). */
  org: string;
  /** `host:port` as clients reach this server, for the `Hostname` of databases. */
  address(): string;
  streams: Streams;
  /** The processes that run every statement but the bounded reads of inline-reads.ts. */
  executors: ExecutorPool;
  /** Bounded reads answered on the server's own thread (inline-reads.ts). */
  inline: InlineReads;
  /** Verified database tokens. */
  callers: TokenCache;
  limits: {
    /** How long an autocommit request may keep retrying on another connection's lock. */
    lockWaitMs: number;
    /** How long a write may keep retrying on a migration's fence (see fence-wait.ts). */
    fenceWaitMs: number;
  };
  /** One line per request to the request log (stderr). */
  logRequest(line: string): void;
  /** Records an error that is the server's fault (never sent to the client as is). */
  logError(e: unknown): void;
}

export type Handler = (ctx: ServerContext, req: Request) => Promise<Reply> | Reply;
