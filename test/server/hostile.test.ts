import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type Harness, startHarness } from "./harness.js";

/** What a careless or hostile client sends, over raw HTTP: each gets a clear status and a JSON reason. */

const LIMIT = 64 * 1024;

let h: Harness;
let dbToken: string;

beforeAll(async () => {
  h = await startHarness({ maxBodyBytes: LIMIT });
  h.engine.createGroup("default");
  await h.engine.createDatabase("target", { group: "default" });
  dbToken = (await h.engine.createToken({ database: "target" })).jwt;
});

afterAll(() => h.close());

async function call(path: string, init: RequestInit = {}) {
  const res = await h.fetch(path, init);
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

const platform = (path: string, init: RequestInit = {}) =>
  call(`/v1/organizations/local${path}`, { ...init, headers: { ...bearer(h.apiToken), ...init.headers } });

describe("Platform API", () => {
  it("refuses requests without a valid API token with 401", async () => {
    const none = await call("/v1/organizations/local/groups");
    expect(none.status).toBe(401);
    expect(none.body.error).toMatch(/API token is required/);
    for (const token of ["tdb_made-up", "garbage", dbToken]) {
      const res = await call("/v1/organizations/local/groups", { headers: bearer(token) });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: "invalid API token", code: "UNAUTHENTICATED" });
    }
    expect((await call("/v1/organizations", { headers: { authorization: "Basic abc" } })).status).toBe(401);
  });

  it("answers 404 for what does not exist", async () => {
    expect((await platform("/databases/ghost")).status).toBe(404);
    expect((await platform("/groups/ghost", { method: "DELETE" })).status).toBe(404);
    expect((await platform("/databases/ghost/auth/rotate", { method: "POST" })).status).toBe(404);
    const route = await call("/v1/nothing-here", { headers: bearer(h.apiToken) });
    expect(route.status).toBe(404);
    expect(route.body.error).toMatch(/no route for GET \/v1\/nothing-here/);
  });

  it("answers 405 with Allow for a known path and an unknown method", async () => {
    const res = await platform("/groups", { method: "PUT" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
  });

  it("answers 409 for duplicates", async () => {
    const create = () =>
      platform("/groups", { method: "POST", body: JSON.stringify({ name: "twice", location: "local" }) });
    expect((await create()).status).toBe(200);
    const again = await create();
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/group "twice" already exists/);
    expect(
      (await call("/v1/auth/api-tokens/tests", { method: "POST", headers: bearer(h.apiToken) })).status,
    ).toBe(409);
  });

  it("answers 400 for bad input", async () => {
    const post = (body: string) => platform("/databases", { method: "POST", body });
    const notJson = await post("{nope");
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ code: "INVALID_JSON" });
    expect((await post("[1, 2]")).status).toBe(400);
    expect((await post(JSON.stringify({ name: 42, group: "default" }))).status).toBe(400);
    expect((await post(JSON.stringify({ name: "../../etc", group: "default" }))).status).toBe(400);
    expect(
      (await post(JSON.stringify({ name: "x", group: "default", is_schema: true, schema: "y" }))).status,
    ).toBe(400);
    expect((await post(JSON.stringify({ name: "x", group: "default", seed: { type: "dump" } }))).status).toBe(
      400,
    );
    const token = (q: string) => platform(`/databases/target/auth/tokens?${q}`, { method: "POST" });
    expect((await token("authorization=admin")).status).toBe(400);
    expect((await token("expiration=forever")).status).toBe(400);
    expect(
      (await call("/v1/organizations/local/groups/%E0%A4%A", { headers: bearer(h.apiToken) })).status,
    ).toBe(400);
  });

  it("refuses bodies over the limit with 413, declared or streamed", async () => {
    const big = "x".repeat(LIMIT + 1);
    const declared = await platform("/groups", { method: "POST", body: big });
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });

    const chunk = new TextEncoder().encode("y".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > LIMIT * 2) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const streamed = await platform("/groups", {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);

    // The server is still fine afterwards.
    expect((await platform("/groups")).status).toBe(200);
  });

  it("never puts a stack trace in a response", async () => {
    const res = await platform("/databases", { method: "POST", body: "{" });
    expect(Object.keys(res.body).sort()).toEqual(["code", "error", "message"]);
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });
});

describe("data plane", () => {
  const pipeline = (path: string, token: string | undefined, body: unknown) =>
    call(path, {
      method: "POST",
      headers: token === undefined ? {} : bearer(token),
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const select = { requests: [{ type: "execute", stmt: { sql: "SELECT 1" } }, { type: "close" }] };

  it("answers 401 without a valid database token", async () => {
    const none = await pipeline("/db/target/v2/pipeline", undefined, select);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ code: "AUTH_HEADER_NOT_FOUND" });
    const bad = await pipeline("/db/target/v2/pipeline", "a.b.c", select);
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ code: "AUTH_JWT_INVALID" });
    const api = await pipeline("/db/target/v2/pipeline", h.apiToken, select);
    expect(api.status).toBe(401);
  });

  it("answers 404 for an unknown database, and hints at the trailing slash", async () => {
    const res = await pipeline("/db/ghost/v2/pipeline", dbToken, select);
    expect(res.status).toBe(404);
    expect(res.body.message).toMatch(/database "ghost" not found/);
    const noSlash = await call("/db/target", { method: "POST" });
    expect(noSlash.status).toBe(404);
    expect(noSlash.body.error).toMatch(/trailing slash/);
  });

  it("answers 400 for bad JSON and for invalid or used batons", async () => {
    expect((await pipeline("/db/target/v2/pipeline", dbToken, "{")).status).toBe(400);
    expect((await pipeline("/db/target/v2/pipeline", dbToken, { baton: 42, requests: [] })).status).toBe(400);
    const invalid = await pipeline("/db/target/v2/pipeline", dbToken, { baton: "1.0.xyz", requests: [] });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: "BATON_INVALID" });

    const open = await pipeline("/db/target/v2/pipeline", dbToken, {
      requests: [{ type: "execute", stmt: { sql: "SELECT 1" } }],
    });
    const baton = open.body.baton as string;
    const next = await pipeline("/db/target/v2/pipeline", dbToken, { baton, requests: [] });
    expect(next.status).toBe(200);
    const used = await pipeline("/db/target/v2/pipeline", dbToken, { baton, requests: [] });
    expect(used.status).toBe(400);
    expect(used.body).toMatchObject({ code: "BATON_REUSED" });
    const close = { baton: next.body.baton, requests: [{ type: "close" }] };
    expect((await pipeline("/db/target/v2/pipeline", dbToken, close)).status).toBe(200);
    const closed = await pipeline("/db/target/v2/pipeline", dbToken, close);
    expect(closed.status).toBe(400);
    expect(closed.body).toMatchObject({ code: "STREAM_CLOSED" });
  });

  it("refuses a token that names no single database when the URL names none", async () => {
    const group = (await h.engine.createToken({ group: "default" })).jwt;
    const res = await pipeline("/v2/pipeline", group, select);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/put the database in the URL/);
  });

  it("refuses an oversized pipeline with 413", async () => {
    const res = await pipeline("/db/target/v2/pipeline", dbToken, {
      requests: [{ type: "execute", stmt: { sql: `SELECT '${"z".repeat(LIMIT)}'` } }],
    });
    expect(res.status).toBe(413);
  });
});
