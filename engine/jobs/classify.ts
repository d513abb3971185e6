import Database from "better-sqlite3";
import {
  closingParen,
  indexAtTopLevel,
  type Statement,
  splitStatements,
  splitTopLevel,
} from "../sql/statements.js";
import { isKeyword, isOperator, keywordOf, nameOf, sameName, type Token } from "../sql/tokenize.js";

/**
 * What a job's statements can do to a database, which decides how it is fenced (see docs/architecture.md):
 * - `additive`: every statement's success on a database cannot depend on that database's rows. Every
 *   child shares its parent's schema (children refuse DDL), so such a job fails everywhere or nowhere,
 *   and the dry run proves which before the commit point: tenants may write meanwhile, and each database
 *   is fenced only for its own short transaction.
 * - `data`: anything else. Its dry-run verdict holds only while rows stay as they were, so writes are
 *   fenced from the job's record until each database has committed.
 *
 * The judgement is made on tokens (engine/sql/), never on the text, and errs towards `data`: whatever is
 * not recognised as additive is data-dependent. Why each kind is additive, from SQLite's documentation
 * (https://sqlite.org/lang_altertable.html, lang_createindex.html, lang_createtable.html, sqlite's alter.c):
 * - CREATE TABLE (not AS SELECT), VIEW, TRIGGER; DROP INDEX, VIEW, TRIGGER: they only write sqlite_schema
 *   (and, for DROP INDEX, free the index's pages); no row is read or checked.
 * - ALTER TABLE RENAME TO / RENAME COLUMN: "modifying the SQL text of the schema stored in the
 *   sqlite_schema table"; what it checks (views and triggers still parse) is schema, not rows.
 * - ALTER TABLE ADD COLUMN: "the execution time … is independent of the amount of data in the table",
 *   no row is rewritten. But alter.c checks rows in four cases, all data-dependent here: a NOT NULL column
 *   whose default is NULL and a non-constant default (both errors only "if the table is not empty"), a
 *   CHECK constraint or a generated NOT NULL column (tested "against all preexisting rows"), and any
 *   column of a STRICT table or of a table with CHECK constraints (alter.c runs pragma_quick_check over
 *   every row: a default of the wrong type fails only where there are rows). A REFERENCES column is
 *   data-dependent too: the job checks foreign keys before each commit.
 * - CREATE INDEX, not UNIQUE, on plain columns, without WHERE: building it reads every row, but nothing
 *   in a row can make it fail. UNIQUE fails on duplicates; an expression (json_extract …) or a partial
 *   index's WHERE is evaluated on every row and can raise an error.
 */
export type JobClass = "additive" | "data";

export interface StatementClass {
  additive: boolean;
  /** Why it is data-dependent; empty when additive. */
  reason: string;
}

/** How a table stood before the job, from the parent's schema: its CREATE TABLE text, or undefined. */
export type TableSql = (table: string) => string | undefined;

export function classifyJob(statements: string[], tableSql: TableSql): JobClass {
  return classifyStatements(statements, tableSql).every((c) => c.additive) ? "additive" : "data";
}

/**
 * Whether a dry run's verdict on a child follows from the parent's: an additive job (its success cannot
 * depend on rows) that touches only the schema (no index is built or dropped, so it reads and frees no
 * page of a table or index), with no foreign key to check, succeeds on a database exactly when its schema
 * lets it. So the parent is dry-run in full, and a child whose file holds the parent's schema byte for
 * byte (schema-page.ts), and its stamp table's page too, shares its verdict unopened; any other child
 * (drifted, restored from an older copy, vacuumed, in WAL mode, its journal hot, a schema too large for
 * page 1) is dry-run in full. The stamp's bytes stand in for the dry run's check of the version: no tenant
 * can write the reserved table, but a file restored from before a migration that wrote only rows carries
 * the parent's schema and an older stamp, and would fail only after the commit point.
 */
export function dryRunsOnParent(jobClass: JobClass, statements: string[], foreignKeys: boolean): boolean {
  if (jobClass !== "additive" || foreignKeys) return false;
  return statements.every((text) =>
    splitStatements(text).every((s) => s.kind === "ddl" && s.ddl.object !== "index"),
  );
}

