import { describe, expect, it } from "vitest";
import { createHeadMemo, headerOf, readHead } from "../../server/request-head.js";
import { pick as pickFrom, rngFor } from "../helpers.js";

/**
 * A connection's memory of its heads (server/request-head.ts) must read every head exactly as reading it
 * afresh would: over generated sequences of heads that repeat, differ only in Content-Length's digits, or
 * differ by one byte anywhere — in the digits, around them, in the token — the memo and readHead agree.
 */

const base = (length: string, extra = "") =>
  `POST /db/target/v2/pipeline HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer abc.def.ghi\r\nContent-Type: application/json\r\nContent-Length: ${length}${extra}\r\n\r\n`;

/** The head's bytes as they arrive, with a body behind them, and where the head ends. */
function arriving(head: string, body = '{"requests":[]}'): { bytes: Buffer; end: number } {
  const text = `${head}${body}`;
  return { bytes: Buffer.from(text, "latin1"), end: head.length - 4 };
}

/** What the front does with arriving bytes: recall the head, or find its end and read it. */
function frontReads(memo: ReturnType<typeof createHeadMemo>, bytes: Buffer) {
  const recalled = memo.recall(bytes);
  if (recalled) return recalled;
  const end = bytes.indexOf("\r\n\r\n");
  return end < 0 ? { head: undefined, end } : { head: memo.read(bytes, end), end };
}

const asRead = (head: string) => readHead(head.slice(0, -4));

describe("request heads", () => {
  it("reads Content-Length into length and answers it by name, with other headers in any case", () => {
    const head = asRead(base("42")) as NonNullable<ReturnType<typeof readHead>>;
    expect(head.length).toBe(42);
    expect(headerOf(head, "content-length")).toBe("42");
    expect(headerOf(head, "AUTHORIZATION")).toBe("Bearer abc.def.ghi");
    const without = asRead("GET /health HTTP/1.1\r\nHost: x\r\n\r\n") as NonNullable<
      ReturnType<typeof readHead>
    >;
    expect(without.length).toBe(0);
    expect(headerOf(without, "content-length")).toBeUndefined();
  });

  it("recalls a head only when reading it afresh gives the same, over generated sequences", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = rngFor(seed);
      const pick = <T>(xs: readonly T[]): T => pickFrom(random, xs);
      const digits = () => String(Math.floor(random() ** 3 * 10 ** (1 + Math.floor(random() * 10))));
      const heads: (() => string)[] = [
        () => base(digits()),
        () => base(pick(["0", "007", "12345678901", "", "1 2", "-1", "+5", "1e3", "99999999999"])),
        () => base(digits(), pick([" ", "\t", "  ", "x", "0", "\r\nX-Extra: 1", "\r\nContent-Length: 3"])),
        () => base(digits()).replace("Bearer abc", pick(["Bearer abd", "Bearer  abc", "bearer abc"])),
        () =>
          base(digits()).replace(
            "Content-Length",
            pick(["content-length", "CONTENT-LENGTH", "Content-Lengt"]),
          ),
        () =>
          base(digits()).replace(
            "Content-Length: ",
            pick(["Content-Length:", "Content-Length:\t", "Content-Length : "]),
          ),
        () => base(digits()).replace("/v2/", pick(["/v3/", "/v2//", "/v2 /"])),
        () => `GET /db/target/v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer abc.def.ghi\r\n\r\n`,
        () => {
          // One byte of a remembered kind of head changed anywhere.
          const head = base(digits());
          const at = Math.floor(random() * (head.length - 4));
          return head.slice(0, at) + pick(["0", "9", " ", ":", "\x01", "é", "\n"]) + head.slice(at + 1);
        },
      ];
      const memo = createHeadMemo();
      for (let i = 0; i < 300; i++) {
        const head = pick(heads)();
        // Whole, cut short (the rest not here yet), or with a body that has a blank line of its own.
        const cut = random() < 0.2 ? Math.floor(random() * head.length) : head.length;
        const { bytes } = arriving(
          head.slice(0, cut),
          cut < head.length ? "" : pick(["{}", "\r\n\r\nX", ""]),
        );
        const end = bytes.indexOf("\r\n\r\n");
        const expected = end < 0 ? undefined : readHead(bytes.toString("latin1", 0, end));
        const got = frontReads(memo, bytes);
        const what = `seed ${seed} #${i}: ${JSON.stringify(bytes.toString("latin1"))}`;
        expect(got.end, what).toBe(end);
        expect(got.head, what).toEqual(expected);
      }
    }
  });

  it("recalls a head that differs only in Content-Length's digits, without reading it again", () => {
    const memo = createHeadMemo();
    const first = memo.read(arriving(base("17")).bytes, arriving(base("17")).end);
    const again = arriving(base("2048"));
    const recalled = memo.recall(again.bytes);
    expect(recalled?.end).toBe(again.end);
    const second = recalled?.head;
    expect(second?.length).toBe(2048);
    // The same headers, read once: what the memo saves.
    expect(second?.headers).toBe(first?.headers);
  });
});
