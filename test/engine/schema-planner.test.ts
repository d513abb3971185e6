import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { suiteEngine } from "../helpers.js";
import {
  checks,
  desiredShape,
  differencesFrom,
  fileOf,
  fleetIn,
  onFile,
  pragmaShape,
  rowsOf,
} from "./schema-fleet.js";

interface Case {
  name: string;
  current: string;
  /** Rows put in each child (the current schema's migration may put rows in every database too). */
  seed: (child: string, i: number) => string | undefined;
  desired: string;
  /** How to check the rows after the change, given the rows before; default: every row keeps its values. */
  rows?: (before: Record<string, string[]>, after: Record<string, string[]>) => void;
  /** Expected in the plan: a statement matching each. */
  statements?: RegExp[];
  lint?: string[];
}

const T = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)";
const seedT = (child: string, i: number) => `INSERT INTO t (a) VALUES ('${child}-1'), ('${i}'), (NULL)`;
const rowCounts = (rows: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(rows).map(([t, r]) => [t, r.length]));
const sameCounts = (before: Record<string, string[]>, after: Record<string, string[]>) =>
  expect(rowCounts(after)).toEqual(rowCounts(before));
/** Every row of every table is still there with the values it had (columns the change added aside). */
const sameRows = (before: Record<string, string[]>, after: Record<string, string[]>) => {
  sameCounts(before, after);
  for (const [table, rows] of Object.entries(before)) {
    const was = rows.map((r) => JSON.parse(r) as Record<string, unknown>);
    const now = (after[table] ?? []).map((r) => JSON.parse(r) as Record<string, unknown>);
    expect(
      now.map((row, i) => Object.fromEntries(Object.keys(was[i] ?? {}).map((k) => [k, row[k]]))),
      table,
    ).toEqual(was);
  }
};

