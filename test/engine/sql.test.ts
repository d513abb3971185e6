import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import {
  type Classification,
  callsFunction,
  mentionsIdentifier,
  readsOnly,
  type Statement,
  splitStatements,
} from "../../engine/sql/statements.js";
import { isTrivia, keywordOf, type Token, tokenize } from "../../engine/sql/tokenize.js";

/** The only statement in `sql`. */
function one(sql: string): Statement {
  const statements = splitStatements(sql);
  expect(statements).toHaveLength(1);
  return statements[0] as Statement;
}

/** What a statement was classified as, without its source and tokens. */
function classification(sql: string): Classification {
  const { sql: _sql, start: _start, end: _end, tokens: _tokens, ...rest } = one(sql);
  return rest;
}

const kinds = (sql: string) => splitStatements(sql).map((statement) => statement.kind);
const texts = (sql: string) => splitStatements(sql).map((statement) => statement.sql);
const significant = (sql: string) =>
  tokenize(sql)
    .filter((token) => !isTrivia(token))
    .map((token) => [token.kind, token.text]);
const only = (sql: string): Token => {
  const tokens = tokenize(sql);
  expect(tokens).toHaveLength(1);
  return tokens[0] as Token;
};

describe("tokenize", () => {
  it("covers every character of the input, in order", () => {
    const sql = "SELECT/*c*/'a''b',\"q\"\"x\"--line\n,[br],`bt`,x'0aFF',1.5e3,?2,:n;\f\t!?@ 'open";
    const tokens = tokenize(sql);
    expect(tokens.map((token) => token.text).join("")).toBe(sql);
    for (const [i, token] of tokens.entries()) {
      expect(token.text).toBe(sql.slice(token.start, token.end));
      expect(token.start).toBe(i === 0 ? 0 : tokens[i - 1]?.end);
    }
  });

  it("returns no tokens for empty input", () => {
    expect(tokenize("")).toEqual([]);
  });

  it("starts whitespace at space, tab, newline, form feed or carriage return, never vertical tab", () => {
    expect(only(" \t\n\f\r\v ").kind).toBe("space");
    expect(significant("a\vb")).toEqual([
      ["word", "a"],
      ["illegal", "\v"],
      ["word", "b"],
    ]);
  });

  it("runs a line comment to the end of its line", () => {
    const tokens = tokenize("-- one ; two\nx");
    expect(tokens.map((token) => [token.kind, token.text])).toEqual([
      ["comment", "-- one ; two"],
      ["space", "\n"],
      ["word", "x"],
    ]);
  });

  it("reads block comments, /**/ included, and does not close one on its own opening star", () => {
    expect(significant("a/**/b")).toEqual([
      ["word", "a"],
      ["word", "b"],
    ]);
    expect(only("/*/ still open */").kind).toBe("comment");
  });

  it("runs an unterminated block comment to the end of input", () => {
    expect(only("/* never closed ; DROP TABLE t")).toMatchObject({ kind: "comment", unterminated: true });
  });

  it("unquotes string literals, undoing doubled quotes", () => {
    expect(only("'it''s; -- not a comment'")).toMatchObject({
      kind: "string",
      value: "it's; -- not a comment",
    });
    expect(only("''")).toMatchObject({ kind: "string", value: "" });
  });

  it.each([
    ['"My ""Table"""', 'My "Table"'],
    ["[odd name]", "odd name"],
    ["`back``tick`", "back`tick"],
    ['"create"', "create"],
  ])("unquotes the identifier %s", (sql, value) => {
    expect(only(sql)).toMatchObject({ kind: "quoted", value });
  });

  it.each(["'open", '"open', "[open", "`open"])("flags the unterminated %s without throwing", (sql) => {
    expect(only(`${sql} ; DROP TABLE t`)).toMatchObject({
      unterminated: true,
      value: `${sql.slice(1)} ; DROP TABLE t`,
    });
  });

  it("reads blob literals and refuses malformed ones", () => {
    expect(only("x'0a1B'").kind).toBe("blob");
    expect(only("X''").kind).toBe("blob");
    expect(only("x'abc'").kind).toBe("illegal");
    expect(only("x'zz'").kind).toBe("illegal");
    expect(significant("xy'0a'")).toEqual([
      ["word", "xy"],
      ["string", "'0a'"],
    ]);
  });

  it.each(["1", "1.5", ".5", "1.", "1e10", "1.5E-3", "0x1F", "1_000"])("reads the number %s", (sql) => {
    expect(only(sql).kind).toBe("number");
  });

  it("takes a number with letters glued on as illegal, like SQLite", () => {
    expect(only("12abc").kind).toBe("illegal");
  });

  it.each(["?", "?12", ":name", "@name", "$name", "#name", ":a$b"])("reads the bind parameter %s", (sql) => {
    expect(only(sql).kind).toBe("variable");
  });

  it("takes a lone parameter prefix as illegal", () => {
    expect(significant(": x")).toEqual([
      ["illegal", ":"],
      ["word", "x"],
    ]);
  });

  it("reads words in any script, with $ and digits after the first character", () => {
    expect(significant("SELECT café, 名前, a$1 FROM _t")).toEqual([
      ["word", "SELECT"],
      ["word", "café"],
      ["operator", ","],
      ["word", "名前"],
      ["operator", ","],
      ["word", "a$1"],
      ["word", "FROM"],
      ["word", "_t"],
    ]);
  });

  it("reads multi-character operators whole", () => {
    expect(significant("a||b<=c<>d!=e==f->>g<<h>=i").filter(([kind]) => kind === "operator")).toEqual(
      ["||", "<=", "<>", "!=", "==", "->>", "<<", ">="].map((op) => ["operator", op]),
    );
    expect(only("!").kind).toBe("illegal");
  });

  it("keeps tokenizing past a NUL, so the guard sees at least what SQLite runs", () => {
    expect(significant("SELECT 1\0; DROP TABLE t").map(([, text]) => text)).toEqual([
      "SELECT",
      "1",
      "\0",
      ";",
      "DROP",
      "TABLE",
      "t",
    ]);
  });

  it("folds only ASCII letters when reading keywords", () => {
    expect(keywordOf(only("sElEcT"))).toBe("SELECT");
    expect(keywordOf(only("ſelect"))).toBeUndefined();
    expect(kinds("ſelect 1; İnsert INTO t VALUES (1)")).toEqual(["other", "other"]);
    expect(keywordOf(only('"select"'))).toBeUndefined();
  });
});

