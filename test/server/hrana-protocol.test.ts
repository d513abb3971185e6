import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type Harness, startHarness } from "./harness.js";

/**
 * Hrana over HTTP on the wire, for what `@libsql/client` never sends or never shows: batons, conditions,
 * stored SQL, Hrana 3 requests, stream expiry and the bound on open streams.
 */

interface PipelineBody {
  baton: string | null;
  base_url: string | null;
  results: {
    type: "ok" | "error";
    response?: { type: string; result?: Record<string, unknown>; is_autocommit?: boolean };
    error?: { message: string; code: string };
  }[];
}

let h: Harness;
let jwt: string;

async function pipeline(
  harness: Harness,
  token: string,
  body: unknown,
  opts: { version?: 2 | 3; db?: string } = {},
): Promise<{ status: number; body: PipelineBody }> {
  const res = await harness.fetch(`/db/${opts.db ?? "wire"}/v${opts.version ?? 2}/pipeline`, {
    method: "POST",
    headers: { ...bearer(token), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as PipelineBody };
}

const execute = (sql: string, extra: Record<string, unknown> = {}) => ({
  type: "execute",
  stmt: { sql, ...extra },
});
const int = (n: number | bigint) => ({ type: "integer", value: String(n) });

async function setup(harness: Harness): Promise<string> {
  harness.engine.createGroup("default");
  await harness.engine.createDatabase("wire", { group: "default" });
  await harness.engine.execute("wire", "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)");
  return (await harness.engine.createToken({ database: "wire" })).jwt;
}

beforeAll(async () => {
  h = await startHarness();
  jwt = await setup(h);
});

afterAll(() => h.close());

describe("probes and values", () => {
  it("answers the version probes without a token", async () => {
    for (const path of ["/v2", "/v3", "/db/wire/v2", "/db/wire/v3"]) {
      const res = await h.fetch(path);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/Hrana over HTTP/);
    }
    // No protobuf encoding: a client probing v3-protobuf falls back to JSON.
    expect((await h.fetch("/db/wire/v3-protobuf")).status).toBe(404);
  });

  it("encodes integers as strings, and honours want_rows", async () => {
    const { body } = await pipeline(h, jwt, {
      requests: [
        execute("INSERT INTO kv VALUES (?, ?)", {
          args: [{ type: "text", value: "max" }, int(2n ** 63n - 1n)],
        }),
        execute("SELECT k, v, 0.5 AS half, x'00ff' AS b, NULL AS n FROM kv WHERE k = 'max'"),
        execute("SELECT * FROM kv", { want_rows: false }),
        { type: "close" },
      ],
    });
    expect(body.baton).toBeNull();
    expect(body.results[0]?.response?.result).toMatchObject({
      affected_row_count: 1,
      last_insert_rowid: "1",
    });
    const select = body.results[1]?.response?.result as { cols: unknown; rows: unknown };
    expect(select.cols).toEqual([
      { name: "k", decltype: "TEXT" },
      { name: "v", decltype: "INTEGER" },
      { name: "half", decltype: null },
      { name: "b", decltype: null },
      { name: "n", decltype: null },
    ]);
    expect(select.rows).toEqual([
      [
        { type: "text", value: "max" },
        { type: "integer", value: "9223372036854775807" },
        { type: "float", value: 0.5 },
        { type: "blob", base64: "AP8=" },
        { type: "null" },
      ],
    ]);
    expect(body.results[2]?.response?.result?.rows).toEqual([]);
  });
});

describe("batons", () => {
  it("carries a stream across requests with single-use batons", async () => {
    const first = await pipeline(h, jwt, {
      requests: [execute("BEGIN"), execute("INSERT INTO kv VALUES ('tx', 1)")],
    });
    const baton = first.body.baton as string;
    expect(baton).toEqual(expect.any(String));

    const second = await pipeline(h, jwt, { baton, requests: [execute("SELECT v FROM kv WHERE k = 'tx'")] });
    expect(second.status).toBe(200);
    expect(second.body.results[0]?.response?.result?.rows).toEqual([[int(1)]]);

    const replay = await pipeline(h, jwt, { baton, requests: [execute("SELECT 1")] });
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ code: "BATON_REUSED" });

    // One character of the MAC changed (not the last: its low bits are padding).
    const at = baton.length - 10;
    const tampered = `${baton.slice(0, at)}${baton[at] === "A" ? "B" : "A"}${baton.slice(at + 1)}`;
    const forged = await pipeline(h, jwt, { baton: tampered, requests: [] });
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({ code: "BATON_INVALID", message: "Received an invalid baton" });

    const closed = await pipeline(h, jwt, {
      baton: second.body.baton,
      requests: [execute("ROLLBACK"), { type: "close" }, execute("SELECT 1")],
    });
    expect(closed.body.baton).toBeNull();
    expect(closed.body.results[2]).toMatchObject({ type: "error", error: { code: "STREAM_CLOSED" } });
    const late = await pipeline(h, jwt, { baton: second.body.baton, requests: [] });
    expect(late.status).toBe(400);
  });

  it("refuses a baton sent with another token", async () => {
    const { body } = await pipeline(h, jwt, { requests: [execute("SELECT 1")] });
    const other = (await h.engine.createToken({ database: "wire" })).jwt;
    const res = await pipeline(h, other, { baton: body.baton, requests: [{ type: "close" }] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "BATON_INVALID" });
    await pipeline(h, jwt, { baton: body.baton, requests: [{ type: "close" }] });
  });
});

