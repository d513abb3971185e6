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
  /** Aborted when the client goes away before its answer is sent. */
  signal: ClientGone;
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

export type Handler = (req: Request) => Promise<Reply> | Reply;

/** Set when the client went away: a flag, not an AbortSignal, which would cost every request an object graph. */
export interface ClientGone {
  readonly aborted: boolean;
}

export function createRequest(
  raw: IncomingMessage,
  url: URL,
  params: Record<string, string>,
  maxBodyBytes: number,
  signal: ClientGone,
): Request {
  let body: Promise<Buffer> | undefined;
  const header = (name: string) => {
    const value = raw.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };
  const request: Request = {
    method: raw.method ?? "GET",
    path: url.pathname,
    query: url.searchParams,
    params,
    signal,
    header,
    bearer() {
      const auth = header("authorization");
      const match = auth?.match(/^Bearer\s+(\S+)\s*$/i);
      return match?.[1];
    },
    body() {
      body ??= readBody(raw, maxBodyBytes);
      return body;
    },
    async json() {
      const bytes = await request.body();
      if (bytes.length === 0) return undefined;
      try {
        return JSON.parse(bytes.toString("utf8"));
      } catch {
        throw badRequest("the request body is not valid JSON", "INVALID_JSON");
      }
    },
  };
  return request;
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