describe("splitStatements", () => {
  it.each([
    "",
    "   \n\t",
    "-- just a comment",
    "/* block */ -- and line",
    ";;; ; ;",
    "/* open comment ; SELECT 1",
  ])("finds no statements in %j", (sql) => {
    expect(splitStatements(sql)).toEqual([]);
  });

  it("gives each statement's exact source, without surrounding trivia or the ';'", () => {
    const sql = "  SELECT 1 ; -- note\n/* c */ INSERT INTO t VALUES (2) /* tail */;;\n";
    const statements = splitStatements(sql);
    expect(statements.map((statement) => statement.sql)).toEqual(["SELECT 1", "INSERT INTO t VALUES (2)"]);
    for (const statement of statements) expect(sql.slice(statement.start, statement.end)).toBe(statement.sql);
  });

  it("gives tokens without whitespace or comments", () => {
    expect(one("SELECT /* x */ 1 -- y").tokens.map((token) => token.text)).toEqual(["SELECT", "1"]);
  });

  it("does not split on ';' inside strings, identifiers or comments", () => {
    expect(texts("SELECT 'a;b', \"c;d\", [e;f] /* ; */ FROM t -- ;\n; SELECT 2")).toEqual([
      "SELECT 'a;b', \"c;d\", [e;f] /* ; */ FROM t",
      "SELECT 2",
    ]);
  });

  it("keeps '--' inside a string from hiding the rest of the line", () => {
    expect(kinds("SELECT '--'; DROP TABLE t")).toEqual(["select", "ddl"]);
  });

  it("keeps a trigger with a multi-statement body as one statement", () => {
    const trigger = [
      "CREATE TRIGGER audit AFTER UPDATE ON t BEGIN",
      "  INSERT INTO log VALUES ('END;', old.x);",
      "  UPDATE u SET y = CASE WHEN new.x > 0 THEN 1 ELSE 0 END;",
      "  UPDATE u SET z = CASE new.x WHEN 1 THEN 'a' END WHERE id = 1;",
      "  DELETE FROM v WHERE begin = 1;",
      "END",
    ].join("\n");
    const statements = splitStatements(`${trigger}; DROP TABLE t;`);
    expect(statements.map((statement) => statement.sql)).toEqual([trigger, "DROP TABLE t"]);
    expect(statements[0]?.tokens.filter((token) => token.kind === "semicolon")).toHaveLength(4);
  });

  it.each([
    "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END",
    "create temporary trigger tr after insert on t begin select 1; select 2; end",
    "EXPLAIN CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END",
    "EXPLAIN QUERY PLAN CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END",
    "CREATE /* c */ TRIGGER IF NOT EXISTS tr AFTER INSERT ON t BEGIN SELECT 1;\n;END",
  ])("keeps %j whole", (trigger) => {
    expect(texts(`${trigger}; SELECT 3`)).toEqual([trigger, "SELECT 3"]);
  });

  it("ends a trigger at the end of input even without a final ';'", () => {
    expect(kinds("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END")).toEqual(["ddl"]);
  });

  it("keeps an unfinished trigger body in one statement instead of running its parts", () => {
    expect(kinds("CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM u; DROP TABLE u;")).toEqual(["ddl"]);
  });

  it("does not take the word trigger elsewhere for a trigger", () => {
    expect(kinds("SELECT trigger FROM t; DROP TABLE x; CREATE TABLE trigger(a); SELECT 1")).toEqual([
      "select",
      "ddl",
      "ddl",
      "select",
    ]);
  });

  it("splits a script into pieces that SQLite itself accepts one at a time", () => {
    const db = new Database(":memory:");
    const script = [
      'CREATE TABLE t(x, begin, "end"); CREATE TABLE log(a, b)',
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('END;', CASE WHEN new.x THEN 1 END); END",
      "INSERT INTO t VALUES (1, 2, 3); -- INSERT ; comment",
      "SELECT 'a;b' AS [c;d], x'00' FROM t /* ; */",
      "WITH replace AS (SELECT 1 AS a) SELECT * FROM replace",
      "BEGIN; SAVEPOINT s; UPDATE t SET x = 2; RELEASE s; COMMIT",
    ].join(";\n");
    const statements = splitStatements(script);
    expect(statements).toHaveLength(11);
    for (const statement of statements) {
      // prepare() refuses text holding more than one statement.
      const prepared = db.prepare(statement.sql);
      if (prepared.reader) prepared.all();
      else prepared.run();
    }
    expect(db.prepare("SELECT a FROM log").pluck().all()).toEqual(["END;"]);
  });

  it("splits a large script in one linear pass, deep parentheses included", () => {
    const statements = splitStatements("INSERT INTO t VALUES (1, 'x;y');\n".repeat(20_000));
    expect(statements).toHaveLength(20_000);
    const deep = `SELECT ${"(".repeat(50_000)}1${")".repeat(50_000)}`;
    expect(one(deep).kind).toBe("select");
    expect(one(`WITH x AS ${"(".repeat(50_000)}${")".repeat(50_000)} DELETE FROM t`).kind).toBe("delete");
  });
});