describe("requests", () => {
  it("evaluates batch conditions over earlier steps", async () => {
    const { body } = await pipeline(h, jwt, {
      requests: [
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: { sql: "INSERT INTO kv VALUES ('dup', 1)" } },
              { stmt: { sql: "INSERT INTO kv VALUES ('dup', 2)" } },
              { condition: { type: "ok", step: 1 }, stmt: { sql: "SELECT 'skipped'" } },
              { condition: { type: "error", step: 1 }, stmt: { sql: "SELECT 'ran'" } },
              {
                condition: {
                  type: "and",
                  conds: [
                    { type: "ok", step: 0 },
                    { type: "not", cond: { type: "ok", step: 2 } },
                  ],
                },
                stmt: { sql: "SELECT 'and'" },
              },
            ],
          },
        },
        { type: "close" },
      ],
    });
    const result = body.results[0]?.response?.result as {
      step_results: ({ rows: unknown[] } | null)[];
      step_errors: ({ code: string } | null)[];
    };
    expect(result.step_results.map((r) => r !== null)).toEqual([true, false, false, true, true]);
    expect(result.step_errors.map((e) => e?.code ?? null)).toEqual([
      null,
      "SQLITE_CONSTRAINT",
      null,
      null,
      null,
    ]);
    expect(result.step_results[3]?.rows).toEqual([[{ type: "text", value: "ran" }]]);
  });

  it("refuses a condition on a later step before running any step", async () => {
    const { body } = await pipeline(h, jwt, {
      requests: [
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: { sql: "INSERT INTO kv VALUES ('never', 1)" } },
              { condition: { type: "ok", step: 1 }, stmt: { sql: "SELECT 1" } },
            ],
          },
        },
        execute("SELECT count(*) FROM kv WHERE k = 'never'"),
        { type: "close" },
      ],
    });
    expect(body.results[0]).toMatchObject({ type: "error", error: { code: "BATCH_COND_INVALID" } });
    expect(body.results[1]?.response?.result?.rows).toEqual([[int(0)]]);
  });

  it("answers get_autocommit and is_autocommit on Hrana 3 only", async () => {
    const v3 = await pipeline(
      h,
      jwt,
      {
        requests: [
          { type: "get_autocommit" },
          execute("BEGIN"),
          { type: "get_autocommit" },
          {
            type: "batch",
            batch: { steps: [{ condition: { type: "is_autocommit" }, stmt: { sql: "SELECT 1" } }] },
          },
          execute("ROLLBACK"),
          { type: "close" },
        ],
      },
      { version: 3 },
    );
    expect(v3.body.results[0]?.response).toEqual({ type: "get_autocommit", is_autocommit: true });
    expect(v3.body.results[2]?.response).toEqual({ type: "get_autocommit", is_autocommit: false });
    expect(v3.body.results[3]?.response?.result?.step_results).toEqual([null]);

    const v2 = await pipeline(h, jwt, { requests: [{ type: "get_autocommit" }, { type: "close" }] });
    expect(v2.body.results[0]).toMatchObject({ type: "error", error: { code: "PROTOCOL_VERSION" } });
  });

  it("stores SQL on a stream, describes and sequences", async () => {
    const { body } = await pipeline(h, jwt, {
      requests: [
        { type: "store_sql", sql_id: 7, sql: "SELECT v FROM kv WHERE k = ?" },
        { type: "execute", stmt: { sql_id: 7, args: [{ type: "text", value: "dup" }] } },
        { type: "describe", sql_id: 7 },
        { type: "close_sql", sql_id: 7 },
        { type: "execute", stmt: { sql_id: 7 } },
        { type: "execute", stmt: { sql: "SELECT 1", sql_id: 7 } },
        {
          type: "sequence",
          sql: "CREATE TABLE seq (x); INSERT INTO seq VALUES (1); INSERT INTO seq VALUES (2)",
        },
        execute("SELECT sum(x) FROM seq"),
        execute("SELECT :a", { args: [int(1)], named_args: [{ name: ":a", value: int(1) }] }),
        { type: "close" },
      ],
    });
    const [, run, describeIt, , missing, both, sequence, sum, mixed] = body.results;
    expect(run?.response?.result?.rows).toEqual([[int(1)]]);
    expect(describeIt?.response?.result).toEqual({
      params: [{ name: null }],
      cols: [{ name: "v", decltype: "INTEGER" }],
      is_explain: false,
      is_readonly: true,
    });
    expect(missing?.error?.code).toBe("SQL_NOT_FOUND");
    expect(both?.error?.code).toBe("SQL_INVALID");
    expect(sequence?.response).toEqual({ type: "sequence" });
    expect(sum?.response?.result?.rows).toEqual([[int(3)]]);
    expect(mixed?.error?.code).toBe("ARGS_BOTH_POSITIONAL_AND_NAMED");
  });

  it("refuses a malformed pipeline whole, with 400", async () => {
    for (const bad of [
      { requests: [{ type: "explode" }] },
      { requests: "nope" },
      { requests: [execute("SELECT ?", { args: [{ type: "integer", value: "1.5" }] })] },
      { requests: [execute("SELECT ?", { args: [{ type: "integer", value: "9223372036854775808" }] })] },
      [],
    ]) {
      const res = await pipeline(h, jwt, bad);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: "HRANA_PROTO_ERROR" });
    }
  });
});

