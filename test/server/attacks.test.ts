import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Client, createClient } from "@libsql/client";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Engine, openEngine } from "../../engine/index.js";
import { CLI } from "../helpers.js";
import { exec, hrana, type ServeProcess, startServeProcess } from "./serve-process.js";

/**
 * A hostile tenant against the real `tenantdb serve` process, with nothing more than its own tokens. In
 * every scenario another tenant's query is answered while the attack runs, the attacker gets a clear
 * error, and the server is alive afterwards. Limits are set low (2 s) so the suite stays short; no
 * duration is asserted.
 */

let root: string;
let dataDir: string;
let engine: Engine;
let server: ServeProcess;
let victim: Client;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-attacks-"));
  dataDir = path.join(root, "data");
  engine = await openEngine(dataDir, { workers: 2 });
  engine.createGroup("default");
  for (const name of ["good", "evil", "shared"]) {
    await engine.createDatabase(name, { group: "default" });
    await engine.execute(name, "CREATE TABLE t (x)");
  }
  engine.updateDatabaseConfig("shared", { allowAttach: true });
  await engine.createDatabase("fleet", { group: "default", type: "schema" });
  await engine.execute("fleet", "CREATE TABLE t (x)");
  await engine.createChildren("fleet", ["c1", "c2", "c3"]);
  const mint = async (
    key: string,
    database: string,
    opts: { readOnly?: boolean; attach?: string[] } = {},
  ) => {
    tokens[key] = (
      await engine.createToken({
        database,
        authorization: opts.readOnly ? "read-only" : "full-access",
        attach: opts.attach,
      })
    ).jwt;
  };
  await mint("good", "good");
  await mint("evilRo", "evil", { readOnly: true });
  await mint("evil", "evil");
  await mint("evilAttach", "evil", { readOnly: true, attach: ["shared"] });
  await mint("sharedRo", "shared", { readOnly: true });
  await mint("shared", "shared");
  await mint("fleet", "fleet");
  await mint("c1Ro", "c1", { readOnly: true });
  await mint("c1", "c1");
  await mint("c2", "c2");
  server = await startServeProcess(dataDir, ["--statement-timeout", "2", "--transaction-timeout", "2"]);
  victim = createClient({ url: `${server.url}/db/good/`, authToken: tokens.good });
}, 60_000);

afterAll(async () => {
  victim?.close();
  const code = await server?.stop();
  engine?.close();
  fs.rmSync(root, { recursive: true, force: true });
  expect(code).toBe(0);
});

let victimRows = 0;
/** Another tenant writes and reads back: answered, and right. */
async function victimIsServed(): Promise<void> {
  await victim.execute({ sql: "INSERT INTO t VALUES (?)", args: [victimRows] });
  victimRows++;
  const r = await victim.execute("SELECT count(*) AS n FROM t");
  expect(Number(r.rows[0]?.n)).toBe(victimRows);
}

async function serverIsAlive(): Promise<void> {
  expect((await fetch(`${server.url}/health`)).status).toBe(200);
  await victimIsServed();
}

