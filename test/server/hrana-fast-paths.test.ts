import { describe, expect, it } from "vitest";
import type { QueryResult } from "../../engine/index.js";
import { readPipelineRequest, readPlainExecute } from "../../server/hrana/protocol.js";
import { encodeResult, encodeResultJson } from "../../server/hrana/values.js";
import { readTarget } from "../../server/http.js";
import { pick as pickFrom, rngFor } from "../helpers.js";

/**
 * The shortcuts a read answered on the server's thread takes must agree with the full path exactly: a
 * plain `execute` read as readPipelineRequest reads it (or left to it), and a result written byte for
 * byte as JSON.stringify writes it.
 */

function generator(seed: number) {
  const random = rngFor(seed);
  return { random, pick: <T>(xs: readonly T[]): T => pickFrom(random, xs) };
}

describe("readPlainExecute", () => {
  it("reads what readPipelineRequest reads the same, and leaves it anything it would read otherwise", () => {
    const { random, pick } = generator(777);
    const values: unknown[] = [
      { type: "integer", value: "5" },
      { type: "integer", value: "-9223372036854775808" },
      { type: "integer", value: "9223372036854775808" },
      { type: "integer", value: 7 },
      { type: "float", value: 1.5 },
      { type: "float", value: "2.5" },
      { type: "text", value: "x" },
      { type: "text", value: 1 },
      { type: "blob", base64: "AAEC" },
      { type: "blob", base64: "!!" },
      { type: "null" },
      { type: "nope" },
      null,
      "5",
    ];
    const stmts: unknown[] = [
      undefined,
      null,
      [],
      { sql: "SELECT 1" },
      { sql: 1 },
      { sql_id: 3 },
      { sql: "SELECT ?", sql_id: 3 },
      { sql: "SELECT ?", sql_id: null },
    ];
    let plain = 0;
    for (let i = 0; i < 400; i++) {
      const base = pick(stmts);
      const stmt =
        typeof base === "object" && base !== null && !Array.isArray(base)
          ? {
              ...base,
              ...(random() < 0.7 && {
                args:
                  random() < 0.1
                    ? "no"
                    : Array.from({ length: Math.floor(random() * 3) }, () => pick(values)),
              }),
              ...(random() < 0.2 && {
                named_args: random() < 0.5 ? [] : [{ name: ":a", value: pick(values) }],
              }),
              ...(random() < 0.3 && { want_rows: pick([true, false, "yes", null]) }),
              ...(random() < 0.1 && { extra: 1 }),
            }
          : base;
      const request =
        random() < 0.9 ? { type: "execute", stmt } : { type: pick(["close", "batch", "execute "]), stmt };
      let full: unknown;
      try {
        full = (readPipelineRequest({ requests: [request] }).requests[0] as { stmt?: unknown }).stmt;
      } catch {
        full = "refused";
      }
      const quick = readPlainExecute(request);
      if (quick === undefined) continue;
      plain++;
      expect(quick, JSON.stringify(request)).toEqual(full);
    }
    expect(plain).toBeGreaterThan(30);
  });
});

describe("encodeResultJson", () => {
  it("writes the same bytes as JSON.stringify(encodeResult()) over generated results", () => {
    const { random, pick } = generator(424242);
    const strings = [
      "",
      "plain",
      'quote " and \\ backslash',
      "tab\tnew\nline\u0000nul",
      "é ü 漢字 😀",
      "\u2028\u2029",
      "</script>",
    ];
    const value = (): QueryResult["rows"][number][number] => {
      switch (Math.floor(random() * 5)) {
        case 0:
          return null;
        case 1:
          return pick([
            0n,
            -1n,
            9007199254740993n,
            -(2n ** 63n),
            2n ** 63n - 1n,
            BigInt(Math.floor(random() * 1e9)),
          ]);
        case 2:
          return pick([0, -0, 1.5, -2.25e-300, 1e300, Number.POSITIVE_INFINITY, random()]);
        case 3:
          return pick(strings) + (random() < 0.5 ? pick(strings) : "");
        default:
          return new Uint8Array(
            Array.from({ length: Math.floor(random() * 9) }, () => Math.floor(random() * 256)),
          );
      }
    };
    for (let i = 0; i < 300; i++) {
      const width = Math.floor(random() * 4);
      const result: QueryResult = {
        columns: Array.from({ length: width }, (_, c) => pick(["id", "v", 'we"ird', "é"]) + c),
        columnTypes: Array.from({ length: width }, () => pick(["INTEGER", "TEXT", null, "BLOB"])),
        rows: Array.from({ length: Math.floor(random() * 4) }, () => Array.from({ length: width }, value)),
        rowsAffected: Math.floor(random() * 3),
        lastInsertRowid: random() < 0.5 ? null : BigInt(Math.floor(random() * 1e6)),
      };
      const wantRows = random() < 0.8;
      const ms = pick([
        random() * 10,
        random(),
        0,
        -0,
        0.0005,
        0.0004999,
        1.5,
        0.05,
        0.1,
        123.456,
        1e9 + 0.5,
        Number.NaN,
      ]);
      expect(encodeResultJson(result, wantRows, ms)).toBe(JSON.stringify(encodeResult(result, wantRows, ms)));
    }
  });
});

describe("readTarget", () => {
  it("reads every request target's path and query as URL reads them", () => {
    const { random, pick } = generator(4242);
    const pieces = [
      "/",
      "/",
      "db",
      "v2",
      "pipeline",
      ".",
      "..",
      "a.b",
      "_",
      "~",
      "-",
      "%2e",
      "%2F",
      "é",
      "?",
      "x=1",
      "&",
      "#",
      "\\",
      ";",
      " ",
    ];
    const targets = [
      "/db/bench/v2/pipeline",
      "/v1/jobs/3",
      "/./v2",
      "/db/../v2",
      "/a//b",
      "/.hidden",
      "/v2?x=1",
    ];
    for (let i = 0; i < 2000; i++) {
      targets.push(`/${Array.from({ length: 1 + Math.floor(random() * 8) }, () => pick(pieces)).join("")}`);
    }
    const outcome = (read: () => Pick<URL, "pathname" | "searchParams">) => {
      try {
        const { pathname, searchParams } = read();
        return { path: pathname, query: searchParams.toString() };
      } catch (e) {
        return { error: (e as Error).name };
      }
    };
    for (const target of targets) {
      expect({ target, ...outcome(() => readTarget(target)) }).toEqual({
        target,
        ...outcome(() => new URL(target, "http://localhost")),
      });
    }
  });
});
