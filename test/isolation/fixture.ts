import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Engine } from "../../engine/index.js";

/**
 * One tenant fleet for the isolation suites (engine, CLI, HTTP): a schema database `app` whose migration
 * gives every child a table with an index, an FTS4 and an FTS5 table; children `c1` (the hostile tenant's)
 * and `c2` (a neighbour that allows attach); a standard `catalog` that allows attach; and tokens for c1
 * that may attach both, read-only and full-access.
 */
export const APP_SCHEMA = [
  "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
  "CREATE INDEX users_name ON users(name)",
  "CREATE VIRTUAL TABLE notes USING fts4(body)",
  "CREATE VIRTUAL TABLE docs USING fts5(body)",
  "INSERT INTO users (name) VALUES ('seed')",
].join("; ");

export interface Fleet {
  readOnly: string;
  readWrite: string;
  /** Full access on c1 with no attach rights at all. */
  plain: string;
}

export async function buildFleet(engine: Engine): Promise<Fleet> {
  engine.createGroup("g");
  await engine.createDatabase("app", { group: "g", type: "schema" });
  await engine.migrate("app", APP_SCHEMA);
  for (const child of ["c1", "c2"]) {
    await engine.createDatabase(child, { schemaParent: "app" });
    // Several FTS segments each, so that an optimize would have work to do.
    for (let i = 0; i < 3; i++) {
      await engine.execute(
        child,
        `INSERT INTO notes VALUES ('note ${i} of ${child}'); INSERT INTO docs VALUES ('doc ${i} of ${child}'); INSERT INTO users (name) VALUES ('u${i}')`,
      );
    }
  }
  engine.updateDatabaseConfig("c2", { allowAttach: true });
  await engine.createDatabase("catalog", { group: "g" });
  await engine.execute(
    "catalog",
    "CREATE TABLE promotions (category TEXT, discount REAL); CREATE INDEX promotions_category ON promotions(category); INSERT INTO promotions VALUES ('books', 0.1), ('games', 0.25); CREATE VIRTUAL TABLE blurbs USING fts4(body); INSERT INTO blurbs VALUES ('one'); INSERT INTO blurbs VALUES ('two')",
  );
  engine.updateDatabaseConfig("catalog", { allowAttach: true });
  const attach = ["c2", "catalog"];
  return {
    readOnly: (await engine.createToken({ database: "c1", authorization: "read-only", attach })).jwt,
    readWrite: (await engine.createToken({ database: "c1", attach })).jwt,
    plain: (await engine.createToken({ database: "c1" })).jwt,
  };
}

/** Every file under the data directory but the catalog (which other processes may checkpoint), hashed. */
export function fileHashes(dataDir: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const rel of fs.readdirSync(dataDir, { recursive: true }) as string[]) {
    if (rel.startsWith("catalog.db") || rel.startsWith("locks")) continue;
    const file = path.join(dataDir, rel);
    if (!fs.statSync(file).isFile()) continue;
    hashes.set(rel, createHash("sha256").update(fs.readFileSync(file)).digest("hex"));
  }
  return hashes;
}

/** The files whose bytes differ (or that appeared or went) between two hashings. */
export function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}

/** The schema cookie (`PRAGMA schema_version`) as the file holds it: bytes 40–43 of the header. */
export function schemaVersionOf(file: string): number {
  const fd = fs.openSync(file, "r");
  try {
    const header = Buffer.alloc(4);
    fs.readSync(fd, header, 0, 4, 40);
    return header.readUInt32BE(0);
  } finally {
    fs.closeSync(fd);
  }
}

/** The attacks of issue 11, each with the database whose files it targets. KELVIN is U+212A. */
export const KELVIN = "\u212A";