describe("a hostile tenant", () => {
  it("cannot freeze the server with unbounded recursive queries: each is stopped with QUERY_TIMEOUT", async () => {
    const runaway = () =>
      hrana(server.url, "evil", tokens.evilRo as string, {
        requests: [
          exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"),
        ],
      });
    const first = runaway();
    await sleep(500);
    // A second one while the first still runs: it waits rather than take the last executor.
    const second = runaway();
    await sleep(300);
    await victimIsServed();
    for (const stopped of await Promise.all([first, second])) {
      expect(stopped.status).toBe(400);
      expect(stopped.body.code).toBe("QUERY_TIMEOUT");
      expect(stopped.body.message).toMatch(/longer than the server's limit/);
    }
    await serverIsAlive();
    // The attacker's own later queries work again.
    const after = await hrana(server.url, "evil", tokens.evilRo as string, {
      requests: [exec("SELECT count(*) FROM t"), { type: "close" }],
    });
    expect(after.body.results?.[0]?.type).toBe("ok");
  }, 60_000);

  it("cannot exhaust the server's memory with a huge result: RESPONSE_TOO_LARGE", async () => {
    const attack = hrana(server.url, "evil", tokens.evilRo as string, {
      requests: [
        exec(
          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 50000000) SELECT x, hex(randomblob(2000)) FROM c",
        ),
        { type: "close" },
      ],
    });
    await victimIsServed();
    const refused = await attack;
    expect(refused.status).toBe(200);
    expect(refused.body.results?.[0]?.error?.code).toBe("RESPONSE_TOO_LARGE");
    await serverIsAlive();
  }, 60_000);

  it("cannot get an endless recursion run on the server's thread by redefining what a bounded read reads", async () => {
    const read = () =>
      hrana(server.url, "evil", tokens.evil as string, {
        requests: [exec("SELECT * FROM lure"), { type: "close" }],
      });
    const ddl = (sql: string) =>
      hrana(server.url, "evil", tokens.evil as string, { requests: [exec(sql), { type: "close" }] });
    expect(
      (await ddl("CREATE TABLE lure_rows (id INTEGER PRIMARY KEY, v); INSERT INTO lure_rows VALUES (1, 'x')"))
        .status,
    ).toBe(200);
    expect((await ddl("CREATE VIEW lure AS SELECT v FROM lure_rows WHERE id = 1")).status).toBe(200);
    // Answered, on the server's thread: a lookup by key.
    for (let i = 0; i < 3; i++)
      expect((await read()).body.results?.[0]?.response?.result?.rows).toEqual([
        [{ type: "text", value: "x" }],
      ]);
    // Redefined through another connection (an executor's): the thread's verdict is for the old schema.
    await ddl(
      "DROP VIEW lure; CREATE VIEW lure AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    );
    const attack = read();
    await sleep(300);
    await serverIsAlive();
    const stopped = await attack;
    expect(stopped.status).toBe(400);
    expect(stopped.body.code).toBe("QUERY_TIMEOUT");
    await serverIsAlive();
  }, 60_000);

  it("cannot stall the server's thread for long with a huge value behind a bounded read", async () => {
    const run = (sql: string) =>
      hrana(server.url, "evil", tokens.evil as string, { requests: [exec(sql), { type: "close" }] });
    expect((await run("CREATE TABLE huge (id INTEGER PRIMARY KEY, b BLOB)")).status).toBe(200);
    expect((await run("INSERT INTO huge VALUES (1, zeroblob(30000000))")).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const refused = await run("SELECT b FROM huge WHERE id = 1");
      expect(refused.body.results?.[0]?.error?.code).toBe("RESPONSE_TOO_LARGE");
      await victimIsServed();
    }
    const small = await run("SELECT length(b) FROM huge WHERE id = 1");
    expect(small.body.results?.[0]?.response?.result?.rows).toEqual([
      [{ type: "integer", value: "30000000" }],
    ]);
    await serverIsAlive();
  }, 60_000);

  it("cannot take every stream slot with one token", async () => {
    const held = await Promise.all(
      Array.from({ length: 100 }, () =>
        hrana(server.url, "evil", tokens.evilRo as string, { requests: [exec("SELECT 1")] }),
      ),
    );
    expect(held.map((h) => h.status)).toEqual(held.map(() => 200));
    const refused = await hrana(server.url, "evil", tokens.evilRo as string, {
      requests: [exec("SELECT 1")],
    });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("TOO_MANY_STREAMS");
    expect(refused.body.message).toMatch(/this token has 100 streams open/);
    await victimIsServed();
    await Promise.all(
      held.map((h) =>
        hrana(server.url, "evil", tokens.evilRo as string, {
          baton: h.body.baton,
          requests: [{ type: "close" }],
        }),
      ),
    );
    await serverIsAlive();
  }, 60_000);

  it("cannot raise busy_timeout, nor block a shared database's writers by holding an attached read", async () => {
    const raise = await hrana(server.url, "shared", tokens.shared as string, {
      requests: [exec("PRAGMA busy_timeout = 60000"), { type: "close" }],
    });
    expect(raise.body.results?.[0]?.error?.message).toMatch(/busy_timeout/);

    // An attach-read tenant holds a read lock on the shared database inside a transaction.
    const holder = await hrana(server.url, "evil", tokens.evilAttach as string, {
      requests: [exec('ATTACH "shared" AS s'), exec("BEGIN"), exec("SELECT count(*) FROM s.t")],
    });
    expect(holder.body.results?.map((r) => r.type)).toEqual(["ok", "ok", "ok"]);
    const owner = createClient({ url: `${server.url}/db/shared/`, authToken: tokens.shared });
    try {
      const write = owner.execute("INSERT INTO t VALUES ('owner')");
      await victimIsServed();
      await write; // went through once the server rolled the holder's transaction back
      expect(Number((await owner.execute("SELECT count(*) AS n FROM t")).rows[0]?.n)).toBe(1);
    } finally {
      owner.close();
    }
    const late = await hrana(server.url, "evil", tokens.evilAttach as string, {
      baton: holder.body.baton,
      requests: [exec("SELECT 1")],
    });
    expect(late.status).toBe(400);
    expect(late.body.code).toBe("TRANSACTION_TIMEOUT");
    await serverIsAlive();
  }, 60_000);

  it("cannot lock other clients out with a read-only BEGIN", async () => {
    const reader = await hrana(server.url, "shared", tokens.sharedRo as string, {
      requests: [exec("BEGIN"), exec("SELECT count(*) FROM t")],
    });
    expect(reader.body.results?.map((r) => r.type)).toEqual(["ok", "ok"]);
    const owner = createClient({ url: `${server.url}/db/shared/`, authToken: tokens.shared });
    try {
      const before = Number((await owner.execute("SELECT count(*) AS n FROM t")).rows[0]?.n);
      const write = owner.execute("INSERT INTO t VALUES ('after the reader')");
      await victimIsServed();
      await write;
      expect(Number((await owner.execute("SELECT count(*) AS n FROM t")).rows[0]?.n)).toBe(before + 1);
    } finally {
      owner.close();
    }
    const late = await hrana(server.url, "shared", tokens.sharedRo as string, {
      baton: reader.body.baton,
      requests: [exec("SELECT 1")],
    });
    expect(late.body.code).toBe("TRANSACTION_TIMEOUT");
  }, 60_000);
});

describe("readers and fleet migrations", () => {
  async function latestJob(): Promise<{ job_id: number; status: string }> {
    const res = await fetch(`${server.url}/db/fleet/v1/jobs`, {
      headers: { authorization: `Bearer ${tokens.fleet}` },
    });
    const body = (await res.json()) as { migrations: { job_id: number; status: string }[] };
    return body.migrations[0] as { job_id: number; status: string };
  }

  function columnsOn(db: string): string[] {
    const conn = new Database(engine.getDatabase(db).path, { readonly: true });
    try {
      return (conn.prepare("SELECT name FROM pragma_table_info('t')").all() as { name: string }[]).map(
        (r) => r.name,
      );
    } finally {
      conn.close();
    }
  }

  it("a reader holding a transaction on a child delays a migration but does not strand it", async () => {
    const reader = await hrana(server.url, "c1", tokens.c1Ro as string, {
      requests: [exec("BEGIN"), exec("SELECT count(*) FROM t")],
    });
    let baton = reader.body.baton;
    let readerError: string | undefined;
    const pinging = (async () => {
      while (baton) {
        await sleep(400);
        const ping = await hrana(server.url, "c1", tokens.c1Ro as string, {
          baton,
          requests: [exec("SELECT 1")],
        });
        baton = ping.body.baton;
        if (ping.status !== 200) readerError = ping.body.code;
      }
    })();
    const fleet = createClient({ url: `${server.url}/db/fleet/`, authToken: tokens.fleet });
    try {
      const migration = fleet.execute("ALTER TABLE t ADD COLUMN y INTEGER");
      await victimIsServed();
      await migration;
    } finally {
      fleet.close();
    }
    await pinging;
    expect(readerError).toBe("TRANSACTION_TIMEOUT");
    expect((await latestJob()).status).toBe("RunSuccess");
    for (const db of ["fleet", "c1", "c2", "c3"]) expect(columnsOn(db)).toEqual(["x", "y"]);
    const writer = createClient({ url: `${server.url}/db/c1/`, authToken: tokens.c1 });
    try {
      await writer.execute("INSERT INTO t (x, y) VALUES (1, 2)");
    } finally {
      writer.close();
    }
  }, 90_000);

  it("the server finishes a committed job whose process died, without a manual resume", async () => {
    // A reader outside the server holds c2, so the CLI's job is stuck in its run phase after the commit point.
    const holder = new Database(engine.getDatabase("c2").path);
    holder.exec("BEGIN; SELECT count(*) FROM t");
    const catalog = new Database(path.join(dataDir, "catalog.db"), { readonly: true });
    const previous = (await latestJob()).job_id;
    const cli = spawn(
      CLI,
      ["--data-dir", dataDir, "db", "shell", "fleet", "ALTER TABLE t ADD COLUMN z INTEGER"],
      {
        stdio: "ignore",
      },
    );
    const exited = new Promise((resolve) => cli.on("exit", resolve));
    try {
      for (;;) {
        const row = (catalog
          .prepare("SELECT state FROM jobs WHERE id > ? ORDER BY id DESC LIMIT 1")
          .get(previous) as { state: string } | undefined) ?? { state: "none yet" };
        if (row.state === "committed") break;
        if (row.state === "failed" || row.state === "succeeded") throw new Error(`job ended ${row.state}`);
        await sleep(50);
      }
      await sleep(300);
      cli.kill("SIGKILL");
      await exited;
      const stranded = await latestJob();
      expect(stranded.status).toBe("WaitingRun");
      await victimIsServed();
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
      catalog.close();
    }
    // Nobody runs `db migrations resume`: the server notices the job has no owner and finishes it.
    for (;;) {
      const job = await latestJob();
      if (job.status === "RunSuccess") break;
      expect(job.status).toBe("WaitingRun");
      await sleep(200);
    }
    for (const db of ["fleet", "c1", "c2", "c3"]) expect(columnsOn(db)).toEqual(["x", "y", "z"]);
    const writer = createClient({ url: `${server.url}/db/c2/`, authToken: tokens.c2 });
    try {
      await writer.execute("INSERT INTO t (x, y, z) VALUES (1, 2, 3)");
      expect(Number((await writer.execute("SELECT count(*) AS n FROM t")).rows[0]?.n)).toBe(1);
    } finally {
      writer.close();
    }
    await serverIsAlive();
  }, 120_000);
});

describe("the server's log", () => {
  it("names the data directory and address at start, and each request in one line", () => {
    expect(server.stderr()).toContain(`serving data directory ${dataDir} on ${server.url}`);
    expect(server.stderr()).toMatch(/^POST \/db\/good\/v2\/pipeline good 200 \d+\.\dms$/m);
    expect(server.stderr()).toMatch(/^POST \/db\/evil\/v2\/pipeline evil 400 \d+\.\dms$/m);
  });
});
