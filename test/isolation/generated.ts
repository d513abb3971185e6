import fs from "node:fs";
import path from "node:path";
import type { Engine } from "../../engine/index.js";
import { pick, type Rng, rngFor } from "../helpers.js";
import { buildFleet, type Fleet, schemaVersionOf } from "./fixture.js";
import { statement, tempTrigger } from "./grammar.js";

/**
 * The generated-statement cases and their invariants, shared by the engine, CLI and HTTP runs. A case is
 * one session of one principal: a few statements (often after ATTACHes), each run on its own.
 */

export interface Actor {
  name: string;
  db: string;
  /** undefined: the owner (no token). */
  token?: string;
  /** Whether this actor may write its session database (and so change its files). */
  writes: boolean;
}

export interface GeneratedCase {
  index: number;
  actor: Actor;
  sqls: string[];
}

export interface Setup {
  actors: Actor[];
  ids: Record<string, string>;
  fleet: Fleet;
  /** Full access on the standard database catalog, which may attach c2. */
  catalogReadWrite: string;
}

export async function setUpFleet(engine: Engine): Promise<Setup> {
  const fleet = await buildFleet(engine);
  const catalogWriter = await engine.createToken({ database: "catalog", attach: ["c2"] });
  const appReader = await engine.createToken({
    database: "app",
    authorization: "read-only",
    attach: ["c2", "catalog"],
  });
  const actors: Actor[] = [
    { name: "read-only token on c1", db: "c1", token: fleet.readOnly, writes: false },
    { name: "read-write token on c1", db: "c1", token: fleet.readWrite, writes: true },
    { name: "token without attach on c1", db: "c1", token: fleet.plain, writes: true },
    { name: "owner on c1", db: "c1", writes: true },
    { name: "read-write token on catalog", db: "catalog", token: catalogWriter.jwt, writes: true },
    { name: "read-only token on schema database app", db: "app", token: appReader.jwt, writes: false },
  ];
  return {
    actors,
    ids: { c2: engine.getDatabase("c2").uuid, catalog: engine.getDatabase("catalog").uuid },
    fleet,
    catalogReadWrite: catalogWriter.jwt,
  };
}

export function generateCase(rng: Rng, index: number, setup: Setup, actors = setup.actors): GeneratedCase {
  const actor = pick(rng, actors);
  const sqls: string[] = [];
  const attaches = Math.floor(rng() * 3);
  const aliases: string[] = [];
  for (let i = 0; i < attaches; i++) {
    const target = pick(rng, ["c2", "catalog", `'${setup.ids.c2}'`]);
    const alias = pick(rng, ["k", "\u212A", "c", "é", "x y"]);
    aliases.push(alias);
    sqls.push(`ATTACH ${target.startsWith("'") ? target : `"${target}"`} AS "${alias}"`);
  }
  if (rng() < 0.15) {
    // A write judged, a temp trigger on what it writes, and the same text again: another program by now.
    const write = `INSERT INTO ${actor.db === "catalog" ? "promotions" : "users"} DEFAULT VALUES`;
    sqls.push(write, tempTrigger(rng, actor.db === "catalog" ? "promotions" : "users", aliases), write);
  }
  const count = 1 + Math.floor(rng() * 5);
  for (let i = 0; i < count; i++) {
    // Now and then a statement of the case again, after what came between (a temp trigger, an ATTACH):
    // the same text may be another program by now.
    sqls.push(i > 0 && rng() < 0.2 ? pick(rng, sqls) : statement(rng, setup.ids, aliases));
  }
  return { index, actor, sqls };
}

/** The bytes of every database file and journal of the fleet, and the listing of their directories. */
export interface Observation {
  files: Map<string, Buffer | null>;
  listings: string[];
  versions: number[];
}

const WATCHED = ["c1", "c2", "app"];
const FLEET = ["app", "c1", "c2", "catalog"];

export function observe(engine: Engine): Observation {
  const files = new Map<string, Buffer | null>();
  const dirs = new Set<string>();
  for (const db of FLEET) {
    const file = engine.getDatabase(db).path;
    dirs.add(path.dirname(file));
    for (const f of [file, `${file}-journal`, `${file}-wal`]) {
      files.set(`${db}${f.slice(file.length)}`, fs.existsSync(f) ? fs.readFileSync(f) : null);
    }
  }
  return {
    files,
    listings: [...dirs].flatMap((d) => fs.readdirSync(d).map((f) => path.join(d, f))).sort(),
    versions: WATCHED.map((db) => schemaVersionOf(engine.getDatabase(db).path)),
  };
}

/** What broke, if anything: the invariants of issue 11, on the files. */
export function violations(c: GeneratedCase, before: Observation, after: Observation): string[] {
  const found: string[] = [];
  const changed = [...before.files.keys()].filter((f) => {
    const a = before.files.get(f);
    const b = after.files.get(f);
    return a === null || a === undefined || b === null || b === undefined ? a !== b : !a.equals(b);
  });
  if (!c.actor.writes && changed.length > 0)
    found.push(`a read-only principal changed ${changed.join(", ")}`);
  const others = changed.filter((f) => f !== c.actor.db && !f.startsWith(`${c.actor.db}-`));
  if (others.length > 0) found.push(`files of other databases changed: ${others.join(", ")}`);
  // The session's own database may create or drop its journal; no other file may come or go.
  const ownFile = (f: string) => path.basename(f).replace(/^\d+-/, "").startsWith(`${c.actor.db}.db`);
  const appeared = after.listings.filter((f) => !before.listings.includes(f) && !ownFile(f));
  const went = before.listings.filter((f) => !after.listings.includes(f) && !ownFile(f));
  if (appeared.length + went.length > 0) {
    found.push(`files appeared: [${appeared.join(", ")}], went: [${went.join(", ")}]`);
  }
  // No job runs in these suites, so no child's (nor the schema database's) schema_version may move.
  after.versions.forEach((v, i) => {
    if (v !== before.versions[i])
      found.push(`schema_version of ${WATCHED[i]} moved from ${before.versions[i]} to ${v}`);
  });
  return found;
}

export function describeCase(seed: number, c: GeneratedCase): string {
  return `seed ${seed} (TENANTDB_ISOLATION_SEED=${seed}), case ${c.index}, ${c.actor.name}:\n  ${c.sqls.join(";\n  ")}`;
}

export function seedOfRun(): number {
  const fromEnv = Number(process.env.TENANTDB_ISOLATION_SEED);
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
}

export { rngFor };
