import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { HttpError } from "../http-errors.js";

/**
 * Hrana streams over HTTP, as the server keeps them: who opened each, on which database, which executor
 * holds its session, and its clocks. A baton is single-use — `<stream id>.<sequence>.<HMAC>` under a key
 * that lives as long as the process — so a replayed or forged one is refused without any lookup.
 *
 * Quotas and lifetimes keep one client from taking what others need: streams at once (in all, per token,
 * per database), an idle expiry (sqld's 10 s), and a longest life for an open transaction (Turso's 5 s),
 * past which it is rolled back — a reader holding a transaction open would otherwise keep writers, and
 * a migration's commit, waiting forever.
 */

export interface StreamLimits {
  /** A stream unused this long is closed and its transaction rolled back (sqld: 10 s). */
  idleMs: number;
  /** An open transaction older than this is rolled back and its stream closed. */
  transactionMs: number;
  /** Streams open at once; past it, new streams are refused with 503 until some close. */
  maxStreams: number;
  /** Streams one token may hold open at once. */
  maxStreamsPerToken: number;
  /** Streams open on one database at once. */
  maxStreamsPerDatabase: number;
}

/** How long sqld remembers an expired stream to say so, rather than "closed". */
const ENDED_MEMORY_MS = 300_000;
const ENDED_MEMORY_MAX = 10_000;

export interface Stream {
  readonly id: number;
  readonly database: string;
  readonly isSchema: boolean;
  /** A hash of the token that opened the stream; later requests must carry the same one. */
  readonly credential: string;
  seq: number;
  closed: boolean;
  /** The executor holding its session, once it has one. */
  executor: number | null;
  /** A pipeline is running on it. */
  busy: boolean;
  /** When its current transaction began (as first seen), or null outside one. */
  transactionSince: number | null;
  idleTimer: NodeJS.Timeout | undefined;
  transactionTimer: NodeJS.Timeout | undefined;
}

interface Ending {
  at: number;
  status: number;
  code: string;
  message: string;
}

const ENDINGS = {
  expired: { status: 400, code: "STREAM_EXPIRED", message: "The stream has expired due to inactivity" },
  transaction: {
    status: 400,
    code: "TRANSACTION_TIMEOUT",
    message:
      "The transaction was open longer than the server allows and was rolled back; keep transactions short",
  },
  lost: {
    status: 400,
    code: "STREAM_CLOSED",
    message:
      "The stream was closed: the server stopped a runaway statement on the process holding it, and its transaction was rolled back",
  },
} as const;

export type EndReason = keyof typeof ENDINGS;

export class Streams {
  readonly #key = randomBytes(32);
  readonly #open = new Map<number, Stream>();
  readonly #ended = new Map<number, Ending>();
  readonly #perToken = new Map<string, number>();
  readonly #perDatabase = new Map<string, number>();
  #nextId = 1;

  constructor(
    private readonly limits: StreamLimits,
    /** Closes a stream's session on its executor (rolling back its transaction). */
    private readonly closeSession: (stream: Stream) => void,
  ) {}

  get size(): number {
    return this.#open.size;
  }