/**
 * Each statement's class, in order. Tables created earlier in the same additive job are empty, and a
 * renamed table keeps what its old name had, so ADD COLUMN is judged on what the table is at that point.
 */
export function classifyStatements(statements: string[], tableSql: TableSql): StatementClass[] {
  const tables = new Map<string, string | "empty">();
  const lookup = (name: string) => {
    for (const [known, sql] of tables) if (sameName(known, name)) return sql;
    return tableSql(name);
  };
  const out: StatementClass[] = [];
  for (const text of statements) {
    for (const s of splitStatements(text)) {
      const verdict = classifyStatement(s, lookup);
      out.push(verdict);
      if (!verdict.additive || s.kind !== "ddl") continue;
      if (s.ddl.action === "create" && s.ddl.object === "table") tables.set(s.ddl.name, "empty");
      const renamed = renamedTo(s);
      if (renamed !== undefined) tables.set(renamed, lookup(s.ddl.name) ?? "empty");
    }
  }
  return out;
}

const additive: StatementClass = { additive: true, reason: "" };
const data = (reason: string): StatementClass => ({ additive: false, reason });

function classifyStatement(s: Statement, table: (name: string) => string | undefined): StatementClass {
  if (s.kind !== "ddl")
    return data(`${s.kind === "other" ? "this statement" : s.kind.toUpperCase()} may read or change rows`);
  const { action, object, temporary } = s.ddl;
  if (temporary) return data("a TEMP object");
  if (object === "virtual table") return data("a virtual table runs its module's code");
  if (action === "drop") return object === "table" ? data("DROP TABLE deletes rows") : additive;
  if (action === "alter") return alterTable(s.tokens, table);
  switch (object) {
    case "table":
      return indexAtTopLevel(s.tokens, (t) => isKeyword(t, "AS")) >= 0
        ? data("CREATE TABLE … AS SELECT reads rows")
        : additive;
    case "view":
    case "trigger":
      return additive;
    case "index":
      return createIndex(s.tokens);
  }
}

/** `CREATE INDEX [IF NOT EXISTS] name ON table (column [COLLATE c] [ASC|DESC], ...)`, and nothing else. */
function createIndex(tokens: readonly Token[]): StatementClass {
  if (tokens.slice(0, 3).some((t) => isKeyword(t, "UNIQUE")))
    return data("a UNIQUE index fails on duplicates");
  const open = tokens.findIndex((t) => isOperator(t, "("));
  const close = open < 0 ? -1 : closingParen(tokens, open);
  if (close < 0) return data("an index without a column list");
  if (close !== tokens.length - 1) return data("a partial index evaluates its WHERE on every row");
  for (const column of splitTopLevel(tokens.slice(open + 1, close))) {
    if (!plainIndexedColumn(column)) return data("an index on an expression evaluates it on every row");
  }
  return additive;
}

function plainIndexedColumn(tokens: readonly Token[]): boolean {
  const [name, ...rest] = tokens;
  // A string literal there is an expression (a constant); a bare word or quoted name is a column.
  if (name?.kind !== "word" && name?.kind !== "quoted") return false;
  let i = 0;
  if (isKeyword(rest[i], "COLLATE") && nameOf(rest[i + 1]) !== undefined) i += 2;
  if (isKeyword(rest[i], "ASC") || isKeyword(rest[i], "DESC")) i++;
  return i === rest.length;
}

/** `ALTER TABLE [schema.]name` then RENAME TO / RENAME [COLUMN] a TO b / ADD [COLUMN] def / DROP [COLUMN]. */
function alterTable(tokens: readonly Token[], table: (name: string) => string | undefined): StatementClass {
  const at = isOperator(tokens[3], ".") ? 5 : 3;
  const verb = keywordOf(tokens[at]);
  if (verb === "RENAME") return additive;
  if (verb !== "ADD") return data(`ALTER TABLE … ${verb ?? "this"} rewrites rows`);
  const name = nameOf(tokens[at - 1]) ?? "";
  const definition = tokens.slice(isKeyword(tokens[at + 1], "COLUMN") ? at + 2 : at + 1);
  const column = addedColumn(definition);
  if (!column.additive) return column;
  const before = table(name);
  if (before === undefined) return data(`table "${name}" is not in the schema before this statement`);
  if (before !== "empty" && checksEveryRow(before)) {
    return data(
      "the table is STRICT or has CHECK constraints: SQLite checks every row when a column is added",
    );
  }
  return additive;
}

