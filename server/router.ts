import { badRequest } from "./http-errors.js";

/**
 * A small router: exact segments and `:name` parameters, nothing more. The server has a few dozen routes,
 * so matching tries, in order, each with as many segments as the path; a path that matches under another
 * method is a 405, not a 404.
 */

export type Match<T> =
  | { kind: "found"; value: T; params: Record<string, string> }
  | { kind: "method-not-allowed"; allow: string[] }
  | { kind: "not-found" };

interface Entry<T> {
  method: string;
  segments: string[];
  value: T;
}

export class Router<T> {
  /** By segment count: a data-plane request never walks past the Platform API's routes. */
  readonly #entries = new Map<number, Entry<T>[]>();
  /** Paths found before, by method and path: a client sends the same few paths again and again. */
  readonly #found = new Map<string, Match<T>>();

  add(method: string, pattern: string, value: T): this {
    const segments = split(pattern);
    let same = this.#entries.get(segments.length);
    if (!same) {
      same = [];
      this.#entries.set(segments.length, same);
    }
    same.push({ method, segments, value });
    return this;
  }

  match(method: string, path: string): Match<T> {
    const key = `${method} ${path}`;
    const known = this.#found.get(key);
    if (known) return known;
    const match = this.#match(method, path);
    if (match.kind === "found") {
      if (this.#found.size >= MAX_FOUND) this.#found.clear();
      Object.freeze(match.params);
      this.#found.set(key, match);
    }
    return match;
  }

  #match(method: string, path: string): Match<T> {
    const segments = split(path).map(decode);
    const allow = new Set<string>();
    for (const entry of this.#entries.get(segments.length) ?? []) {
      const params = matchSegments(entry.segments, segments);
      if (!params) continue;
      if (entry.method === method || (method === "HEAD" && entry.method === "GET")) {
        return { kind: "found", value: entry.value, params };
      }
      allow.add(entry.method);
    }
    return allow.size > 0 ? { kind: "method-not-allowed", allow: [...allow] } : { kind: "not-found" };
  }
}

/** Paths remembered: a server's clients use a few per database they reach. */
const MAX_FOUND = 4096;

function split(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`the path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}

function matchSegments(pattern: string[], path: string[]): Record<string, string> | null {
  if (pattern.length !== path.length) return null;
  const params: Record<string, string> = {};
  for (const [i, p] of pattern.entries()) {
    const actual = path[i] as string;
    if (p.startsWith(":")) params[p.slice(1)] = actual;
    else if (p !== actual) return null;
  }
  return params;
}
