import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "@tursodatabase/serverless";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { leaveJobIncomplete } from "../helpers.js";
import { type Harness, rejection, startHarness } from "./harness.js";

/**
 * A write that meets a migration's fence waits for it in the server (an executor never waits: it serves
 * many tenants), then goes through; past the server's bound it is answered BLOCKED with the job's
 * progress. The fence here is a job left committed and incomplete by an injected I/O error on one child:
 * its other databases are migrated and take writes, that one stays fenced until the job is resumed.
 */

let h: Harness;
const children = ["tenant-1", "tenant-2", "tenant-3", "tenant-4"];
beforeAll(async () => {
  // The server must not resume the job on its own while the test looks at the fence.
  h = await startHarness({ fenceWaitMs: 4000, jobResumeEveryMs: 600_000 });
  h.engine.createGroup("default");
  await h.engine.createDatabase("parent", { type: "schema" });
  await h.engine.migrate("parent", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
  await h.engine.createChildren("parent", children);
  await leaveJobIncomplete(h.dataDir, "parent", "ALTER TABLE users ADD COLUMN phone TEXT", "tenant-2");
});
afterAll(() => h.close());

const client = async (name: string) => h.libsql(name, (await h.engine.createToken({ database: name })).jwt);

it("lets a migrated child write at once, and answers a fenced one BLOCKED after the bound, naming the job and its progress", async () => {
  const migrated = await client("tenant-1");
  await migrated.execute({ sql: "INSERT INTO users (name, phone) VALUES (?, ?)", args: ["a", "555"] });

  const fenced = await client("tenant-2");
  const err = await rejection(fenced.execute("INSERT INTO users (name) VALUES ('refused')"));
  expect(err.code).toBe("BLOCKED");
  const [job] = h.engine.listJobs("parent");
  expect(err.message).toContain(
    `schema migration in progress: job ${job?.id}, 3 of 5 databases migrated; waited`,
  );
  // Reads are never fenced.
  expect((await fenced.execute("SELECT count(*) AS n FROM users")).rows[0]?.n).toBe(0n);
});

it("answers reads over /v3/cursor (@tursodatabase/serverless) on a fenced child at once", async () => {
  const conn = connect({
    url: h.dbUrl("tenant-2").replace(/\/$/, ""),
    authToken: (await h.engine.createToken({ database: "tenant-2" })).jwt,
  });
  try {
    expect(await conn.all("SELECT count(*) AS n FROM users")).toEqual([{ n: 0 }]);
  } finally {
    await conn.close();
  }
});

it("makes fenced writes wait until the job is resumed, then runs each once: a pipeline's and a cursor's", async () => {
  const fenced = await client("tenant-2");
  // Each cursor request of this client is a batch on a stream it keeps, ending with an autocommit probe:
  // run again only because its write failed and nothing else in it wrote (executor/retry.ts).
  const conn = connect({
    url: h.dbUrl("tenant-2").replace(/\/$/, ""),
    authToken: (await h.engine.createToken({ database: "tenant-2" })).jwt,
  });
  try {
    const write = fenced.execute("INSERT INTO users (name) VALUES ('waited')");
    const cursorWrite = conn.run("INSERT INTO users (name) VALUES (?)", "waited over cursor");
    await sleep(200);
    expect((await h.engine.resumeMigrations("parent"))?.state).toBe("succeeded");
    await write;
    expect((await cursorWrite).changes).toBe(1);
  } finally {
    await conn.close();
  }
  const file = new Database(h.engine.getDatabase("tenant-2").path, { readonly: true });
  try {
    expect(file.prepare("SELECT name FROM users ORDER BY name").pluck().all()).toEqual([
      "waited",
      "waited over cursor",
    ]);
    expect(
      file.prepare("SELECT count(*) FROM pragma_table_info('users') WHERE name = 'phone'").pluck().get(),
    ).toBe(1);
  } finally {
    file.close();
  }
});
