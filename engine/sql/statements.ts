/**
 * Splits SQL text into statements and says what each one does, from tokens alone. better-sqlite3 has no
 * authorizer, so this is what the guard looks at before a statement runs (and `PRAGMA schema_version`
 * is what it checks after). It recognises what SQLite would accept; input SQLite rejects is classified as
 * best it can be and left for SQLite to refuse.
 */

import {
  foldCase,
  isKeyword,
  isOperator,
  isTrivia,
  keywordOf,
  nameOf,
  sameName,
  type Token,
  tokenize,
} from "./tokenize.js";

export type StatementKind =
  | "select"
  | "insert"
  | "update"
  | "delete"
  | "ddl"
  | "transaction"
  | "attach"
  | "detach"
  | "pragma"
  | "vacuum"
  | "maintenance"
  | "other";

export type QueryKind = "select" | "insert" | "update" | "delete";

export type DdlObject = "table" | "index" | "view" | "trigger" | "virtual table";

export interface Ddl {
  action: "create" | "drop" | "alter";
  object: DdlObject;
  /** Lives in the connection's temp schema: `CREATE TEMP ...`, or a `temp.` prefix on the name. */
  temporary: boolean;
  /** Unquoted, without its schema prefix; empty if the statement breaks off before the name. */
  name: string;
  schema?: string;
}

export type TransactionAction = "begin" | "commit" | "rollback" | "savepoint" | "release" | "rollback_to";

export type AttachTarget =
  /** `ATTACH catalog` or `ATTACH "catalog"`: SQLite reads a bare name as a file name. */
  | { type: "identifier"; name: string }
  /** `ATTACH 'file.db'`, `ATTACH ':memory:'`, `ATTACH 'file:x?mode=memory'`. */
  | { type: "string"; value: string }
  /** Anything computed: `'a' || 'b'`, `?`, a function call. `text` is its source. */
  | { type: "expression"; text: string };

export interface Attach {
  target: AttachTarget;
  /** The schema name after AS, or null if it is missing or computed. */
  alias: string | null;
}

export interface Pragma {
  /** Lower-cased. */
  name: string;
  schema?: string;
  /** Written as `PRAGMA x = v` or `PRAGMA x(v)`. Some pragmas take an argument to read, e.g. `table_info(t)`. */
  assigns: boolean;
  /** The argument, unquoted, its tokens joined without spaces (`- 5` gives `-5`). */
  value?: string;
}

export type Classification =
  | { kind: QueryKind | "maintenance" | "other" }
  | { kind: "ddl"; ddl: Ddl }
  | { kind: "transaction"; transaction: TransactionAction }
  | { kind: "attach"; attach: Attach }
  | { kind: "detach"; detach: string }
  | { kind: "pragma"; pragma: Pragma }
  | { kind: "vacuum"; vacuumInto: boolean };

export type Statement = Classification & {
  /** The statement's source, from its first token to its last: no surrounding trivia, no trailing `;`. */
  sql: string;
  start: number;
  end: number;
  /** Its tokens without whitespace and comments. Statements inside a trigger body keep their `;`. */
  tokens: Token[];
};

/**
 * The statements in `sql`, split where SQLite would split them, empty ones dropped.
 *
 * A `;` ends a statement except inside `CREATE TRIGGER ... BEGIN ... END`. Like sqlite3_complete(), the
 * body is taken to close at an END that directly follows a `;` and is followed by `;` (or the input's
 * end): a body holds only DML, each statement `;`-terminated, so nothing else can put END there. Counting
 * BEGIN/END pairs instead would be fooled by `CASE ... END` and by a column named `begin`.
 */
export function splitStatements(sql: string): Statement[] {
  const statements: Statement[] = [];
  let tokens: Token[] = [];
  let phase: TriggerPhase = "outside";
  const finish = () => {
    const first = tokens[0];
    const last = tokens[tokens.length - 1];
    if (first && last) {
      const source = { sql: sql.slice(first.start, last.end), start: first.start, end: last.end, tokens };
      statements.push({ ...source, ...classify(tokens, sql) });
    }
    tokens = [];
    phase = "outside";
  };
  for (const token of tokenize(sql)) {
    if (isTrivia(token)) continue;
    if (token.kind === "semicolon" && (phase === "outside" || phase === "afterEnd")) {
      finish();
      continue;
    }
    phase = nextPhase(phase, token, tokens);
    tokens.push(token);
  }
  finish();
  return statements;
}

/** Where the splitter stands in a CREATE TRIGGER statement; its header counts as body, as in SQLite. */
type TriggerPhase = "outside" | "body" | "afterSemicolon" | "afterEnd";

