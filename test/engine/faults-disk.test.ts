import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../cli/errors.js";
import { type Engine, openEngine, storageError } from "../../engine/index.js";
import { toStatus } from "../../provider/status.js";
import { errorReply } from "../../server/http-errors.js";
import { listFiles, rejectsWith, runCli } from "../helpers.js";
import { exec, hrana, startServeProcess } from "../server/serve-process.js";

/**
 * A data directory on a small tmpfs, filled at chosen moments. Mounting needs root (CI runs as root); as
 * anyone else the suite checks what it can without a filesystem of its own and says why.
 */
const isRoot = process.getuid?.() === 0;
let mountPoint = "";

beforeAll(() => {
  if (!isRoot) {
    console.warn("faults-disk: not root, so no tmpfs can be mounted; checking ENOSPC from /dev/full only");
    return;
  }
  mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mountPoint]);
});

afterAll(() => {
  if (!mountPoint) return;
  execFileSync("umount", [mountPoint]);
  fs.rmdirSync(mountPoint);
});

/** Fills the filesystem, then gives back `leave` bytes (tmpfs frees whole pages at once). */
function fill(dir: string, leave: number): void {
  const file = path.join(dir, "filler");
  const fd = fs.openSync(file, "a");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOSPC") throw e;
  }
  try {
    for (;;) fs.writeSync(fd, chunk, 0, 4096);
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOSPC") throw e;
  } finally {
    fs.closeSync(fd);
  }
  if (leave > 0) fs.truncateSync(file, Math.max(0, fs.statSync(file).size - leave));
}

function unfill(dir: string): void {
  fs.rmSync(path.join(dir, "filler"), { force: true });
}

