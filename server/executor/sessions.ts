import type { Session } from "../../engine/index.js";

/**
 * Idle sessions of finished autocommit requests, by database and token, least recently used first out.
 * Opening a session costs more than a simple query, so a client sending one statement per request
 * (`@libsql/client`'s `execute()`) reuses one. Only sessions left as they were opened come back here: no
 * transaction, nothing attached, no pragma or temporary object of the last caller's.
 */
export class SessionCache {
  readonly #idle = new Map<string, Session>();

  constructor(private readonly capacity: number) {}

  take(key: string): Session | undefined {
    const session = this.#idle.get(key);
    if (session) this.#idle.delete(key);
    return session;
  }

  give(key: string, session: Session): void {
    if (this.capacity <= 0 || this.#idle.has(key)) {
      session.close();
      return;
    }
    this.#idle.set(key, session);
    for (const [oldKey, old] of this.#idle) {
      if (this.#idle.size <= this.capacity) break;
      this.#idle.delete(oldKey);
      old.close();
    }
  }

  closeAll(): void {
    for (const session of this.#idle.values()) session.close();
    this.#idle.clear();
  }
}

/** Whether a pipeline's SQL may leave state on its connection that a later request must not inherit. */
export function mayLeaveState(sql: string): boolean {
  return /attach|pragma|temp/i.test(sql);
}