describe("classification", () => {
  it.each([
    "SELECT * FROM t",
    "select 1",
    "VALUES (1), (2)",
    "WITH x AS (SELECT 1) SELECT * FROM x",
    "WITH RECURSIVE c(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM c WHERE n < 3) SELECT n FROM c",
    "WITH replace AS (SELECT 1) SELECT * FROM replace",
    "with a as materialized (select 1), b(x) as not materialized (select 2) values (3)",
    'SELECT * FROM "create"',
    'SELECT "drop", [alter] FROM "create" WHERE "insert" = 1',
    "EXPLAIN SELECT 1",
    "EXPLAIN QUERY PLAN DELETE FROM t",
    "EXPLAIN CREATE TABLE t(x)",
  ])("classifies %j as select", (sql) => {
    expect(one(sql).kind).toBe("select");
  });

  it.each([
    ["INSERT INTO t VALUES (1)", "insert"],
    ["REPLACE INTO t VALUES (1)", "insert"],
    ["INSERT OR REPLACE INTO t VALUES (1)", "insert"],
    ["INSERT INTO t VALUES (1) RETURNING *", "insert"],
    ["WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "insert"],
    ["WITH x(a) AS (SELECT 1), y AS (SELECT 2) REPLACE INTO t SELECT * FROM x", "insert"],
    ["UPDATE t SET x = 1", "update"],
    ["with x as (select 1) update t set y = (select * from x)", "update"],
    ["DELETE FROM t WHERE x IN (SELECT 1)", "delete"],
    ["WITH x AS (SELECT 1) DELETE FROM t RETURNING x", "delete"],
  ] as const)("classifies %j as %s", (sql, kind) => {
    expect(one(sql).kind).toBe(kind);
  });

  it.each([
    ["CREATE TABLE users (id INTEGER PRIMARY KEY)", "create", "table", false, "users", undefined],
    ["cReAtE tAbLe Users(id)", "create", "table", false, "Users", undefined],
    ["/* c */ -- d\n\t\f\r\nCREATE/**/TABLE/**/t(x)", "create", "table", false, "t", undefined],
    ["CREATE TABLE IF NOT EXISTS main.t(x)", "create", "table", false, "t", "main"],
    ["CREATE TEMP TABLE t(x)", "create", "table", true, "t", undefined],
    ["CREATE TABLE temp.t(x)", "create", "table", true, "t", "temp"],
    ['CREATE TABLE "My ""Table"""(x)', "create", "table", false, 'My "Table"', undefined],
    ["CREATE TABLE 'strname'(x)", "create", "table", false, "strname", undefined],
    ['CREATE TABLE [main]."_tenantdb_"(x)', "create", "table", false, "_tenantdb_", "main"],
    ["CREATE TEMPORARY VIEW v AS SELECT 1", "create", "view", true, "v", undefined],
    ["CREATE VIEW IF NOT EXISTS v AS SELECT 1", "create", "view", false, "v", undefined],
    ["CREATE UNIQUE INDEX IF NOT EXISTS s.i ON t(x)", "create", "index", false, "i", "s"],
    ["CREATE INDEX i ON t(x)", "create", "index", false, "i", undefined],
    ["CREATE VIRTUAL TABLE t USING fts5(x)", "create", "virtual table", false, "t", undefined],
    [
      "create virtual table if not exists `v` using rtree(id, a, b)",
      "create",
      "virtual table",
      false,
      "v",
      undefined,
    ],
    ["CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", "create", "trigger", false, "tr", undefined],
    [
      "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
      "create",
      "trigger",
      true,
      "tr",
      undefined,
    ],
    ["DROP TABLE t", "drop", "table", false, "t", undefined],
    ["DROP TABLE IF EXISTS temp.t", "drop", "table", true, "t", "temp"],
    ["drop index if exists main.i", "drop", "index", false, "i", "main"],
    ["DROP VIEW v", "drop", "view", false, "v", undefined],
    ["DROP TRIGGER IF EXISTS tr", "drop", "trigger", false, "tr", undefined],
    ["ALTER TABLE a RENAME TO b", "alter", "table", false, "a", undefined],
    ["ALTER TABLE main.a RENAME COLUMN x TO y", "alter", "table", false, "a", "main"],
    ["ALTER TABLE a ADD COLUMN c TEXT", "alter", "table", false, "a", undefined],
    ["ALTER TABLE a DROP COLUMN c", "alter", "table", false, "a", undefined],
    ["CREATE TABLE", "create", "table", false, "", undefined],
  ] as const)("reads %j as DDL", (sql, action, object, temporary, name, schema) => {
    const expected = { action, object, temporary, name, ...(schema !== undefined && { schema }) };
    expect(classification(sql)).toEqual({ kind: "ddl", ddl: expected });
  });

  it.each(["CREATE foo", "ALTER VIEW v RENAME TO w", "DROP DATABASE x", "(SELECT 1)", "hello world", "!"])(
    "classifies %j as other",
    (sql) => {
      expect(one(sql).kind).toBe("other");
    },
  );

  it("classifies DDL after a SELECT, inside a transaction and between savepoints", () => {
    expect(kinds("SELECT 1; CREATE TABLE t(x)")).toEqual(["select", "ddl"]);
    expect(kinds("BEGIN; INSERT INTO t VALUES (1); CREATE INDEX i ON t(x); COMMIT;")).toEqual([
      "transaction",
      "insert",
      "ddl",
      "transaction",
    ]);
    expect(kinds("SAVEPOINT s; CREATE TABLE t(x); RELEASE s")).toEqual(["transaction", "ddl", "transaction"]);
  });

  it.each([
    ["BEGIN", "begin"],
    ["BEGIN TRANSACTION", "begin"],
    ["begin deferred", "begin"],
    ["BEGIN IMMEDIATE TRANSACTION", "begin"],
    ["BEGIN EXCLUSIVE", "begin"],
    ["COMMIT", "commit"],
    ["COMMIT TRANSACTION", "commit"],
    ["END", "commit"],
    ["end transaction", "commit"],
    ["ROLLBACK", "rollback"],
    ["ROLLBACK TRANSACTION", "rollback"],
    ["ROLLBACK TO s", "rollback_to"],
    ["ROLLBACK TRANSACTION TO SAVEPOINT s", "rollback_to"],
    ["SAVEPOINT s", "savepoint"],
    ["RELEASE s", "release"],
    ["RELEASE SAVEPOINT s", "release"],
  ] as const)("reads %j as transaction control (%s)", (sql, transaction) => {
    expect(classification(sql)).toEqual({ kind: "transaction", transaction });
  });

  it.each([
    ['ATTACH DATABASE "catalog" AS c', { type: "identifier", name: "catalog" }, "c"],
    ["ATTACH catalog AS c", { type: "identifier", name: "catalog" }, "c"],
    ["attach [catalog] as `c`", { type: "identifier", name: "catalog" }, "c"],
    ["attach 'x.db' as y", { type: "string", value: "x.db" }, "y"],
    ["ATTACH 'file:x?mode=memory' AS x", { type: "string", value: "file:x?mode=memory" }, "x"],
    ["ATTACH ':memory:' AS m", { type: "string", value: ":memory:" }, "m"],
    ["ATTACH DATABASE 'it''s.db' AS 'q'", { type: "string", value: "it's.db" }, "q"],
    ["ATTACH 'a' || 'b' AS z", { type: "expression", text: "'a' || 'b'" }, "z"],
    ["ATTACH ? AS p", { type: "expression", text: "?" }, "p"],
    ["ATTACH :file AS p", { type: "expression", text: ":file" }, "p"],
    ["ATTACH lower('X.db') AS f", { type: "expression", text: "lower('X.db')" }, "f"],
    ["ATTACH CAST('x' AS TEXT) AS f", { type: "expression", text: "CAST('x' AS TEXT)" }, "f"],
    ["ATTACH NULL AS n", { type: "expression", text: "NULL" }, "n"],
    ["ATTACH 'x.db' AS k KEY 'secret'", { type: "string", value: "x.db" }, "k"],
    ["ATTACH 'x.db' AS 'a' || 'b'", { type: "string", value: "x.db" }, null],
    ["ATTACH 'x.db'", { type: "string", value: "x.db" }, null],
    ["ATTACH 'unterminated AS x", { type: "string", value: "unterminated AS x" }, null],
  ] as const)("reads %j as an attach", (sql, target, alias) => {
    expect(classification(sql)).toEqual({ kind: "attach", attach: { target, alias } });
  });

  it.each([
    ["DETACH ?", "?"],
    ["DETACH c", "c"],
    ['DETACH DATABASE "c"', "c"],
    ["detach 'c'", "c"],
  ])("reads %j as a detach of %s", (sql, alias) => {
    expect(classification(sql)).toEqual({ kind: "detach", detach: alias });
  });

  it.each([
    ["PRAGMA writable_schema = ON", { name: "writable_schema", assigns: true, value: "ON" }],
    ['PRAGMA "WRITABLE_SCHEMA"=1', { name: "writable_schema", assigns: true, value: "1" }],
    ["PRAGMA main.schema_version=5", { name: "schema_version", schema: "main", assigns: true, value: "5" }],
    ["pragma SCHEMA_VERSION(7)", { name: "schema_version", assigns: true, value: "7" }],
    ["PRAGMA table_info(users)", { name: "table_info", assigns: true, value: "users" }],
    ["PRAGMA journal_mode = 'wal'", { name: "journal_mode", assigns: true, value: "wal" }],
    ["PRAGMA cache_size = - 2000", { name: "cache_size", assigns: true, value: "-2000" }],
    ["PRAGMA user_version", { name: "user_version", assigns: false }],
    ["PRAGMA temp.Table_List", { name: "table_list", schema: "temp", assigns: false }],
  ])("reads %j as a pragma", (sql, pragma) => {
    expect(classification(sql)).toEqual({ kind: "pragma", pragma });
  });

  it.each([
    ["VACUUM INTO '/tmp/x'", true],
    ["vacuum main into ?", true],
    ["VACUUM", false],
    ["VACUUM main", false],
  ] as const)("reads %j as a vacuum (into: %s)", (sql, vacuumInto) => {
    expect(classification(sql)).toEqual({ kind: "vacuum", vacuumInto });
  });

  it.each(["ANALYZE", "analyze main.t", "REINDEX", "REINDEX i"])("classifies %j as maintenance", (sql) => {
    expect(one(sql).kind).toBe("maintenance");
  });

  it("classifies unterminated input as best it can, without throwing", () => {
    expect(classification("CREATE TABLE 'x")).toMatchObject({ kind: "ddl", ddl: { name: "x" } });
    expect(kinds("SELECT 'x; DROP TABLE t")).toEqual(["select"]);
    expect(kinds('SELECT "x; DROP TABLE t')).toEqual(["select"]);
    expect(kinds("SELECT 1 /* ; DROP TABLE t")).toEqual(["select"]);
    expect(kinds("WITH x AS (SELECT 1")).toEqual(["other"]);
    expect(kinds("PRAGMA user_version = ")).toEqual(["pragma"]);
  });
});

describe("classification against SQLite", () => {
  it("calls a statement lasting DDL exactly when running it moves the main schema version", () => {
    const samples = [
      "CREATE TABLE c(x)",
      "CREATE TEMP TABLE c(x)",
      "CREATE TABLE temp.c(x)",
      "CREATE UNIQUE INDEX i ON a(x)",
      "CREATE VIEW v AS SELECT * FROM a",
      "CREATE TEMPORARY VIEW v AS SELECT * FROM a",
      "CREATE TRIGGER tr AFTER INSERT ON a BEGIN INSERT INTO b VALUES (CASE WHEN 1 THEN 'END;' END); END",
      "CREATE TEMP TRIGGER tr AFTER INSERT ON a BEGIN DELETE FROM b; END",
      "CREATE VIRTUAL TABLE f USING fts5(x)",
      "DROP TABLE b",
      "ALTER TABLE a RENAME TO c",
      "ALTER TABLE a RENAME COLUMN x TO w",
      "ALTER TABLE a ADD COLUMN w",
      "INSERT INTO a VALUES (1, 2)",
      "WITH n AS (SELECT 1) INSERT INTO b SELECT * FROM n",
      "SELECT * FROM a",
      "PRAGMA user_version = 3",
      "REINDEX",
    ];
    for (const sql of samples) {
      const db = new Database(":memory:");
      db.exec("CREATE TABLE a(x, y); CREATE TABLE b(z)");
      const version = () => db.pragma("main.schema_version", { simple: true });
      const before = version();
      db.exec(sql);
      const statement = one(sql);
      const lasting = statement.kind === "ddl" && !statement.ddl.temporary;
      expect({ sql, moved: version() !== before }).toEqual({ sql, moved: lasting });
    }
  });

  it("notes that a first ANALYZE moves the schema version though it is maintenance, not DDL", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE a(x); CREATE INDEX i ON a(x); INSERT INTO a VALUES (1)");
    const before = db.pragma("schema_version", { simple: true });
    db.exec("ANALYZE");
    expect(one("ANALYZE").kind).toBe("maintenance");
    expect(db.pragma("schema_version", { simple: true })).not.toBe(before);
  });
});