let trial = 0;
/** A fresh data directory on the tmpfs with a schema database, a table and `children` children. */
async function fleet(children: number, opts: { dryRunMemory?: number } = {}) {
  const root = path.join(mountPoint, `t${trial++}`);
  fs.mkdirSync(root);
  const dataDir = path.join(root, "data");
  const engine = await openEngine(dataDir, { workers: 2, ...opts });
  engine.createGroup("default");
  await engine.createDatabase("parent", { type: "schema" });
  await engine.migrate("parent", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
  await engine.createChildren(
    "parent",
    Array.from({ length: children }, (_, i) => `tenant-${i}`),
  );
  return { engine, dataDir, root };
}

/** Every file under dbs/ the catalog does not name, and every file left in tmp/. */
function strays(dataDir: string): string[] {
  const catalog = new Database(path.join(dataDir, "catalog.db"), { readonly: true });
  try {
    const named = new Set(catalog.prepare("SELECT path FROM databases").pluck().all() as string[]);
    return [
      ...listFiles(path.join(dataDir, "dbs"))
        .map((f) => path.join("dbs", f))
        .filter((f) => f.endsWith(".db") && !named.has(f)),
      ...listFiles(path.join(dataDir, "tmp")),
    ];
  } finally {
    catalog.close();
  }
}

/** About 2 MB of new rows: more than a filled tmpfs can take, however the last pages fell. */
const BIG_INSERT = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
  INSERT INTO users (name) SELECT hex(randomblob(500)) FROM n`;

async function rows(engine: Engine, db: string): Promise<unknown> {
  const [r] = await engine.execute(db, "SELECT count(*), sum(length(name)) FROM users");
  return r?.rows[0];
}

describe("a full disk", () => {
  it("names ENOSPC as DISK_FULL wherever it comes from (/dev/full, without root too)", () => {
    let thrown: unknown;
    try {
      fs.writeFileSync("/dev/full", "x");
    } catch (e) {
      thrown = e;
    }
    const err = storageError(thrown, { phase: "create", database: "tenant-1" });
    expect(err?.code).toBe("DISK_FULL");
    expect(err?.message).toMatch(/^disk full during create on database "tenant-1": ENOSPC/);
    // The faces: a 507 from the server (also for an error that escaped unnamed), a gRPC status from the provider.
    expect(errorReply(err).status).toBe(507);
    expect(errorReply(thrown).body.code).toBe("DISK_FULL");
    expect(toStatus("Create", err).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it("refuses a create with DISK_FULL, leaves no file behind, and creates once there is room", async () => {
    if (!isRoot) return; // see the warning printed by beforeAll
    const { engine, dataDir, root } = await fleet(2);
    try {
      fill(root, 64 * 1024);
      const message = await rejectsWith(
        engine.createChildren(
          "parent",
          Array.from({ length: 50 }, (_, i) => `late-${i}`),
        ),
        "DISK_FULL",
      );
      expect(message).toMatch(/disk full during create on database "late-0" and 49 more/);
      expect(engine.countDatabases({ schemaParent: "parent" })).toBe(2);
      expect(strays(dataDir)).toEqual([]);
      unfill(root);
      await engine.createChildren(
        "parent",
        Array.from({ length: 50 }, (_, i) => `late-${i}`),
      );
      expect(engine.countDatabases({ schemaParent: "parent" })).toBe(52);
    } finally {
      engine.close();
    }
  }, 120_000);

  it("serves reads while full — a new engine, the CLI's db list, db show and a SELECT — and refuses writes clearly", async () => {
    if (!isRoot) return; // see the warning printed by beforeAll
    const { engine, dataDir, root } = await fleet(3);
    await engine.execute("tenant-1", "INSERT INTO users (name) VALUES ('ada')");
    engine.close(); // the catalog's -wal and -shm go with the last connection: a new one needs space
    fill(root, 0);
    try {
      const reader = await openEngine(dataDir, { workers: 1 });
      try {
        expect(reader.listDatabases().map((d) => d.name)).toEqual([
          "parent",
          "tenant-0",
          "tenant-1",
          "tenant-2",
        ]);
        expect(await rows(reader, "tenant-1")).toEqual([1n, 3n]);
        const message = await rejectsWith(
          reader.createDatabase("more", { schemaParent: "parent" }),
          "DISK_FULL",
        );
        expect(message).toMatch(/disk full during create on database "more"/);
        // A tenant's own write names the tenant, not the catalog.
        expect(await rejectsWith(reader.execute("tenant-1", BIG_INSERT), "DISK_FULL")).toMatch(
          /^disk full during query on database "tenant-1": /,
        );
        expect(await rows(reader, "tenant-1")).toEqual([1n, 3n]);
      } finally {
        reader.close();
      }
      const env = { TENANTDB_DATA_DIR: dataDir };
      const list = await runCli(["db", "list"], { env });
      expect(list.stderr).toBe("");
      expect(list.stdout).toMatch(/tenant-2/);
      const show = await runCli(["db", "show", "tenant-1"], { env });
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(/tenant-1/);
      const select = await runCli(["db", "shell", "tenant-1", "SELECT name FROM users"], { env });
      expect(select.code).toBe(0);
      expect(select.stdout).toMatch(/ada/);
      const write = await runCli(["db", "shell", "tenant-1", BIG_INSERT], { env });
      expect(write.code).toBe(EXIT_CODES.DISK_FULL);
      expect(write.stderr).toMatch(/^Error: disk full during query on database "tenant-1": /);
      const create = await runCli(["db", "create", "more", "--schema", "parent"], { env });
      expect(create.code).not.toBe(0);
      expect(create.stderr).toMatch(/^Error: disk full during /);
      expect(create.stderr).not.toMatch(/please report/);
    } finally {
      unfill(root);
    }
    expect(strays(dataDir)).toEqual([]);
  }, 120_000);

  it("answers a full disk over HTTP: a Hrana write names its database, a Platform API create is a 507, reads go on", async () => {
    if (!isRoot) return; // see the warning printed by beforeAll
    const { engine, dataDir, root } = await fleet(2);
    await engine.execute("tenant-1", "INSERT INTO users (name) VALUES ('ada')");
    const { token: apiToken } = engine.mintApiToken("disk");
    const { jwt } = await engine.createToken({ database: "tenant-1" });
    engine.close();
    const server = await startServeProcess(dataDir);
    try {
      fill(root, 0);
      const reply = await hrana(server.url, "tenant-1", jwt, {
        requests: [exec(BIG_INSERT), exec("SELECT name FROM users"), { type: "close" }],
      });
      expect(reply.status).toBe(200);
      const [write, read] = reply.body.results ?? [];
      expect(write?.error?.code).toBe("SQLITE_FULL");
      expect(write?.error?.message).toMatch(/^disk full during query on database "tenant-1": /);
      expect(read?.response?.result?.rows).toEqual([[{ type: "text", value: "ada" }]]);
      const created = await fetch(`${server.url}/v1/organizations/local/databases`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "more", group: "default", schema: "parent" }),
      });
      const body = (await created.json()) as { code?: string; error?: string; message?: string };
      expect({ status: created.status, code: body.code }).toEqual({ status: 507, code: "DISK_FULL" });
      expect(JSON.stringify(body)).toMatch(/disk full during create on database \\"more\\"/);
      expect(server.stderr()).not.toMatch(/please report/);
    } finally {
      unfill(root);
      await server.stop();
    }
    expect(strays(dataDir)).toEqual([]);
  }, 120_000);

  it("fails a migration whose dry run runs out of space, records why, and changes nothing", async () => {
    if (!isRoot) return; // see the warning printed by beforeAll
    // A small dryRunMemory sends the big tenant's dry run to an on-disk journal, which needs room.
    const { engine, dataDir, root } = await fleet(4, { dryRunMemory: 256 * 1024 });
    try {
      await engine.execute(
        "tenant-2",
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
           INSERT INTO users (name) SELECT printf('user-%06d-%s', i, hex(randomblob(20))) FROM n`,
      );
      const before = await rows(engine, "tenant-2");
      // Filled the moment the dry run starts, the job recorded (a little room left for the catalog).
      let filled = false;
      const message = await rejectsWith(
        engine.migrate("parent", "UPDATE users SET name = upper(name)", {
          onProgress: (p) => {
            if (p.phase !== "dry_run" || filled) return;
            filled = true;
            fill(root, 128 * 1024);
          },
        }),
        "DISK_FULL",
      );
      expect(message).toMatch(/nothing was changed: disk full during dry run on database "tenant-2"/);
      const [job] = engine.listJobs("parent");
      expect(job?.state).toBe("failed");
      expect(job?.error).toMatch(/disk full during dry run on database "tenant-2"/);
      expect(await rows(engine, "tenant-2")).toEqual(before);
      unfill(root);
      expect(await rows(engine, "tenant-2")).toEqual(before);
      await engine.migrate("parent", "UPDATE users SET name = upper(name)");
      expect(engine.getDatabase("tenant-2").schemaVersion).toBe(2);
      expect(await scalarOf(engine, "tenant-2", "SELECT count(*) FROM users WHERE name != upper(name)")).toBe(
        0n,
      );
    } finally {
      unfill(root);
      engine.close();
    }
    expect(strays(dataDir)).toEqual([]);
  }, 120_000);

  it("leaves a job that runs out of space in its run phase committed and resumable, with the reason recorded", async () => {
    if (!isRoot) return; // see the warning printed by beforeAll
    const { engine, dataDir, root } = await fleet(12);
    try {
      // Each tenant ~300 KB: the run phase's undo log needs a few MB per batch, the dry run nothing.
      for (let i = 0; i < 12; i++) {
        await engine.execute(
          `tenant-${i}`,
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
             INSERT INTO users (name) SELECT printf('u%d-%s', i, hex(randomblob(24))) FROM n`,
        );
      }
      // Filled the moment the run phase starts, past the commit point (a little room left for the catalog).
      let filled = false;
      const message = await rejectsWith(
        engine.migrate("parent", "ALTER TABLE users ADD COLUMN phone TEXT", {
          onProgress: (p) => {
            if (p.phase !== "run" || filled) return;
            filled = true;
            fill(root, 128 * 1024);
          },
        }),
        "DISK_FULL",
      );
      expect(message).toMatch(/committed but incomplete/);
      expect(message).toMatch(/disk full during run on database "tenant-\d+"/);
      expect(message).toMatch(/tenantdb db migrations resume parent/);
      const [job] = engine.listJobs("parent");
      expect(job?.state).toBe("committed");
      expect(job?.error).toMatch(/disk full during run/);
      // Reads go on while full.
      expect((await rows(engine, "tenant-3")) as unknown[]).toHaveLength(2);

      unfill(root);
      const resumed = await engine.resumeMigrations("parent");
      expect(resumed?.state).toBe("succeeded");
      for (const db of engine.listDatabases()) {
        expect(db.schemaVersion).toBe(2);
        const file = new Database(db.path, { readonly: true });
        expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
        expect(
          file.prepare("SELECT count(*) FROM pragma_table_info('users') WHERE name = 'phone'").pluck().get(),
        ).toBe(1);
        if (db.type === "child") expect(file.prepare("SELECT count(*) FROM users").pluck().get()).toBe(4000);
        file.close();
      }
    } finally {
      unfill(root);
      engine.close();
    }
    expect(strays(dataDir)).toEqual([]);
  }, 180_000);
});

async function scalarOf(engine: Engine, db: string, sql: string): Promise<unknown> {
  const [r] = await engine.execute(db, sql);
  return r?.rows[0]?.[0];
}