function nextPhase(phase: TriggerPhase, token: Token, before: readonly Token[]): TriggerPhase {
  switch (phase) {
    case "outside":
      return isKeyword(token, "TRIGGER") && isTriggerHead(before) ? "body" : "outside";
    case "body":
      return token.kind === "semicolon" ? "afterSemicolon" : "body";
    case "afterSemicolon":
      if (token.kind === "semicolon") return "afterSemicolon";
      return isKeyword(token, "END") ? "afterEnd" : "body";
    case "afterEnd":
      return "body";
  }
}

/** `[EXPLAIN [QUERY PLAN]] CREATE [TEMP|TEMPORARY]`, exactly: what may precede TRIGGER in CREATE TRIGGER. */
function isTriggerHead(tokens: readonly Token[]): boolean {
  let i = 0;
  if (isKeyword(tokens[0], "EXPLAIN")) {
    i = isKeyword(tokens[1], "QUERY") && isKeyword(tokens[2], "PLAN") ? 3 : 1;
  }
  if (!isKeyword(tokens[i], "CREATE")) return false;
  i++;
  if (isKeyword(tokens[i], "TEMP") || isKeyword(tokens[i], "TEMPORARY")) i++;
  return i === tokens.length;
}

/** What a statement does, judged from its leading keywords. `source` is the text the tokens point into. */
function classify(tokens: readonly Token[], source: string): Classification {
  const cursor = new Cursor(tokens);
  const verb = keywordOf(cursor.next());
  switch (verb) {
    case "SELECT":
    case "VALUES":
    // EXPLAIN compiles its statement but never runs it, whatever that statement is.
    case "EXPLAIN":
      return { kind: "select" };
    case "INSERT":
    case "REPLACE":
      return { kind: "insert" };
    case "UPDATE":
      return { kind: "update" };
    case "DELETE":
      return { kind: "delete" };
    case "WITH":
      return { kind: verbAfterCommonTables(tokens) ?? "other" };
    case "CREATE":
    case "DROP":
    case "ALTER":
      return ddl(cursor, verb);
    case "BEGIN":
      return { kind: "transaction", transaction: "begin" };
    case "COMMIT":
    case "END":
      return { kind: "transaction", transaction: "commit" };
    case "ROLLBACK":
      cursor.accept("TRANSACTION");
      return { kind: "transaction", transaction: cursor.accept("TO") ? "rollback_to" : "rollback" };
    case "SAVEPOINT":
      return { kind: "transaction", transaction: "savepoint" };
    case "RELEASE":
      return { kind: "transaction", transaction: "release" };
    case "ATTACH":
      cursor.accept("DATABASE");
      return { kind: "attach", attach: attach(cursor.rest(), source) };
    case "DETACH": {
      cursor.accept("DATABASE");
      const rest = cursor.rest();
      const alias = rest.length === 1 ? nameOf(rest[0]) : undefined;
      return { kind: "detach", detach: alias ?? sourceOf(rest, source) };
    }
    case "PRAGMA":
      return { kind: "pragma", pragma: pragma(cursor) };
    case "VACUUM":
      return { kind: "vacuum", vacuumInto: tokens.some((token) => isKeyword(token, "INTO")) };
    case "ANALYZE":
    case "REINDEX":
      return { kind: "maintenance" };
    default:
      return { kind: "other" };
  }
}

const MAIN_VERBS = new Map<string, QueryKind>([
  ["SELECT", "select"],
  ["VALUES", "select"],
  ["INSERT", "insert"],
  ["REPLACE", "insert"],
  ["UPDATE", "update"],
  ["DELETE", "delete"],
]);

/**
 * The kind of `WITH a AS (...), b(x) AS (...) <verb> ...`: the verb is the first one right after a `)`
 * that closes back to the top level. Looking just for the first top-level verb would be wrong, since
 * `replace` is a valid table name: `WITH replace AS (SELECT 1) SELECT * FROM replace`.
 */
function verbAfterCommonTables(tokens: readonly Token[]): QueryKind | undefined {
  const verbOf = (token: Token | undefined) => MAIN_VERBS.get(keywordOf(token) ?? "");
  const at = indexAtTopLevel(
    tokens,
    (token, i) => isOperator(tokens[i - 1], ")") && verbOf(token) !== undefined,
  );
  return verbOf(tokens[at]);
}

const DDL_OBJECTS = new Map<string, DdlObject>([
  ["TABLE", "table"],
  ["INDEX", "index"],
  ["VIEW", "view"],
  ["TRIGGER", "trigger"],
]);