describe("stream lifetime", () => {
  let short: Harness;
  let token: string;

  beforeAll(async () => {
    short = await startHarness({ streamIdleMs: 200, maxStreams: 2 });
    token = await setup(short);
  });

  afterAll(() => short.close());

  it("expires an idle stream and rolls its transaction back", async () => {
    const open = await pipeline(short, token, {
      requests: [execute("BEGIN"), execute("INSERT INTO kv VALUES ('lost', 1)")],
    });
    await new Promise((resolve) => setTimeout(resolve, 800));
    const late = await pipeline(short, token, { baton: open.body.baton, requests: [execute("COMMIT")] });
    expect(late.status).toBe(400);
    expect(late.body).toMatchObject({
      code: "STREAM_EXPIRED",
      message: "The stream has expired due to inactivity",
    });
    const check = await pipeline(short, token, {
      requests: [execute("SELECT count(*) FROM kv WHERE k = 'lost'"), { type: "close" }],
    });
    expect(check.body.results[0]?.response?.result?.rows).toEqual([[int(0)]]);
  });

  it("rolls back open transactions and stops listening when closed", async () => {
    const doomed = await startHarness();
    try {
      const token = await setup(doomed);
      const open = await pipeline(doomed, token, {
        requests: [execute("BEGIN"), execute("INSERT INTO kv VALUES ('unfinished', 1)")],
      });
      expect(open.body.baton).toEqual(expect.any(String));
      await doomed.server.close();
      const [count] = await doomed.engine.execute("wire", "SELECT count(*) FROM kv WHERE k = 'unfinished'");
      expect(count?.rows).toEqual([[0n]]);
      await expect(doomed.fetch("/v2")).rejects.toThrow();
    } finally {
      await doomed.close();
    }
  });

  it("bounds the number of open streams", async () => {
    const a = await pipeline(short, token, { requests: [execute("SELECT 1")] });
    const b = await pipeline(short, token, { requests: [execute("SELECT 1")] });
    const refused = await short.fetch("/db/wire/v2/pipeline", {
      method: "POST",
      headers: bearer(token),
      body: JSON.stringify({ requests: [execute("SELECT 1")] }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ code: "TOO_MANY_STREAMS" });

    await pipeline(short, token, { baton: a.body.baton, requests: [{ type: "close" }] });
    const again = await pipeline(short, token, { requests: [execute("SELECT 1"), { type: "close" }] });
    expect(again.status).toBe(200);
    await pipeline(short, token, { baton: b.body.baton, requests: [{ type: "close" }] });
  });
});
