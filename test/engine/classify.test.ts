import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { classifyJob, classifyOnDatabase, classifyStatements } from "../../engine/jobs/classify.js";
import { tempDir } from "../helpers.js";

/** The schema every statement below is judged against: what the parent holds before the job. */
const SCHEMA: Record<string, string> = {
  users: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, profile TEXT)",
  strict_t: "CREATE TABLE strict_t (id INTEGER PRIMARY KEY, n INTEGER) STRICT",
  checked: "CREATE TABLE checked (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0))",
};
const tableSql = (name: string) => SCHEMA[name.toLowerCase()];

const ADDITIVE = [
  "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total REAL)",
  "create table if not exists t (x)",
  "CREATE VIEW active AS SELECT * FROM users WHERE name IS NOT NULL",
  "CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN UPDATE users SET name = upper(new.name) WHERE id = new.id; END",
  "CREATE INDEX users_email ON users(email)",
  "create index if not exists users_name on users (name collate nocase desc, email asc)",
  'CREATE INDEX "quoted" ON users("email")',
  "ALTER TABLE users ADD COLUMN phone TEXT",
  "alter table users add phone text",
  "ALTER TABLE users ADD COLUMN n INTEGER NOT NULL DEFAULT 0",
  "ALTER TABLE users ADD COLUMN n INTEGER DEFAULT -1",
  "ALTER TABLE users ADD COLUMN s TEXT DEFAULT 'x' COLLATE NOCASE",
  "ALTER TABLE users ADD COLUMN b BLOB NOT NULL DEFAULT (x'00')",
  "ALTER TABLE users ADD COLUMN f BOOLEAN NOT NULL DEFAULT FALSE",
  "ALTER TABLE users ADD COLUMN v VARCHAR(20) DEFAULT NULL",
  "ALTER TABLE main.users ADD COLUMN phone TEXT",
  "ALTER TABLE users RENAME TO people",
  "ALTER TABLE users RENAME COLUMN name TO full_name",
  "ALTER TABLE users RENAME name TO full_name",
  "DROP INDEX users_email",
  "drop view if exists active",
  "DROP TRIGGER users_ins",
  "/* a comment */ CREATE INDEX -- and another\n users_email ON users(email)",
];

const DATA_DEPENDENT = [
  "CREATE UNIQUE INDEX users_email ON users(email)",
  "create unique index if not exists u on users(name)",
  "CREATE INDEX users_active ON users(email) WHERE name IS NOT NULL",
  "CREATE INDEX users_age ON users(json_extract(profile, '$.age'))",
  "CREATE INDEX users_lower ON users(lower(name))",
  "CREATE INDEX users_const ON users('name')",
  "CREATE TABLE copy AS SELECT * FROM users",
  "CREATE VIRTUAL TABLE docs USING fts5(body)",
  "CREATE TEMP TABLE scratch (x)",
  "ALTER TABLE users ADD COLUMN n INTEGER NOT NULL",
  "ALTER TABLE users ADD COLUMN n INTEGER NOT NULL DEFAULT NULL",
  "ALTER TABLE users ADD COLUMN n INTEGER CHECK (n > 0)",
  "ALTER TABLE users ADD COLUMN n INTEGER DEFAULT 1 CONSTRAINT positive CHECK (n > 0)",
  "ALTER TABLE users ADD COLUMN team_id INTEGER REFERENCES teams(id)",
  "ALTER TABLE users ADD COLUMN upper_name TEXT GENERATED ALWAYS AS (upper(name)) VIRTUAL",
  "ALTER TABLE users ADD COLUMN upper_name TEXT AS (upper(name))",
  "ALTER TABLE users ADD COLUMN created TEXT DEFAULT CURRENT_TIMESTAMP",
  "ALTER TABLE users ADD COLUMN n INTEGER DEFAULT (1 + 1)",
  "ALTER TABLE users ADD COLUMN n INTEGER UNIQUE",
  "ALTER TABLE strict_t ADD COLUMN m INTEGER DEFAULT 'not a number'",
  "ALTER TABLE checked ADD COLUMN m INTEGER",
  "ALTER TABLE missing ADD COLUMN m INTEGER",
  "ALTER TABLE users DROP COLUMN email",
  "DROP TABLE users",
  "INSERT INTO users (name) VALUES ('x')",
  "UPDATE users SET name = trim(name)",
  "DELETE FROM users WHERE name IS NULL",
  "SELECT count(*) FROM users",
  "PRAGMA user_version = 3",
  "REINDEX users",
];