/** `CREATE [TEMP] [UNIQUE] <object> [IF NOT EXISTS] [schema.]name`, `DROP <object> [IF EXISTS] ...`, `ALTER TABLE`. */
function ddl(cursor: Cursor, verb: "CREATE" | "DROP" | "ALTER"): Classification {
  const action = verb === "CREATE" ? "create" : verb === "DROP" ? "drop" : "alter";
  const temp = cursor.accept("TEMP") || cursor.accept("TEMPORARY");
  cursor.accept("UNIQUE");
  const object = cursor.accept("VIRTUAL", "TABLE") ? "virtual table" : cursor.acceptOneOf(DDL_OBJECTS);
  if (!object || (action === "alter" && object !== "table")) return { kind: "other" };
  if (!cursor.accept("IF", "NOT", "EXISTS")) cursor.accept("IF", "EXISTS");
  const { name, schema } = cursor.qualifiedName();
  const temporary = temp || (schema !== undefined && sameName(schema, "temp"));
  return { kind: "ddl", ddl: { action, object, temporary, name, ...(schema !== undefined && { schema }) } };
}

/** `ATTACH [DATABASE] target AS alias [KEY key]`, the tokens after ATTACH [DATABASE]. */
function attach(tokens: readonly Token[], source: string): Attach {
  // A top-level AS can only be the alias's: inside the target it would sit in parentheses, as in CAST.
  const as = indexAtTopLevel(tokens, (token) => isKeyword(token, "AS"));
  const target = as < 0 ? tokens : tokens.slice(0, as);
  const aliasAndKey = as < 0 ? [] : tokens.slice(as + 1);
  const key = indexAtTopLevel(aliasAndKey, (token) => isKeyword(token, "KEY"));
  const alias = key < 0 ? aliasAndKey : aliasAndKey.slice(0, key);
  return {
    target: attachTarget(target, source),
    alias: alias.length === 1 ? (nameOf(alias[0]) ?? null) : null,
  };
}

// Reserved words that are values, not names, when they stand alone: `ATTACH NULL` opens a temp database.
const VALUE_KEYWORDS = new Set(["NULL", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP"]);

function attachTarget(tokens: readonly Token[], source: string): AttachTarget {
  const only = tokens.length === 1 ? tokens[0] : undefined;
  const name = nameOf(only);
  if (only && name !== undefined) {
    if (only.kind === "string") return { type: "string", value: name };
    if (!VALUE_KEYWORDS.has(keywordOf(only) ?? "")) return { type: "identifier", name };
  }
  return { type: "expression", text: sourceOf(tokens, source) };
}

/** `PRAGMA [schema.]name [= value | (value)]`, after PRAGMA. */
function pragma(cursor: Cursor): Pragma {
  const { name, schema } = cursor.qualifiedName();
  let value: Token[] | undefined;
  if (cursor.acceptOperator("=")) value = cursor.rest();
  else if (cursor.acceptOperator("(")) {
    value = cursor.rest();
    if (isOperator(value[value.length - 1], ")")) value = value.slice(0, -1);
  }
  return {
    name: foldCase(name),
    ...(schema !== undefined && { schema }),
    assigns: value !== undefined,
    ...(value !== undefined && { value: value.map((token) => token.value ?? token.text).join("") }),
  };
}

/** The index of the first token outside all parentheses that `matches`, or -1. */
export function indexAtTopLevel(
  tokens: readonly Token[],
  matches: (token: Token, index: number) => boolean,
): number {
  let depth = 0;
  for (const [i, token] of tokens.entries()) {
    if (isOperator(token, "(")) depth++;
    else if (isOperator(token, ")")) depth--;
    else if (depth === 0 && matches(token, i)) return i;
  }
  return -1;
}

function sourceOf(tokens: readonly Token[], source: string): string {
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  return first && last ? source.slice(first.start, last.end) : "";
}

/** Reads a statement's tokens front to back. Past the end, reads give undefined and accepts fail. */
class Cursor {
  private at = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.at + ahead];
  }

  next(): Token | undefined {
    const token = this.tokens[this.at];
    if (token) this.at++;
    return token;
  }

  rest(): Token[] {
    return this.tokens.slice(this.at);
  }

  /** Consumes the keywords if they come next, in order; otherwise consumes nothing. */
  accept(...keywords: string[]): boolean {
    if (!keywords.every((keyword, i) => isKeyword(this.peek(i), keyword))) return false;
    this.at += keywords.length;
    return true;
  }

  /** Consumes the next token if it is one of the keywords in `words`, giving what that keyword maps to. */
  acceptOneOf<T>(words: ReadonlyMap<string, T>): T | undefined {
    const found = words.get(keywordOf(this.peek()) ?? "");
    if (found !== undefined) this.at++;
    return found;
  }

  acceptOperator(operator: string): boolean {
    if (!isOperator(this.peek(), operator)) return false;
    this.at++;
    return true;
  }

  /** `name` or `schema.name`; the name is empty if missing. */
  qualifiedName(): { name: string; schema?: string } {
    const first = nameOf(this.peek());
    if (first === undefined) return { name: "" };
    this.at++;
    if (!this.acceptOperator(".")) return { name: first };
    const second = nameOf(this.peek());
    if (second !== undefined) this.at++;
    return { name: second ?? "", schema: first };
  }
}

