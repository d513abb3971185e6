import type { IncomingMessage } from "node:http";
import { badRequest, HttpError } from "./http-errors.js";

/**
 * What a handler sees of a request, and what it returns. Handlers never touch the Node response: they
 * return a Reply or throw, and app.ts writes the outcome, so every error takes the same path out.
 */

export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Path parameters, already percent-decoded. */
  params: Record<string, string>;
  header(name: string): string | undefined;
  /** The `Authorization: Bearer` credential, if any. */
  bearer(): string | undefined;
  /** The body, at most the server's limit (413 beyond it). */
  body(): Promise<Buffer>;
  /** The body as JSON; `undefined` when the body is empty. 400 when it is not JSON. */
  json(): Promise<unknown>;
  /** The same at once, when the body has all arrived already; undefined when it has not. */
  jsonNow(): { value: unknown } | undefined;
  /** The body's bytes at once, when it has all arrived already; undefined when it has not. */
  bytesNow(): Buffer | undefined;
  /** Aborted when the client goes away before its answer is sent. */
  signal: ClientGone;
  /** The connection it came on: what per-connection memos key on. */
  connection: object | undefined;
  /** The database the request turned out to be about, for the request log. */
  database?: string;
}

export interface Reply {
  status?: number;
  /** Serialized as `application/json`. */
  json?: unknown;
  /** Already JSON, sent as `application/json`: what was encoded elsewhere is not encoded again. */
  rawJson?: string;
  /** Sent as `text/plain`. */
  text?: string;
  headers?: Record<string, string>;
}

/** Set when the client went away: a flag, not an AbortSignal, which would cost every request an object graph. */
export interface ClientGone {
  readonly aborted: boolean;
}

/**
 * A request as it came off the wire, whichever front read it (node:http, or the lean one in http1.ts):
 * what the app needs to answer it.
 */
export interface Incoming {
  method: string;
  /** The request target as sent: path and query. */
  target: string;
  header(name: string): string | undefined;
  /** The body, at most the server's limit (413 beyond it). */
  body(): Promise<Buffer>;
  /** The body at once, when it has all arrived already (the lean front reads whole requests). */
  read?(): Buffer;
  gone: ClientGone;
  /** The connection it came on (any object standing for it), if the front knows it. */
  connection?: object;
}

/** What the app answers, ready for the wire. */
export interface Outgoing {
  status: number;
  headers: Record<string, string | number>;
  body: string;
  /** The database the request turned out to be about, for the request log. */
  database: string;
}

/** What the app reads of a request target: the part of a URL it routes by, and the query. */
export type Target = Pick<URL, "pathname" | "searchParams">;

/**
 * Segments of letters, digits and `_ ~ - .` (none a dot segment), and no query: a target that is its own
 * pathname, exactly as URL would make it. What clients send almost always, read without URL's cost
 * (a couple of microseconds, a tenth of a small read's).
 */
const PLAIN_PATH = /^(?:\/[\w~-][\w.~-]*)+$/;

export function readTarget(target: string): Target {
  if (PLAIN_PATH.test(target)) return { pathname: target, searchParams: new URLSearchParams() };
  return new URL(target, "http://localhost");
}

export function createRequest(incoming: Incoming, url: Target, params: Record<string, string>): Request {
  const request: Request = {
    method: incoming.method,
    path: url.pathname,
    query: url.searchParams,
    params,
    signal: incoming.gone,
    connection: incoming.connection,
    header: incoming.header,
    bearer() {
      const auth = incoming.header("authorization");
      const match = auth?.match(/^Bearer\s+(\S+)\s*$/i);
      return match?.[1];
    },
    body: () => incoming.body(),
    async json() {
      return parseJson(incoming.read?.() ?? (await incoming.body()));
    },
    jsonNow() {
      const bytes = incoming.read?.();
      return bytes === undefined ? undefined : { value: parseJson(bytes) };
    },
    bytesNow: () => incoming.read?.(),
  };
  return request;
}

function parseJson(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw badRequest("the request body is not valid JSON", "INVALID_JSON");
  }
}

/** A node:http request as the app takes it. */
export function fromNode(raw: IncomingMessage, maxBodyBytes: number, gone: ClientGone): Incoming {
  let body: Promise<Buffer> | undefined;
  return {
    method: raw.method ?? "GET",
    target: raw.url ?? "/",
    header(name) {
      const value = raw.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
    body() {
      body ??= readBody(raw, maxBodyBytes);
      return body;
    },
    gone,
    connection: raw.socket,
  };
}

export function tooLarge(maxBodyBytes: number): HttpError {
  return new HttpError(
    413,
    "PAYLOAD_TOO_LARGE",
    `the request body is larger than ${maxBodyBytes} bytes; send less per request`,
    { connection: "close" },
  );
}

/**
 * Reads a body up to `max` bytes. Past the limit the rest is drained and discarded rather than the socket
 * cut, so the client still reads our 413 instead of a connection reset.
 */
function readBody(raw: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(raw.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) {
    raw.resume();
    return Promise.reject(tooLarge(max));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    raw.on("data", (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        reject(tooLarge(max));
        return;
      }
      chunks.push(chunk);
    });
    raw.on("end", () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    raw.on("error", reject);
    raw.on("close", () => {
      if (!raw.complete && !over) reject(badRequest("the request body was cut off", "BODY_INCOMPLETE"));
    });
  });
}

/** Reads an object body: `{}` when empty (clients such as @tursodatabase/api post without one). */
export async function jsonObject(req: Request): Promise<Record<string, unknown>> {
  const value = await req.json();
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest("the request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
