import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFront } from "../../server/http1.js";
import { pick as pickFrom, rngFor } from "../helpers.js";
import { type Harness, startHarness } from "./harness.js";

/**
 * The lean HTTP/1.1 front (server/http1.ts), over raw sockets: it reads the common subset itself, and
 * hands a connection to node:http at its first request outside it, unread bytes included. Either way a
 * request gets the same answer, and nothing ambiguous is ever read leniently.
 */

const LIMIT = 32 * 1024;
let h: Harness;
let token: string;
let port: number;

beforeAll(async () => {
  h = await startHarness({ maxBodyBytes: LIMIT });
  h.engine.createGroup("default");
  await h.engine.createDatabase("target", { group: "default" });
  await h.engine.execute("target", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  await h.engine.execute("target", "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')");
  token = (await h.engine.createToken({ database: "target" })).jwt;
  port = Number(new URL(h.server.url).port);
});
afterAll(() => h.close());

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const read = (id: number) =>
  JSON.stringify({
    requests: [
      {
        type: "execute",
        stmt: { sql: "SELECT v FROM t WHERE id = ?", args: [{ type: "integer", value: String(id) }] },
      },
      { type: "close" },
    ],
  });

function request(
  body: string,
  opts: { path?: string; method?: string; headers?: Record<string, string>; chunked?: boolean } = {},
): string {
  const headers: Record<string, string> = {
    host: "127.0.0.1",
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    ...(opts.chunked
      ? { "transfer-encoding": "chunked" }
      : { "content-length": String(Buffer.byteLength(body)) }),
    ...opts.headers,
  };
  const head = `${opts.method ?? "POST"} ${opts.path ?? "/db/target/v2/pipeline"} HTTP/1.1\r\n${Object.entries(
    headers,
  )
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
  if (!opts.chunked) return head + body;
  const half = Math.floor(body.length / 2);
  const chunk = (s: string) => (s === "" ? "" : `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`);
  return `${head}${chunk(body.slice(0, half))}${chunk(body.slice(half))}0\r\n\r\n`;
}

/** Sends `raw` on one connection and reads `count` answers (or until the server closes it). */
function exchange(
  raw: string | string[],
  count: number,
  opts: { head?: boolean; paced?: boolean } = {},
): Promise<{ answers: Answer[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const answers: Answer[] = [];
    let buffered = Buffer.alloc(0);
    let closed = false;
    const done = () => {
      socket.destroy();
      resolve({ answers, closed });
    };
    socket.on("connect", async () => {
      for (const part of Array.isArray(raw) ? raw : [raw]) {
        socket.write(part);
        // Paced: each part its own segment, read by the server on its own.
        if (opts.paced) await new Promise((resolve) => setImmediate(resolve));
      }
    });
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const [line, ...lines] = buffered.subarray(0, end).toString("latin1").split("\r\n");
        const headers = Object.fromEntries(
          lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
        );
        const status = Number(line?.split(" ")[1]);
        if (status === 100) {
          buffered = buffered.subarray(end + 4);
          continue;
        }
        const length = opts.head ? 0 : Number(headers["content-length"] ?? 0);
        if (buffered.length < end + 4 + length) return;
        answers.push({
          status,
          headers,
          body: buffered.subarray(end + 4, end + 4 + length).toString("utf8"),
        });
        buffered = buffered.subarray(end + 4 + length);
        if (answers.length === count) return done();
      }
    });
    socket.on("end", () => {
      closed = true;
      done();
    });
    socket.on("error", reject);
  });
}

const rowsOf = (a: Answer) =>
  (
    JSON.parse(a.body) as { results: { response?: { result?: { rows: { value: string }[][] } } }[] }
  ).results[0]?.response?.result?.rows.map((r) => r.map((v) => v.value));

describe("the lean HTTP/1.1 front", () => {
  it("answers pipelined requests on one connection, in order", async () => {
    const { answers } = await exchange([request(read(3)) + request(read(1)) + request(read(2))], 3);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map(rowsOf)).toEqual([[["three"]], [["one"]], [["two"]]]);
    expect(answers[0]?.headers.connection).toBe("keep-alive");
  });

  it("answers a thousand requests pipelined in one write, each in turn", async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => (i % 3) + 1);
    const { answers } = await exchange([ids.map((id) => request(read(id))).join("")], ids.length);
    expect(answers.map(rowsOf)).toEqual(ids.map((id) => [[["one", "two", "three"][id - 1]]]));
  });

  it("reads requests that arrive a few bytes, or a few kilobytes, at a time", async () => {
    const whole = request(read(2)) + request(`${read(3).slice(0, -1)},"pad":"${"p".repeat(20_000)}"}`);
    const split = (size: number) =>
      Array.from({ length: Math.ceil(whole.length / size) }, (_, i) => whole.slice(i * size, (i + 1) * size));
    for (const parts of [split(7), split(3000)]) {
      const { answers } = await exchange(parts, 2, { paced: true });
      expect(answers.map(rowsOf)).toEqual([[["two"]], [["three"]]]);
    }
  });

  it("stops reading a connection that floods while its request is answered, and goes on after", async () => {
    const write = JSON.stringify({
      requests: [{ type: "execute", stmt: { sql: "INSERT INTO t (v) VALUES ('flood')" } }, { type: "close" }],
    });
    const flood = "x".repeat(4 * 1024 * 1024);
    const { answers, closed } = await exchange([request(write), flood], 2);
    expect(answers[0]?.status).toBe(200);
    expect(JSON.parse(answers[0]?.body ?? "{}").results[0].type).toBe("ok");
    // What followed was no request: node:http refuses it, and the connection ends.
    expect(String(answers[1]?.status ?? (closed ? "closed" : "none"))).toMatch(/^(400|431|closed)$/);
    const { answers: after } = await exchange(request(read(1)), 1);
    expect(rowsOf(after[0] as Answer)).toEqual([["one"]]);
    await h.engine.execute("target", "DELETE FROM t WHERE v = 'flood'");
  });

  it("hands a connection to node:http at its first chunked request, which answers it and the rest the same", async () => {
    const { answers } = await exchange(
      [
        request(read(1)),
        request(read(2), { chunked: true }),
        request(read(3)),
        request(read(1), { chunked: true }),
      ],
      4,
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.map(rowsOf)).toEqual([[["one"]], [["two"]], [["three"]], [["one"]]]);
  });

  it("leaves Expect: 100-continue to node:http, which asks for the body and answers it", async () => {
    const body = read(2);
    const head = request("", { headers: { expect: "100-continue", "content-length": String(body.length) } });
    const { answers } = await exchange([head, body], 1);
    expect(answers[0]?.status).toBe(200);
    expect(rowsOf(answers[0] as Answer)).toEqual([["two"]]);
  });

  it("refuses what is ambiguous or too large by node:http's rules, and keeps serving", async () => {
    const cases: [string, number][] = [
      [request(read(1), { headers: { "content-length": "5, 7" } }), 400],
      [
        `POST /db/target/v2/pipeline HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd`,
        400,
      ],
      [`GARBAGE\r\n\r\n`, 400],
      [
        `POST /db/target/v2/pipeline HTTP/1.1\r\nhost: x\r\nx-folded: a\r\n b\r\ncontent-length: 2\r\n\r\n{}`,
        400,
      ],
      [request(read(1), { headers: { "x-control": "a\x01b" } }), 400],
      [`POST /db/target/v2/pipeline HTTP/1.1\r\nhost: x\r\nx-cr: a\rb\r\ncontent-length: 2\r\n\r\n{}`, 400],
      [request(read(1), { headers: { "x-big": "y".repeat(20 * 1024) } }), 431],
      [request(`{"requests":[],"pad":"${"z".repeat(LIMIT)}"}`), 413],
    ];
    for (const [raw, status] of cases) {
      const { answers, closed } = await exchange(raw, 1);
      expect(answers[0]?.status ?? (closed ? "closed" : "none"), raw.slice(0, 60)).toBe(status);
    }
    const { answers } = await exchange(request(read(3)), 1);
    expect(rowsOf(answers[0] as Answer)).toEqual([["three"]]);
  });

  it("closes after answering when asked to, and answers HEAD through node:http", async () => {
    const closing = await exchange(request(read(1), { headers: { connection: "close" } }), 2);
    expect(closing.answers).toHaveLength(1);
    expect(closing.answers[0]?.headers.connection).toBe("close");
    expect(closing.closed).toBe(true);
    const head = await exchange(`HEAD /health HTTP/1.1\r\nhost: x\r\n\r\n`, 1, { head: true });
    expect(head.answers[0]?.status).toBe(200);
    expect(head.answers[0]?.body).toBe("");
  });

  it("a client gone mid-body leaves the server answering the others", async () => {
    const cut = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => cut.on("connect", resolve));
    cut.write(request(read(1)).slice(0, -10));
    cut.destroy();
    const { answers } = await exchange(request(read(2)), 1);
    expect(rowsOf(answers[0] as Answer)).toEqual([["two"]]);
  });

  it("over generated requests, answers exactly as node:http does", async () => {
    const random = rngFor(20261130);
    const pick = <T>(xs: readonly T[]): T => pickFrom(random, xs);
    const bodies = [
      read(1),
      read(9),
      JSON.stringify({
        requests: [{ type: "execute", stmt: { sql: "SELECT * FROM t" } }, { type: "close" }],
      }),
      JSON.stringify({
        requests: [{ type: "execute", stmt: { sql: "SELECT nope FROM t WHERE id = 1" } }, { type: "close" }],
      }),
      JSON.stringify({ requests: [{ type: "execute", stmt: { sql: "SELECT 1" } }] }),
      "{not json",
      "",
      JSON.stringify({ baton: "made-up", requests: [] }),
    ];
    const targets = [
      ["POST", "/db/target/v2/pipeline"],
      ["POST", "/v3/pipeline"],
      ["POST", "/db/missing/v2/pipeline"],
      ["GET", "/db/target/v2/pipeline"],
      ["GET", "/health"],
      ["GET", "/v2"],
      ["GET", "/nowhere?x=1"],
      ["GET", "/v1/organizations/local/groups"],
      ["DELETE", "/v1/organizations/local/databases/nope"],
    ] as const;
    const normalize = (a: Answer | undefined) => ({
      status: a?.status,
      type: a?.headers["content-type"],
      // Timings differ, and so does each new stream's baton (a fresh one per stream, by design).
      body: a?.body
        .replace(/"query_duration_ms":[0-9.e-]+/g, '"query_duration_ms":0')
        .replace(/"baton":"[^"]+"/g, '"baton":"<new stream>"'),
    });
    for (let i = 0; i < 40; i++) {
      const [method, path] = pick(targets);
      const body = method === "POST" ? pick(bodies) : "";
      const headers: Record<string, string> = random() < 0.3 ? { authorization: "Bearer nonsense" } : {};
      const lean = await exchange(request(body, { method, path, headers }), 1);
      const node = await exchange(request(body, { method, path, headers, chunked: true }), 1);
      expect(normalize(lean.answers[0]), `${method} ${path} ${body}`).toEqual(normalize(node.answers[0]));
    }
  });

  it("closes a connection left idle, and not one that keeps sending", async () => {
    const front = createFront({
      answer: () => ({ status: 200, headers: { "content-length": 2 }, body: "ok", database: "-" }),
      fallback: http.createServer(),
      maxBodyBytes: 1024,
      idleMs: 50,
      logRequest: () => {},
      onAnswered: () => {},
    });
    await new Promise<void>((resolve) => front.server.listen(0, "127.0.0.1", resolve));
    const { port: frontPort } = front.server.address() as net.AddressInfo;
    const open = async () => {
      const socket = net.connect(frontPort, "127.0.0.1");
      const closed = new Promise<"closed">((resolve) => socket.on("close", () => resolve("closed")));
      socket.on("error", () => {});
      // Flowing, so that the server's end is read through to the socket's close.
      socket.resume();
      await new Promise((resolve) => socket.on("connect", resolve));
      return { socket, closed };
    };
    try {
      // Idle after one answer: closed by the server, without the client doing anything.
      const idle = await open();
      idle.socket.write("GET /x HTTP/1.1\r\nhost: x\r\n\r\n");
      const stillOpen = new Promise((resolve) => setTimeout(() => resolve("still open"), 5_000).unref());
      expect(await Promise.race([idle.closed, stillOpen])).toBe("closed");
      // A request trickling in a byte at a time, each well within the interval, is still being sent.
      const slow = await open();
      const raw = "GET /x HTTP/1.1\r\nhost: x\r\n\r\n";
      let answer = "";
      slow.socket.on("data", (d: Buffer) => {
        answer += d.toString("latin1");
      });
      for (const byte of raw) {
        slow.socket.write(byte);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
      slow.socket.destroy();
    } finally {
      front.closeAll();
      await new Promise((resolve) => front.server.close(resolve));
    }
  });
});
