import type { Engine } from "../engine/index.js";
import type { Streams } from "./hrana/streams.js";
import type { Reply, Request } from "./http.js";

/** What every handler works against: the engine, the server's settings and its open Hrana streams. */
export interface ServerContext {
  engine: Engine;
  /** The one organization this server answers for (`--org`). */
  org: string;
  /** `host:port` as clients reach this server, for the `Hostname` of databases. */
  address(): string;
  streams: Streams;
  /** Records an error that is the server's fault (never sent to the client as is). */
  logError(e: unknown): void;
}

export type Handler = (ctx: ServerContext, req: Request) => Promise<Reply> | Reply;