describe("readsOnly", () => {
  it.each([
    ["SELECT * FROM t", true],
    ["WITH x AS (SELECT 1) SELECT * FROM x", true],
    ["EXPLAIN DELETE FROM t", true],
    ["PRAGMA user_version", true],
    ["PRAGMA table_info(t)", true],
    ["PRAGMA integrity_check", true],
    ["WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", false],
    ["INSERT INTO t VALUES (1)", false],
    ["PRAGMA user_version = 3", false],
    ["PRAGMA journal_mode(wal)", false],
    ["PRAGMA incremental_vacuum", false],
    ["CREATE TABLE u(x)", false],
    ["BEGIN", false],
    ["ATTACH 'x' AS y", false],
    ["VACUUM", false],
    ["ANALYZE", false],
  ] as const)("says %j reads only: %s", (sql, expected) => {
    expect(readsOnly(one(sql))).toBe(expected);
  });

  it("never calls a statement read-only when SQLite says it writes", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t(x); CREATE TABLE u(y)");
    const samples = [
      "SELECT * FROM t",
      "VALUES (1)",
      "WITH x AS (SELECT 1) SELECT * FROM x",
      "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
      "WITH x AS (SELECT 1) DELETE FROM t",
      "REPLACE INTO t VALUES (1)",
      "UPDATE t SET x = 1",
      "CREATE TABLE v(z)",
      "DROP TABLE u",
      "PRAGMA user_version",
      "PRAGMA user_version = 1",
      "PRAGMA table_info(t)",
      "PRAGMA foreign_key_check(t)",
      "PRAGMA index_list = t",
      "PRAGMA wal_checkpoint",
      "PRAGMA incremental_vacuum",
      "PRAGMA cache_size",
      "ANALYZE",
    ];
    for (const sql of samples) {
      if (readsOnly(one(sql)))
        expect({ sql, readonly: db.prepare(sql).readonly }).toEqual({ sql, readonly: true });
    }
  });
});

