import http from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { readPlainPipeline } from "../../server/hrana/plain-pipeline.js";
import { type PlainExecute, plainExecuteOf } from "../../server/hrana/protocol.js";
import { encodeResult } from "../../server/hrana/values.js";
import { pick as pickFrom, rngFor } from "../helpers.js";

/**
 * The pipeline body read straight from its bytes (server/hrana/plain-pipeline.ts) against the way every
 * other body is read — JSON.parse, then the envelope and plainExecuteOf. Whatever the fast reader
 * accepts, it must read exactly as that would; and it must accept what the real @libsql/client sends.
 */

/** The server's reading of a body for an answer on its own thread: what the fast reader must equal. */
function reference(bytes: Buffer): PlainExecute | undefined {
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const { baton, requests } = body as { baton?: unknown; requests?: unknown };
  if ((baton !== undefined && baton !== null) || !Array.isArray(requests)) return undefined;
  return plainExecuteOf(requests);
}

function agrees(bytes: Buffer, what: string): PlainExecute | undefined {
  const fast = readPlainPipeline(bytes);
  if (fast !== undefined) expect(fast, what).toEqual(reference(bytes));
  return fast;
}

type Value = null | bigint | number | string;

const TEXTS = [
  "",
  "SELECT * FROM t WHERE id = ?",
  'say "hi"',
  "back\\slash",
  "tab\there\nnewline",
  "nul\u0000byte",
  "héllo wörld",
  "日本語",
  "emoji 😀",
  "lone \ud800 surrogate",
  '}},{"type":"close"}]}',
  "\u007f\u0080\u00ff",
];

/** A pipeline body as hrana-client writes one (its key order, no whitespace), in its variants. */
function body(
  sql: string,
  args: Value[],
  opts: { baton: boolean; rest: boolean; wantRows: boolean },
): string {
  const value = (v: Value) => {
    if (v === null) return '{"type":"null"}';
    if (typeof v === "bigint") return `{"type":"integer","value":"${v}"}`;
    if (typeof v === "number") return `{"type":"float","value":${v}}`;
    return `{"type":"text","value":${JSON.stringify(v)}}`;
  };
  const stmt = `{"sql":${JSON.stringify(sql)},"args":[${args.map(value).join(",")}]${opts.rest ? `,"named_args":[],"want_rows":${opts.wantRows}` : ""}}`;
  return `{${opts.baton ? '"baton":null,' : ""}"requests":[{"type":"execute","stmt":${stmt}},{"type":"close"}]}`;
}