const cases: Case[] = [
  {
    name: "add a column",
    current: T,
    seed: seedT,
    desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER DEFAULT 7)",
    statements: [/^ALTER TABLE "t" ADD COLUMN b INTEGER DEFAULT 7$/],
    rows: (before, after) => {
      expect(after.t?.map((r) => JSON.parse(r).b)).toEqual(before.t?.map(() => 7));
      expect(after.t?.map((r) => JSON.parse(r).a)).toEqual(before.t?.map((r) => JSON.parse(r).a));
    },
  },
  {
    name: "drop a column",
    current: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)",
    seed: (c) => `INSERT INTO t (a, b) VALUES ('${c}', 'gone')`,
    desired: T,
    statements: [/^ALTER TABLE "t" DROP COLUMN "b"$/],
    lint: ["DS103", "BC104"],
    rows: (before, after) =>
      expect(after.t).toEqual(before.t?.map((r) => JSON.stringify({ ...JSON.parse(r), b: undefined }))),
  },
  {
    name: "add a NOT NULL column with a default",
    current: T,
    seed: seedT,
    desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c TEXT NOT NULL DEFAULT 'x')",
    statements: [/ADD COLUMN c TEXT NOT NULL DEFAULT 'x'/],
  },
  {
    name: "add a NOT NULL column without a default to a table that is empty everywhere",
    current: `${T}; CREATE TABLE e (id INTEGER PRIMARY KEY)`,
    seed: seedT,
    desired: `${T}; CREATE TABLE e (id INTEGER PRIMARY KEY, must TEXT NOT NULL)`,
    statements: [/^CREATE TABLE "_new_e"/, /^DROP TABLE "e"$/, /^ALTER TABLE "_new_e" RENAME TO "e"$/],
    lint: ["MF103", "RB101"],
  },
  {
    name: "change a column's type",
    current: T,
    seed: (c, i) => `INSERT INTO t (a) VALUES ('${i}${i}'), ('${c}')`,
    desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)",
    lint: ["MF105", "RB101"],
    rows: (before, after) => {
      expect(after.t?.map((r) => JSON.parse(r).id)).toEqual(before.t?.map((r) => JSON.parse(r).id));
      // Integer-looking text takes INTEGER affinity; other text stays as it was.
      expect(after.t?.map((r) => JSON.parse(r).a)).toEqual(
        before.t?.map((r) => {
          const a = JSON.parse(r).a;
          return /^\d+$/.test(a) ? Number(a) : a;
        }),
      );
    },
  },
  {
    name: "add a CHECK",
    current: T,
    seed: (c) => `INSERT INTO t (a) VALUES ('${c}')`,
    desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT CHECK (length(a) > 3))",
    lint: ["MF101", "RB101"],
  },
  {
    name: "drop a CHECK",
    current: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, CHECK (length(a) > 3))",
    seed: (c) => `INSERT INTO t (a) VALUES ('${c}')`,
    desired: T,
    lint: ["RB101"],
  },
  {
    name: "add a foreign key",
    current: "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER)",
    seed: (_c, i) =>
      `INSERT INTO p (id) VALUES (${i}), (10); INSERT INTO c (pid) VALUES (${i}), (10), (NULL)`,
    desired:
      "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p (id))",
    lint: ["MF101", "RB101"],
  },
  {
    name: "drop a foreign key",
    current:
      "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p (id))",
    seed: (_c, i) => `INSERT INTO p (id) VALUES (${i}); INSERT INTO c (pid) VALUES (${i})`,
    desired: "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER)",
    lint: ["RB101"],
  },
  {
    name: "add a UNIQUE constraint",
    current: T,
    seed: (c) => `INSERT INTO t (a) VALUES ('${c}-1'), ('${c}-2')`,
    desired: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT UNIQUE)",
    lint: ["MF101", "RB101"],
  },
  {
    name: "drop a UNIQUE constraint",
    current: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, UNIQUE (a))",
    seed: (c) => `INSERT INTO t (a) VALUES ('${c}-1'), ('${c}-2')`,
    desired: T,
  },
  {
    name: "partial and expression indexes",
    current: `${T}; CREATE INDEX t_a ON t (a)`,
    seed: seedT,
    desired: `${T}; CREATE INDEX t_a ON t (a) WHERE a IS NOT NULL; CREATE UNIQUE INDEX t_lower ON t (lower(a), id)`,
    statements: [
      /^DROP INDEX "t_a"$/,
      /^CREATE INDEX t_a ON t \(a\) WHERE a IS NOT NULL$/,
      /^CREATE UNIQUE INDEX t_lower/,
    ],
    lint: ["MF102"],
  },
  {
    name: "views and triggers on a rebuilt table",
    current: `${T}; CREATE TABLE log (msg TEXT);
      CREATE VIEW named AS SELECT id, a FROM t WHERE a IS NOT NULL;
      CREATE VIEW counted AS SELECT count(*) AS n FROM named;
      CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log (msg) VALUES (new.a); END;
      CREATE TRIGGER log_t AFTER INSERT ON log WHEN new.msg = 'again' BEGIN UPDATE t SET a = 'seen' WHERE a = 'again'; END`,
    seed: seedT,
    desired: `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL DEFAULT '' COLLATE NOCASE); CREATE TABLE log (msg TEXT);
      CREATE VIEW named AS SELECT id, a FROM t WHERE a IS NOT NULL;
      CREATE VIEW counted AS SELECT count(*) AS n FROM named;
      CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log (msg) VALUES (new.a); END;
      CREATE TRIGGER log_t AFTER INSERT ON log WHEN new.msg = 'again' BEGIN UPDATE t SET a = 'seen' WHERE a = 'again'; END`,
    lint: ["RB101"],
    rows: (before, after) => {
      sameCounts(before, after);
      // The NULL became the default; the rebuild's copy fired no trigger (log unchanged).
      expect(after.t?.map((r) => JSON.parse(r).a)).toEqual(before.t?.map((r) => JSON.parse(r).a ?? ""));
      expect(after.log).toEqual(before.log);
    },
  },
  {
    name: "a table referenced with ON DELETE CASCADE is rebuilt without deleting a child row",
    current: `CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT);
      CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL REFERENCES p (id) ON DELETE CASCADE);
      INSERT INTO p (id, name) VALUES (1, 'shared'); INSERT INTO c (pid) VALUES (1), (1)`,
    seed: (c, i) =>
      `INSERT INTO p (id, name) VALUES (${i + 10}, '${c}'); INSERT INTO c (pid) VALUES (${i + 10}), (${i + 10}), (1)`,
    desired: `CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'unnamed' CHECK (name <> ''));
      CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL REFERENCES p (id) ON DELETE CASCADE)`,
    statements: [/^DROP TABLE "p"$/],
    lint: ["RB101"],
  },
  {
    name: "a WITHOUT ROWID table with a generated column and a self-reference, rebuilt",
    current: `CREATE TABLE node (k TEXT PRIMARY KEY, parent TEXT REFERENCES node (k) ON DELETE CASCADE,
        w INTEGER, w2 INTEGER GENERATED ALWAYS AS (w * 2) VIRTUAL) WITHOUT ROWID;
      INSERT INTO node (k, parent, w) VALUES ('root', NULL, 1), ('leaf', 'root', 2)`,
    seed: (c) => `INSERT INTO node (k, parent, w) VALUES ('${c}', 'root', 3), ('${c}-x', '${c}', NULL)`,
    desired: `CREATE TABLE node (k TEXT PRIMARY KEY, parent TEXT REFERENCES node (k) ON DELETE CASCADE,
        w INTEGER NOT NULL DEFAULT 0, w2 INTEGER GENERATED ALWAYS AS (w * 3) STORED) WITHOUT ROWID`,
    lint: ["RB101"],
    rows: (before, after) => {
      const parse = (rows: string[] | undefined) => (rows ?? []).map((r) => JSON.parse(r));
      expect(parse(after.node).map((r) => [r.k, r.parent, r.w, r.w2])).toEqual(
        parse(before.node).map((r) => [r.k, r.parent, r.w ?? 0, (r.w ?? 0) * 3]),
      );
    },
  },
  {
    name: "declared renames of a table and a column",
    current: `CREATE TABLE persons (id INTEGER PRIMARY KEY, a TEXT);
      CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER REFERENCES persons (id));
      CREATE INDEX persons_a ON persons (a)`,
    seed: (c, i) =>
      `INSERT INTO persons (id, a) VALUES (${i}, '${c}'); INSERT INTO pets (owner) VALUES (${i})`,
    desired: `-- renamed from persons
      CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        full_name TEXT -- renamed from a
      );
      CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER REFERENCES people (id));
      CREATE INDEX persons_a ON people (full_name)`,
    statements: [
      /^ALTER TABLE "persons" RENAME TO "people"$/,
      /^ALTER TABLE "people" RENAME COLUMN "a" TO "full_name"$/,
    ],
    lint: ["BC101", "BC102"],
    rows: (before, after) => {
      expect(after.people).toEqual(before.persons?.map((r) => r.replace('"a":', '"full_name":')));
      expect(after.pets).toEqual(before.pets);
    },
  },
];