/** A column definition after its name: a type, then constraints; what alter.c checks against rows. */
function addedColumn(tokens: readonly Token[]): StatementClass {
  let notNull = false;
  let defaultValue: "none" | "null" | "value" = "none";
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i];
    if (isOperator(t, "(")) {
      // Unclosed, the rest is inside it.
      i = closingParen(tokens, i);
      if (i < 0) break;
      continue;
    }
    switch (keywordOf(t)) {
      case "CHECK":
        return data("a CHECK constraint is tested against every row");
      case "REFERENCES":
        return data("a REFERENCES column is checked against rows");
      case "GENERATED":
      case "AS":
        return data("a generated column is computed from rows");
      case "PRIMARY":
      case "UNIQUE":
        return data("a PRIMARY KEY or UNIQUE column");
      case "NOT":
        if (isKeyword(tokens[i + 1], "NULL")) {
          notNull = true;
          i++;
        }
        break;
      case "DEFAULT": {
        const value = constantDefault(tokens, i + 1);
        if (!value) return data("a non-constant DEFAULT fails only where the table has rows");
        defaultValue = value.isNull ? "null" : "value";
        i = value.end - 1;
        break;
      }
    }
  }
  if (notNull && defaultValue !== "value")
    return data("NOT NULL without a non-NULL DEFAULT fails only where the table has rows");
  return additive;
}

/** A literal DEFAULT (`0`, `-1.5`, `'x'`, `x'00'`, NULL, TRUE, FALSE, or one in parentheses): where it ends. */
function constantDefault(tokens: readonly Token[], from: number): { end: number; isNull: boolean } | null {
  if (isOperator(tokens[from], "(")) {
    const inner = constantDefault(tokens, from + 1);
    return inner && isOperator(tokens[inner.end], ")") ? { end: inner.end + 1, isNull: inner.isNull } : null;
  }
  let i = from;
  if (isOperator(tokens[i], "-") || isOperator(tokens[i], "+")) {
    return tokens[i + 1]?.kind === "number" ? { end: i + 2, isNull: false } : null;
  }
  const t = tokens[i];
  if (t?.kind === "number" || t?.kind === "string" || t?.kind === "blob") return { end: ++i, isNull: false };
  const word = keywordOf(t);
  if (word === "NULL") return { end: i + 1, isNull: true };
  if (word === "TRUE" || word === "FALSE") return { end: i + 1, isNull: false };
  return null; // CURRENT_TIME and friends, expressions, anything else
}

/** Whether SQLite's ADD COLUMN would run pragma_quick_check over the table: STRICT, or CHECK anywhere. */
function checksEveryRow(createTable: string): boolean {
  const [s] = splitStatements(createTable);
  if (!s) return false;
  return s.tokens.some((t) => isKeyword(t, "CHECK") || isKeyword(t, "STRICT"));
}

function renamedTo(s: Statement): string | undefined {
  if (s.kind !== "ddl" || s.ddl.action !== "alter") return undefined;
  const at = isOperator(s.tokens[3], ".") ? 5 : 3;
  if (!isKeyword(s.tokens[at], "RENAME") || !isKeyword(s.tokens[at + 1], "TO")) return undefined;
  return nameOf(s.tokens[at + 2]);
}

/** A job's class judged against the schema database's file (every child has the same schema). */
export function classifyOnDatabase(file: string, statements: string[]): JobClass {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 30_000 });
  try {
    const find = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE");
    return classifyJob(statements, (table) => (find.pluck().get(table) as string | undefined) ?? undefined);
  } finally {
    db.close();
  }
}