describe("mentionsIdentifier", () => {
  it.each([
    "SELECT * FROM _tenantdb_",
    "DELETE FROM _TENANTDB_",
    'UPDATE main."_tenantdb_" SET v = 1',
    "INSERT INTO [_tenantdb_] VALUES (1)",
    "DROP TABLE `_Tenantdb_`",
    "DELETE FROM '_tenantdb_'",
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM _tenantdb_; END",
    "ALTER TABLE _tenantdb_ RENAME TO x",
  ])("finds _tenantdb_ in %j", (sql) => {
    expect(mentionsIdentifier(one(sql), "_tenantdb_")).toBe(true);
  });

  it.each([
    "SELECT * FROM tenantdb",
    "SELECT * FROM _tenantdb_x",
    "SELECT 'a _tenantdb_ b' FROM t",
    "SELECT 1 -- _tenantdb_",
    "SELECT 1 /* _tenantdb_ */",
    "SELECT :_tenantdb_",
  ])("does not find _tenantdb_ in %j", (sql) => {
    expect(mentionsIdentifier(one(sql), "_tenantdb_")).toBe(false);
  });
});

describe("callsFunction", () => {
  it.each([
    "select load_extension('x')",
    "SELECT LOAD_EXTENSION ('x', 'entry')",
    "SELECT /**/load_extension/**/('x')",
    "SELECT \"load_extension\"('x')",
    "SELECT 1 WHERE (SELECT [load_extension]('x'))",
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT load_extension('x'); END",
    "ATTACH load_extension('x') AS a",
  ])("finds load_extension called in %j", (sql) => {
    expect(callsFunction(one(sql), "load_extension")).toBe(true);
  });

  it.each([
    "SELECT 'load_extension(1)'",
    "SELECT load_extension FROM t",
    "SELECT 1 -- load_extension('x')",
    "SELECT load_extensions('x')",
  ])("does not find load_extension called in %j", (sql) => {
    expect(callsFunction(one(sql), "load_extension")).toBe(false);
  });
});