describe("the planner, over a fleet with rows", () => {
  // One engine for the suite; each case has its own schema database and children.
  let engine: Awaited<ReturnType<typeof suiteEngine>>;
  beforeAll(async () => {
    engine = await suiteEngine();
    engine.createGroup("default");
  });
  afterAll(() => engine?.dispose());

  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const app = `app-${i}`;
      const children = await fleetIn(engine, app, c.current, c.seed);
      const names = [app, ...children];
      const before = new Map(names.map((n) => [n, rowsOf(fileOf(engine, n))]));
      const plan = await engine.planSchema(app, c.desired);
      expect(plan.statements.length).toBeGreaterThan(0);
      for (const re of c.statements ?? [])
        expect(
          plan.statements.some((s) => re.test(s)),
          String(re),
        ).toBe(true);
      for (const code of c.lint ?? []) expect(plan.lint.map((f) => f.code)).toContain(code);
      expect(plan.dryRun).toEqual({ databases: 4, failed: 0, failures: [] });
      const { applied } = await engine.applySchema(app, c.desired, {
        allowDestructive: true,
        expectChecksum: plan.checksum,
      });
      expect(applied?.databases).toBe(4);
      for (const n of names) {
        const file = fileOf(engine, n);
        expect(differencesFrom(file, c.desired), n).toEqual([]);
        expect(onFile(file, pragmaShape), n).toEqual(desiredShape(c.desired));
        expect(checks(file), n).toEqual({ foreignKeys: [], integrity: ["ok"] });
        const after = rowsOf(file);
        (c.rows ?? sameRows)(before.get(n) ?? {}, after);
        expect(engine.getDatabase(n).schemaVersion).toBe(2);
      }
      // The same desired schema again: nothing to do, no job.
      const again = await engine.applySchema(app, c.desired, { allowDestructive: true });
      expect(again.applied).toBeNull();
      expect(engine.listJobs(app)).toHaveLength(2);
      // History stays readable: the plan is recorded as a migration.
      expect(engine.listMigrations(app).at(-1)?.sql).toBe(plan.sql);
    });
  }

  it("formatting, comments, keyword case and quoting are no change", async () => {
    const current = `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL DEFAULT 'x' CHECK (a <> ''), b REAL);
      CREATE INDEX t_ab ON t (a, b) WHERE b > 0;
      CREATE VIEW v AS SELECT a, b FROM t WHERE b > 1;
      CREATE TRIGGER tr AFTER DELETE ON t BEGIN SELECT 1; END`;
    await fleetIn(engine, "same", current, (c) => `INSERT INTO t (a, b) VALUES ('${c}', 2)`);
    const plan = await engine.planSchema(
      "same",
      `-- the same schema, written differently
      create table "t" (
        "id"   integer primary key,
        a text not null default 'x' check(a<>''),  /* a comment */
        B real
      );
      create index T_AB on T(a,b) where b>0;
      create view v as select a,b from t where b>1;
      create trigger tr after delete on t begin select 1; end;`,
    );
    expect(plan.statements).toEqual([]);
    expect(plan.changes).toEqual([]);
    const { applied } = await engine.applySchema("same", current);
    expect(applied).toBeNull();
    expect(engine.listJobs("same")).toHaveLength(1);
  });
});