// Pragmas whose argument names something to read (`PRAGMA table_info(users)`), not a new setting.
export const QUERY_PRAGMAS: ReadonlySet<string> = new Set([
  "table_info",
  "table_xinfo",
  "table_list",
  "index_info",
  "index_xinfo",
  "index_list",
  "foreign_key_list",
  "foreign_key_check",
  "integrity_check",
  "quick_check",
  // `PRAGMA page_count = N` reads the count and ignores N (max_page_count is the one that sets).
  "page_count",
]);

// Pragmas that write even with no argument (optimize may run ANALYZE, though SQLite calls it read-only).
const ACTING_PRAGMAS = new Set(["incremental_vacuum", "optimize", "wal_checkpoint"]);

/**
 * Whether the statement only reads: queries, EXPLAIN, and pragmas that read. Best effort from the text;
 * better-sqlite3's `Statement.readonly` (sqlite3_stmt_readonly) is the authority once it is prepared,
 * except for what `writesBehindSqlite` finds.
 */
export function readsOnly(statement: Statement): boolean {
  if (writesBehindSqlite(statement)) return false;
  if (statement.kind === "select") return true;
  if (statement.kind !== "pragma") return false;
  const { name, assigns } = statement.pragma;
  return QUERY_PRAGMAS.has(name) || !assigns;
}

/**
 * Statements that write although sqlite3_stmt_readonly may call them read-only: their writes are
 * nested statements run by a function (FTS3/4's `optimize()` rewrites its shadow tables) or by the
 * pragma itself (`PRAGMA optimize` runs ANALYZE), which the outer program does not show.
 */
export function writesBehindSqlite(statement: Statement): boolean {
  if (statement.kind === "pragma") return ACTING_PRAGMAS.has(statement.pragma.name);
  return callsFunction(statement, "optimize");
}

/**
 * The pragmas a statement reaches through their table-valued functions (`pragma_table_info(...)`), by
 * pragma name, folded. SQLite looks these up by an ASCII-case-insensitive `pragma_` prefix; string
 * literals count too, since SQLite takes `'pragma_x'` as a table name in FROM.
 */
export function pragmaFunctions(statement: Statement): string[] {
  const names: string[] = [];
  for (const token of statement.tokens) {
    const name = nameOf(token);
    if (name === undefined || name.length <= 7) continue;
    const folded = foldCase(name);
    if (folded.startsWith("pragma_")) names.push(folded.slice(7));
  }
  return names;
}

/**
 * Whether any name in the statement is `name`, quoted or not, in any letter case. String literals count
 * too, since SQLite takes `'t'` as a table name where it expects one (`DELETE FROM '_tenantdb_'`): a
 * string that merely equals the name is a false alarm, which is the safe way to be wrong.
 */
export function mentionsIdentifier(statement: Statement, name: string): boolean {
  return statement.tokens.some((token) => {
    const candidate = nameOf(token);
    return candidate !== undefined && sameName(candidate, name);
  });
}

/** Whether the statement calls function `name` anywhere: a name, quoted or not, followed by `(`. */
export function callsFunction(statement: Statement, name: string): boolean {
  return statement.tokens.some(
    (token, i) =>
      (token.kind === "word" || token.kind === "quoted") &&
      token.value !== undefined &&
      sameName(token.value, name) &&
      isOperator(statement.tokens[i + 1], "("),
  );
}

/** The index of the `)` closing the `(` at `open`, or -1. */
export function closingParen(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (isOperator(tokens[i], "(")) depth++;
    else if (isOperator(tokens[i], ")") && --depth === 0) return i;
  }
  return -1;
}

/** Splits tokens at commas outside parentheses. */
export function splitTopLevel(tokens: readonly Token[]): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (isOperator(t, "(")) depth++;
    else if (isOperator(t, ")")) depth--;
    if (depth === 0 && isOperator(t, ",")) parts.push([]);
    else parts[parts.length - 1]?.push(t);
  }
  return parts.filter((p) => p.length > 0);
}