describe("plain pipelines read from their bytes", () => {
  it("agrees with the full reading on generated bodies, and on every mutation of them", () => {
    const INTERESTING = [
      0x22, 0x5c, 0x7d, 0x5d, 0x2c, 0x20, 0x30, 0x2d, 0x65, 0x2e, 0x00, 0x80, 0xff, 0xc3, 0x75,
    ];
    let accepted = 0;
    let mutantsAccepted = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const random = rngFor(seed);
      const pick = <T>(xs: readonly T[]): T => pickFrom(random, xs);
      const values: (() => Value)[] = [
        () => null,
        () => BigInt(Math.floor((random() - 0.5) * 2 ** 40)),
        () => pick([2n ** 63n - 1n, -(2n ** 63n), 0n]),
        () => pick([0, -0, 1.5, -2.25e-7, 1e300, 5e-324, 42, 2 ** 53 + 2]),
        () => pick(TEXTS),
      ];
      for (let i = 0; i < 150; i++) {
        const args = Array.from({ length: Math.floor(random() * 4) }, () => pick(values)());
        const opts = { baton: random() < 0.5, rest: random() < 0.5, wantRows: random() < 0.8 };
        const text = body(pick(TEXTS), args, opts);
        const bytes = Buffer.from(text, "utf8");
        const read = agrees(bytes, text);
        expect(read, text).toBeDefined();
        accepted++;
        for (let m = 0; m < 12; m++) {
          const at = Math.floor(random() * bytes.length);
          const kind = random();
          let mutant: Buffer;
          if (kind < 0.5) {
            mutant = Buffer.from(bytes);
            mutant[at] = pick(INTERESTING);
          } else if (kind < 0.7) {
            mutant = Buffer.concat([
              bytes.subarray(0, at),
              Buffer.from([pick(INTERESTING)]),
              bytes.subarray(at),
            ]);
          } else if (kind < 0.9) {
            mutant = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
          } else {
            mutant = bytes.subarray(0, at);
          }
          if (agrees(mutant, JSON.stringify(mutant.toString("latin1"))) !== undefined) mutantsAccepted++;
        }
      }
    }
    expect(accepted).toBe(12 * 150);
    // Some mutants are still plain pipelines (a digit for a digit); each was checked above.
    expect(mutantsAccepted).toBeGreaterThan(0);
  });

  it("agrees on hand-picked edge cases of numbers, integers, strings and shape", () => {
    const cases = [
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"integer","value":"007"}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"integer","value":"-"}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"integer","value":"9223372036854775808"}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"integer","value":"123456789012345678901"}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"integer","value":"\\u0035"}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"integer","value":5}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"float","value":01}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"float","value":1.}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"float","value":-0}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"float","value":1E+400}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"float","value":"5"}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[{"type":"blob","base64":"AA=="}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"a\\u00e9\\"b\\\\"}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"bad \\x escape"}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","named_args":[]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","args":[],"named_args":[{"name":"a","value":{"type":"null"}}]}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S","want_rows":null}},{"type":"close"}]}',
      '{"baton":"b","requests":[{"type":"execute","stmt":{"sql":"S"}},{"type":"close"}]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S"}},{"type":"close"}],"requests":[]}',
      '{"requests":[{"type":"execute","stmt":{"sql":"S"}},{"type":"close"}]} ',
      '{"requests":[{"type":"execute","stmt":{"sql":"S"}},{"type":"close"}]}',
    ];
    for (const text of cases) agrees(Buffer.from(text, "utf8"), text);
    // Invalid UTF-8 inside a string decodes as it would within the whole body.
    const raw = Buffer.from('{"requests":[{"type":"execute","stmt":{"sql":"X"}},{"type":"close"}]}', "utf8");
    for (const bad of [[0xc3], [0xe6, 0x97], [0xed, 0xa0, 0x80], [0xff, 0xfe], [0xf0, 0x9f, 0x98]]) {
      const at = raw.indexOf("X");
      const bytes = Buffer.concat([raw.subarray(0, at), Buffer.from(bad), raw.subarray(at + 1)]);
      expect(agrees(bytes, String(bad))).toBeDefined();
    }
  });

  it("accepts what @libsql/client sends for execute(), arguments of every kind but blobs", async () => {
    const bodies: Buffer[] = [];
    const answer = JSON.stringify({
      baton: null,
      base_url: null,
      results: [
        {
          type: "ok",
          response: {
            type: "execute",
            result: encodeResult(
              { columns: [], columnTypes: [], rows: [], rowsAffected: 0, lastInsertRowid: null },
              true,
              0,
            ),
          },
        },
        { type: "ok", response: { type: "close" } },
      ],
    });
    // Stands in for the server, keeping what the client sends.
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.method === "POST") bodies.push(Buffer.concat(chunks));
        const found = req.method === "POST" || /^\/v[23]$/.test(req.url ?? "");
        res.writeHead(found ? 200 : 404, { "content-type": "application/json" });
        res.end(req.method === "POST" ? answer : "");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = createClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    try {
      const statements = [
        "SELECT * FROM t WHERE id = 1",
        { sql: "SELECT * FROM t WHERE id = ?", args: [7] },
        { sql: "SELECT ?, ?, ?, ?", args: [2n ** 62n, 1.5, 'quote " and \\ and é 😀', null] },
        { sql: "SELECT ?", args: [true] },
      ];
      for (const stmt of statements) await client.execute(stmt);
    } finally {
      client.close();
      server.close();
    }
    expect(bodies).toHaveLength(4);
    for (const bytes of bodies) {
      const read = agrees(bytes, bytes.toString("utf8"));
      expect(read, bytes.toString("utf8")).toBeDefined();
    }
  });
});
