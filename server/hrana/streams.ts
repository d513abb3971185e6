import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Session } from "../../engine/index.js";
import { HttpError } from "../http-errors.js";
import { Gates } from "./gates.js";

/**
 * Hrana streams over HTTP: each stream is an open engine Session, found again through a baton. A baton is
 * single-use — `<stream id>.<sequence>.<HMAC>` under a key that lives as long as the process — so a
 * replayed or forged one is refused without any lookup. Idle streams expire: their session is closed,
 * which rolls back whatever transaction it had open.
 */

export interface StreamLimits {
  /** A stream unused this long is closed and its transaction rolled back (sqld: 10 s). */
  idleMs: number;
  /** Streams open at once; past it, new streams are refused with 503 until some close. */
  maxStreams: number;
}

/** How long sqld remembers an expired stream to say so, rather than "closed". */
const EXPIRED_MEMORY_MS = 300_000;
const EXPIRED_MEMORY_MAX = 10_000;

export class Stream {
  /** SQL stored with `store_sql`, by id. */
  readonly sqls = new Map<number, string>();
  seq = 0;
  closed = false;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly database: string,
    /** A schema database: its changes run as migration jobs. */
    readonly isSchema: boolean,
    /** A hash of the token that opened the stream; later requests must carry the same one. */
    readonly credential: string,
    readonly session: Session,
    private readonly gates: Gates,
  ) {}

  /** Runs a statement on this stream's session, in turn with other streams on the same database. */
  run<T>(statement: (session: Session) => Promise<T>): Promise<T> {
    return this.gates.run(
      this.database,
      this,
      () => statement(this.session),
      () => this.session.inTransaction,
    );
  }
}

export class Streams {
  readonly #key = randomBytes(32);
  readonly #open = new Map<number, Stream>();
  readonly #expired = new Map<number, number>();
  readonly #gates: Gates;
  #nextId = 1;

  constructor(private readonly limits: StreamLimits) {
    // A statement waits for another stream's transaction at most as long as that stream may sit idle.
    this.#gates = new Gates(limits.idleMs + 5_000);
  }

  get size(): number {
    return this.#open.size;
  }

  /** Opens a stream over a session the caller opened; `openSession` runs only if there is room. */
  open(database: string, isSchema: boolean, jwt: string, openSession: () => Session): Stream {
    if (this.#open.size >= this.limits.maxStreams) {
      throw new HttpError(
        503,
        "TOO_MANY_STREAMS",
        `the server has ${this.limits.maxStreams} streams open, its limit; close finished transactions or retry shortly`,
        { "retry-after": "1" },
      );
    }
    const stream = new Stream(
      this.#nextId++,
      database,
      isSchema,
      credentialOf(jwt),
      openSession(),
      this.#gates,
    );
    this.#open.set(stream.id, stream);
    return stream;
  }

  /**
   * Takes the stream a baton names, consuming the baton. Refusals are 400s, as in sqld, with a code that
   * says which: a baton that is not ours, one already used, or one whose stream closed or expired.
   */
  take(baton: string, database: string, jwt: string): Stream {
    const { id, seq } = this.#verify(baton);
    const stream = this.#open.get(id);
    if (!stream) {
      if (this.#expired.has(id)) {
        throw new HttpError(400, "STREAM_EXPIRED", "The stream has expired due to inactivity");
      }
      throw new HttpError(400, "STREAM_CLOSED", "Stream for this baton was closed");
    }
    if (stream.seq !== seq) {
      throw new HttpError(400, "BATON_REUSED", "Received a baton that has already been used");
    }
    if (stream.database !== database || stream.credential !== credentialOf(jwt)) {
      throw new HttpError(
        400,
        "BATON_INVALID",
        "Received a baton for a stream opened on another database or with another token",
      );
    }
    stream.seq++;
    clearTimeout(stream.timer);
    stream.timer = undefined;
    return stream;
  }

  /** After a pipeline: the stream's next baton, or null once it is closed. Starts its idle clock. */
  handBack(stream: Stream): string | null {
    if (stream.closed) return null;
    stream.timer = setTimeout(() => this.close(stream, true), this.limits.idleMs);
    stream.timer.unref();
    return this.#sign(stream.id, stream.seq);
  }

  /** Closes the stream's session (rolling back an open transaction) and forgets it. */
  close(stream: Stream, expired = false): void {
    if (stream.closed) return;
    stream.closed = true;
    clearTimeout(stream.timer);
    this.#open.delete(stream.id);
    try {
      stream.session.close();
    } finally {
      this.#gates.release(stream.database, stream);
      if (expired) this.#rememberExpired(stream.id);
    }
  }

  /** Closes the streams no request is using right now (they are waiting for their next baton). */
  closeIdle(): void {
    for (const stream of [...this.#open.values()]) if (stream.timer !== undefined) this.close(stream);
  }

  closeAll(): void {
    for (const stream of [...this.#open.values()]) this.close(stream);
  }

  #rememberExpired(id: number): void {
    const now = Date.now();
    this.#expired.set(id, now);
    // Oldest first: Map keeps insertion order.
    for (const [old, at] of this.#expired) {
      if (now - at < EXPIRED_MEMORY_MS && this.#expired.size <= EXPIRED_MEMORY_MAX) break;
      this.#expired.delete(old);
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

function credentialOf(jwt: string): string {
  return createHash("sha256").update(jwt).digest("base64url");
}
