import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OWNER, type Principal } from "../../engine/index.js";
import { suiteEngine } from "../helpers.js";
import {
  describeCase,
  generateCase,
  observe,
  rngFor,
  type Setup,
  seedOfRun,
  setUpFleet,
  violations,
} from "../isolation/generated.js";

/**
 * Several thousand generated statements through the engine API, from a seeded grammar of SQLite features,
 * each case checked on the files. A failure prints its seed: TENANTDB_ISOLATION_SEED=<seed> replays it.
 */

const CASES = Number(process.env.TENANTDB_ISOLATION_CASES) || 3000;
const seed = seedOfRun();

let engine: Awaited<ReturnType<typeof suiteEngine>>;
let setup: Setup;
const principals = new Map<string, Principal>();
beforeAll(async () => {
  engine = await suiteEngine();
  setup = await setUpFleet(engine);
  for (const actor of setup.actors) {
    if (actor.token) principals.set(actor.name, await engine.authenticate(actor.token, actor.db));
  }
});
afterAll(() => engine.dispose());

describe(`generated statements (seed ${seed})`, () => {
  // Generous: the invariants are checked on the files after every case, on a machine that may be shared.
  // The seed is in the title, which the reporter prints with the duration, so a slow run can be replayed.
  it(`hold the isolation invariants over ${CASES} cases (seed ${seed})`, { timeout: 300_000 }, async () => {
    const rng = rngFor(seed);
    const cwdBefore = fs.readdirSync(process.cwd()).sort();
    let refused = 0;
    let ran = 0;
    // Each case's "after" is the next one's "before": nothing else touches the files in between.
    let before = observe(engine);
    for (let index = 0; index < CASES; index++) {
      const c = generateCase(rng, index, setup);
      const principal = principals.get(c.actor.name) ?? OWNER;
      // A tenant's own BEGIN IMMEDIATE with one database attached twice waits on itself: keep such waits short.
      const session = engine.openSession(c.actor.db, principal, { busyTimeoutMs: 100 });
      try {
        // A tenant may trade its own durability for speed; it keeps thousands of commits off fsync here.
        await session.execute("PRAGMA synchronous = OFF");
        for (const sql of c.sqls) {
          try {
            await session.execute(sql);
            ran++;
          } catch (e) {
            const code = (e as { code?: string }).code;
            // Refusals and SQLite's own errors only: anything else is a bug whatever the input.
            expect(code, `${describeCase(seed, c)}\n  -> ${(e as Error).message}`).toMatch(
              /^(PERMISSION_DENIED|BLOCKED|INVALID_ARGUMENT|NOT_FOUND|FAILED_PRECONDITION|CONFLICT)$/,
            );
            refused++;
          }
        }
      } finally {
        session.close();
      }
      const after = observe(engine);
      expect(violations(c, before, after), describeCase(seed, c)).toEqual([]);
      before = after;
    }
    // The grammar reaches both sides: statements that run and statements that are refused.
    expect(ran, `seed ${seed}`).toBeGreaterThan(CASES / 4);
    expect(refused, `seed ${seed}`).toBeGreaterThan(CASES / 4);
    expect(fs.readdirSync(process.cwd()).sort(), `seed ${seed}`).toEqual(cwdBefore);
  });
});
