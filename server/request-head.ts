/**
 * Request heads for the lean front (http1.ts): which ones it reads itself, and what they say.
 *
 * A client on a keep-alive connection sends the same head again and again — the same path, host and
 * token — with only Content-Length changing with the body. Reading a head with a token in it costs a
 * tenth of a small read's time on the server's thread, so a connection remembers its last few heads by
 * their bytes: a head equal to one of them but for Content-Length's digits is that head, with that
 * length, and is not read again. Equal bytes make an equal reading, so this never answers differently.
 */

export interface Head {
  method: string;
  target: string;
  /** By lower-case name, Content-Length excepted (see `length`). */
  headers: Map<string, string>;
  /** The body's declared length; 0 when none is declared. */
  length: number;
  /** Content-Length was sent. */
  declared: boolean;
  close: boolean;
}

/** A header of a head, by name in any case. */
export function headerOf(head: Head, name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower === "content-length") return head.declared ? String(head.length) : undefined;
  return head.headers.get(lower);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const OUTSIDE_ASCII = /[^\t\r\n\x20-\x7e]/;
const REQUEST_LINE = /^(GET|POST|PUT|PATCH|DELETE|OPTIONS) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
/** Where Content-Length's digits start in a head's text (latin1: a character is a byte). */
const LENGTH_DIGITS = /\r\ncontent-length:[ \t]*(?=\d)/i;

/** The head of a request in the lean subset, or undefined for anything node:http should read. */
export function readHead(text: string): Head | undefined {
  // Control characters other than tab (a lone CR or LF among them) and anything past ASCII: node:http's.
  if (OUTSIDE_ASCII.test(text)) return undefined;
  const lines = text.split("\r\n");
  const line = REQUEST_LINE.exec(lines[0] as string);
  if (!line) return undefined;
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const header = lines[i] as string;
    const colon = header.indexOf(":");
    if (colon <= 0 || header.includes("\r") || header.includes("\n")) return undefined;
    const name = header.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const lower = name.toLowerCase();
    if (headers.has(lower)) return undefined;
    // What is left between the colon and the line's end can only be tabs and printable ASCII.
    headers.set(lower, header.slice(colon + 1).trim());
  }
  if (!headers.has("host") || headers.has("transfer-encoding") || headers.has("expect")) return undefined;
  if (headers.has("upgrade")) return undefined;
  const connection = headers.get("connection")?.toLowerCase();
  if (connection !== undefined && connection !== "keep-alive" && connection !== "close") return undefined;
  const declared = headers.get("content-length");
  if (declared !== undefined && !/^\d{1,10}$/.test(declared)) return undefined;
  headers.delete("content-length");
  return {
    method: line[1] as string,
    target: line[2] as string,
    headers,
    length: declared === undefined ? 0 : Number(declared),
    declared: declared !== undefined,
    close: connection === "close",
  };
}

/** Heads remembered per connection, and the largest remembered: what a connection holds stays small. */
const REMEMBERED = 2;
const MAX_REMEMBERED_BYTES = 2048;

interface Known {
  /** The head's bytes up to Content-Length's digits (all of them when it has none)... */
  before: Buffer;
  /** ...and after them. */
  after: Buffer | undefined;
  head: Head;
}

export interface HeadMemo {
  /**
   * The head at the start of `bytes` when it is one of the connection's last heads but for Content-Length's
   * digits, and where it ends (its blank line next); undefined otherwise. Nothing but digits differs from
   * a head read before, so the blank line found is the first, as a search for it would find.
   */
  recall(bytes: Buffer): { head: Head; end: number } | undefined;
  /** The head in `bytes[0, end)`, read and remembered; undefined for a head node:http should read. */
  read(bytes: Buffer, end: number): Head | undefined;
}

/** A connection's memory of its last heads. */
export function createHeadMemo(): HeadMemo {
  const known: Known[] = [];

  function recall(bytes: Buffer): { head: Head; end: number } | undefined {
    for (const k of known) {
      const before = k.before.length;
      if (bytes.length < before + 4 || bytes.compare(k.before, 0, before, 0, before) !== 0) continue;
      let end = before;
      let head = k.head;
      if (k.after !== undefined) {
        // 1 to 10 digits, as readHead takes them.
        let length = 0;
        while (end < bytes.length && end - before < 11) {
          const digit = (bytes[end] as number) - 0x30;
          if (digit < 0 || digit > 9) break;
          length = length * 10 + digit;
          end++;
        }
        const after = k.after.length;
        if (end === before || end - before > 10 || bytes.length < end + after + 4) continue;
        if (bytes.compare(k.after, 0, after, end, end + after) !== 0) continue;
        end += after;
        if (length !== head.length) head = { ...head, length };
      }
      if (
        bytes[end] === 0x0d &&
        bytes[end + 1] === 0x0a &&
        bytes[end + 2] === 0x0d &&
        bytes[end + 3] === 0x0a
      ) {
        return { head, end };
      }
    }
    return undefined;
  }

  function remember(bytes: Buffer, end: number, text: string, head: Head): void {
    if (end > MAX_REMEMBERED_BYTES) return;
    const digits = head.declared ? LENGTH_DIGITS.exec(text) : null;
    let entry: Known;
    if (digits) {
      const start = digits.index + digits[0].length;
      let stop = start;
      while (stop < end && (bytes[stop] as number) >= 0x30 && (bytes[stop] as number) <= 0x39) stop++;
      entry = {
        before: Buffer.from(bytes.subarray(0, start)),
        after: Buffer.from(bytes.subarray(stop, end)),
        head,
      };
    } else {
      entry = { before: Buffer.from(bytes.subarray(0, end)), after: undefined, head };
    }
    known.unshift(entry);
    if (known.length > REMEMBERED) known.pop();
  }

  return {
    recall,
    read(bytes, end) {
      const text = bytes.toString("latin1", 0, end);
      const head = readHead(text);
      if (head) remember(bytes, end, text, head);
      return head;
    },
  };
}
