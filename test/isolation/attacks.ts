import { KELVIN } from "./fixture.js";

/**
 * The leaks of issue 11 as a tenant sends them, for the CLI and HTTP suites. Each names the token it
 * uses, the session database, and the statements, run in one session in order; the last must be refused.
 */
export interface Attack {
  name: string;
  token: "readOnly" | "readWrite" | "appReadOnly" | "catalogReadWrite";
  db: string;
  sqls: string[];
}

export const ATTACKS: Attack[] = [
  {
    name: "writes through a Kelvin-sign alias after DETACH of its ASCII twin",
    token: "readWrite",
    db: "c1",
    sqls: [`ATTACH "c2" AS "${KELVIN}"`, `ATTACH "c2" AS k`, "DETACH k", `DELETE FROM "${KELVIN}".users`],
  },
  {
    name: "FTS5 command into a Kelvin-aliased neighbour",
    token: "readWrite",
    db: "c1",
    sqls: [
      `ATTACH "c2" AS "${KELVIN}"`,
      `ATTACH "c2" AS k`,
      "DETACH k",
      `INSERT INTO "${KELVIN}".docs(docs) VALUES ('delete-all')`,
    ],
  },
  {
    name: "pragma_optimize with a read-only token on a child",
    token: "readOnly",
    db: "c1",
    sqls: ["SELECT * FROM pragma_optimize(0x10002)"],
  },
  {
    name: "FTS4 optimize() with a read-only token",
    token: "readOnly",
    db: "c1",
    sqls: ["SELECT optimize(notes) FROM notes"],
  },
  {
    name: "pragma_optimize with a read-only token on a schema database",
    token: "appReadOnly",
    db: "app",
    sqls: ["SELECT * FROM pragma_optimize(0x10002)"],
  },
  {
    name: "pragma_optimize reaching an attached child",
    token: "readWrite",
    db: "c1",
    sqls: ['ATTACH "c2" AS n', "SELECT * FROM pragma_optimize(0x10002)"],
  },
  {
    name: "FTS4 optimize() of an attached child's table",
    token: "readWrite",
    db: "c1",
    sqls: ['ATTACH "c2" AS n', "SELECT optimize(notes) FROM n.notes"],
  },
  {
    // The statement matches no row, so the files stay as they were whatever the verdict: the test is the refusal.
    name: "a statement judged before a temp trigger made it write an attached child",
    token: "catalogReadWrite",
    db: "catalog",
    sqls: [
      'ATTACH "c2" AS n',
      "UPDATE promotions SET discount = 0 WHERE category = 'none'",
      "CREATE TEMP TRIGGER wipe AFTER UPDATE ON main.promotions BEGIN DELETE FROM n.users; END",
      "UPDATE promotions SET discount = 0 WHERE category = 'none'",
    ],
  },
];
