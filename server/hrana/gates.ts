import { HttpError } from "../http-errors.js";

/**
 * One stream at a time per database while a transaction is open on it.
 *
 * better-sqlite3 is synchronous: a statement that meets another connection's lock waits inside SQLite
 * (busy_timeout), and that wait blocks the whole event loop — including the stream holding the lock, which
 * can then never commit. So the server never lets a statement meet a lock held by another of its own
 * streams: a stream whose session is inside a transaction holds its database's gate until the transaction
 * ends (commit, rollback, close or expiry), and other streams wait here, asynchronously, for their turn.
 */
export class Gates {
  readonly #holders = new Map<string, { owner: object; waiters: Set<() => void> }>();

  constructor(private readonly timeoutMs: number) {}

  /**
   * Runs `statement` for `owner` once no other owner holds `database`'s gate. The last check and the call
   * happen in one synchronous stretch, and `statement` must start its SQL synchronously (the engine's
   * session does), so nothing can slip in between.
   */
  async run<T>(
    database: string,
    owner: object,
    statement: () => Promise<T>,
    inTransaction: () => boolean,
  ): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const gate = this.#holders.get(database);
      if (!gate || gate.owner === owner) break;
      if (Date.now() >= deadline) throw busy(database);
      await waitTurn(gate.waiters, deadline);
    }
    try {
      const pending = statement();
      this.#settle(database, owner, inTransaction());
      return await pending;
    } finally {
      this.#settle(database, owner, inTransaction());
    }
  }

  /** Gives up `owner`'s hold on `database`, after its session was closed. */
  release(database: string, owner: object): void {
    this.#settle(database, owner, false);
  }

  #settle(database: string, owner: object, inTransaction: boolean): void {
    const gate = this.#holders.get(database);
    if (inTransaction) {
      if (!gate) this.#holders.set(database, { owner, waiters: new Set() });
      return;
    }
    if (gate?.owner !== owner) return;
    this.#holders.delete(database);
    for (const wake of [...gate.waiters]) wake();
  }
}

function waitTurn(waiters: Set<() => void>, deadline: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      waiters.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
    timer.unref();
    waiters.add(wake);
  });
}

function busy(database: string): HttpError {
  return new HttpError(
    409,
    "SQLITE_BUSY",
    `database "${database}" is locked by a transaction on another stream; retry once it commits or rolls back`,
  );
}