describe("classifying a job's statements", () => {
  it.each(ADDITIVE)("%s is additive", (sql) => {
    expect(classifyStatements([sql], tableSql)).toEqual([{ additive: true, reason: "" }]);
  });

  it.each(DATA_DEPENDENT)("%s is data-dependent", (sql) => {
    const [verdict] = classifyStatements([sql], tableSql);
    expect(verdict?.additive).toBe(false);
    expect(verdict?.reason).not.toBe("");
  });

  it("judges a job by all its statements, several to a migration", () => {
    expect(
      classifyJob(["CREATE TABLE a (x); CREATE INDEX a_x ON a(x)", "ALTER TABLE users ADD c TEXT"], tableSql),
    ).toBe("additive");
    expect(classifyJob(["CREATE TABLE a (x); UPDATE users SET name = 'x'"], tableSql)).toBe("data");
    expect(classifyJob(["CREATE TABLE a (x)", "CREATE UNIQUE INDEX a_x ON a(x)"], tableSql)).toBe("data");
  });

  it("follows tables through the job: created ones are empty, renamed ones keep what they were", () => {
    // A STRICT table made in the same job has no rows for ADD COLUMN to check.
    expect(
      classifyJob(
        ["CREATE TABLE fresh (id INTEGER) STRICT", "ALTER TABLE fresh ADD COLUMN m INTEGER DEFAULT 'x'"],
        tableSql,
      ),
    ).toBe("additive");
    // A renamed STRICT table keeps its rows and its strictness.
    expect(
      classifyJob(
        ["ALTER TABLE strict_t RENAME TO s2", "ALTER TABLE s2 ADD COLUMN m INTEGER DEFAULT 'x'"],
        tableSql,
      ),
    ).toBe("data");
    expect(
      classifyJob(["ALTER TABLE users RENAME TO people", "ALTER TABLE people ADD COLUMN m TEXT"], tableSql),
    ).toBe("additive");
  });

  it("judges against the schema database's own file", () => {
    const file = `${tempDir()}/parent.db`;
    const db = new Database(file);
    for (const sql of Object.values(SCHEMA)) db.exec(sql);
    db.close();
    expect(classifyOnDatabase(file, ["ALTER TABLE Users ADD COLUMN phone TEXT"])).toBe("additive");
    expect(classifyOnDatabase(file, ["ALTER TABLE checked ADD COLUMN phone TEXT"])).toBe("data");
  });

  // What the table above claims, checked against SQLite itself: each data-dependent ADD COLUMN that the
  // classifier blames on rows succeeds on an empty table and fails once the table has a row.
  it.each([
    "ALTER TABLE users ADD COLUMN n INTEGER NOT NULL",
    "ALTER TABLE users ADD COLUMN created TEXT DEFAULT CURRENT_TIMESTAMP",
    "ALTER TABLE users ADD COLUMN n INTEGER DEFAULT 0 CHECK (n > 0)",
    "ALTER TABLE strict_t ADD COLUMN m INTEGER DEFAULT 'not a number'",
  ])("%s really depends on rows", (sql) => {
    const table = /ALTER TABLE (\w+)/.exec(sql)?.[1] ?? "";
    const attempt = (rows: boolean) => {
      const db = new Database(":memory:");
      try {
        db.exec(SCHEMA[table] ?? "");
        if (rows) db.exec(`INSERT INTO ${table} (id) VALUES (1)`);
        db.exec(sql);
        return "ok";
      } catch (e) {
        return (e as Error).message;
      } finally {
        db.close();
      }
    };
    expect(attempt(false)).toBe("ok");
    expect(attempt(true)).not.toBe("ok");
  });
});