  /** `credential`: the token's hash (credentialOf), which the caller already has. */
  open(database: string, isSchema: boolean, credential: string): Stream {
    if (this.#open.size >= this.limits.maxStreams) {
      throw tooMany(
        503,
        `the server has ${this.limits.maxStreams} streams open, its limit; close finished transactions or retry shortly`,
      );
    }
    if ((this.#perToken.get(credential) ?? 0) >= this.limits.maxStreamsPerToken) {
      throw tooMany(
        429,
        `this token has ${this.limits.maxStreamsPerToken} streams open, the most one token may; close finished ones first`,
      );
    }
    if ((this.#perDatabase.get(database) ?? 0) >= this.limits.maxStreamsPerDatabase) {
      throw tooMany(
        429,
        `database "${database}" has ${this.limits.maxStreamsPerDatabase} streams open, the most one database may; close finished ones first`,
      );
    }
    const stream: Stream = {
      id: this.#nextId++,
      database,
      isSchema,
      credential,
      seq: 0,
      closed: false,
      executor: null,
      busy: true,
      transactionSince: null,
      idleTimer: undefined,
      transactionTimer: undefined,
    };
    this.#open.set(stream.id, stream);
    bump(this.#perToken, credential, 1);
    bump(this.#perDatabase, database, 1);
    return stream;
  }

  /**
   * Takes the stream a baton names, consuming the baton. Refusals are 400s, as in sqld, with a code that
   * says which: a baton that is not ours, one already used, or one whose stream closed or expired.
   */
  take(baton: string, database: string, credential: string): Stream {
    const { id, seq } = this.#verify(baton);
    const stream = this.#open.get(id);
    if (!stream) {
      const ending = this.#ended.get(id);
      if (ending) throw new HttpError(ending.status, ending.code, ending.message);
      throw new HttpError(400, "STREAM_CLOSED", "Stream for this baton was closed");
    }
    if (stream.seq !== seq || stream.busy) {
      throw new HttpError(400, "BATON_REUSED", "Received a baton that has already been used");
    }
    if (stream.database !== database || stream.credential !== credential) {
      throw new HttpError(
        400,
        "BATON_INVALID",
        "Received a baton for a stream opened on another database or with another token",
      );
    }
    stream.seq++;
    stream.busy = true;
    clearTimeout(stream.idleTimer);
    stream.idleTimer = undefined;
    return stream;
  }

  /**
   * After a pipeline: the stream's next baton, or null once it is closed. Starts its idle clock, and its
   * transaction's clock when one has begun.
   */
  handBack(stream: Stream, state: { closed: boolean; inTransaction: boolean }): string | null {
    stream.busy = false;
    if (state.closed) this.#forget(stream);
    if (stream.closed) return null;
    if (!state.inTransaction) {
      stream.transactionSince = null;
      clearTimeout(stream.transactionTimer);
      stream.transactionTimer = undefined;
    } else if (stream.transactionSince === null) {
      stream.transactionSince = Date.now();
      stream.transactionTimer = setTimeout(() => this.#expireTransaction(stream), this.limits.transactionMs);
      stream.transactionTimer.unref();
    }
    stream.idleTimer = setTimeout(() => this.end(stream, "expired"), this.limits.idleMs);
    stream.idleTimer.unref();
    return this.#sign(stream.id, stream.seq);
  }

  /** Closes the stream's session (rolling back an open transaction) and forgets it. */
  close(stream: Stream): void {
    if (stream.closed) return;
    this.#forget(stream);
    this.closeSession(stream);
  }

  /** Ends a stream for a reason its next request will be told. */
  end(stream: Stream, reason: EndReason): void {
    if (stream.closed) return;
    this.close(stream);
    this.#remember(stream.id, reason);
  }

  /** Streams whose executor was killed: their sessions are already gone. */
  lose(ids: number[]): void {
    for (const id of ids) {
      const stream = this.#open.get(id);
      if (!stream) continue;
      this.#forget(stream);
      this.#remember(id, "lost");
    }
  }

  /** Closes the streams no request is using right now (they are waiting for their next baton). */
  closeIdle(): void {
    for (const stream of [...this.#open.values()]) if (!stream.busy) this.close(stream);
  }

  closeAll(): void {
    for (const stream of [...this.#open.values()]) this.close(stream);
  }

  /**
   * Rolled back at once, even while a request of the stream waits or runs: its executor closes the
   * session between pipelines (a migration's commit may be what is waiting for this very reader).
   */
  #expireTransaction(stream: Stream): void {
    this.end(stream, "transaction");
  }

  /** Why a stream ended, if the server ended it: what its request in flight is answered. */
  endingOf(stream: Stream): HttpError | null {
    const ending = this.#ended.get(stream.id);
    return ending ? new HttpError(ending.status, ending.code, ending.message) : null;
  }

  #forget(stream: Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    clearTimeout(stream.idleTimer);
    clearTimeout(stream.transactionTimer);
    this.#open.delete(stream.id);
    bump(this.#perToken, stream.credential, -1);
    bump(this.#perDatabase, stream.database, -1);
  }

  #remember(id: number, reason: EndReason): void {
    const now = Date.now();
    this.#ended.set(id, { at: now, ...ENDINGS[reason] });
    // Oldest first: Map keeps insertion order.
    for (const [old, ending] of this.#ended) {
      if (now - ending.at < ENDED_MEMORY_MS && this.#ended.size <= ENDED_MEMORY_MAX) break;
      this.#ended.delete(old);
    }
  }

  #sign(id: number, seq: number): string {
    return `${id}.${seq}.${this.#mac(id, seq).toString("base64url")}`;
  }

  #verify(baton: string): { id: number; seq: number } {
    const match = /^(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(baton);
    if (match) {
      const id = Number(match[1]);
      const seq = Number(match[2]);
      const given = Buffer.from(match[3] as string, "base64url");
      const expected = this.#mac(id, seq);
      if (given.length === expected.length && timingSafeEqual(given, expected)) return { id, seq };
    }
    throw new HttpError(400, "BATON_INVALID", "Received an invalid baton");
  }

  #mac(id: number, seq: number): Buffer {
    return createHmac("sha256", this.#key).update(`${id}.${seq}`).digest();
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

function tooMany(status: number, message: string): HttpError {
  return new HttpError(status, "TOO_MANY_STREAMS", message, { "retry-after": "1" });
}

export function credentialOf(jwt: string): string {
  return createHash("sha256").update(jwt).digest("base64url");
}
