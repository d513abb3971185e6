/**
 * What SQLite's pragmas do not expose is read from the CREATE text SQLite stored, through the project's
 * tokenizer: CHECK constraints, collations, generated-column expressions, AUTOINCREMENT, index key
 * expressions. Text is compared in a canonical form, so whitespace, comments, keyword case and needless
 * quoting are never a change.
 */

import { closingParen, indexAtTopLevel, splitTopLevel } from "../sql/statements.js";
import { isOperator, isTrivia, keywordOf, nameOf, type Token, tokenize } from "../sql/tokenize.js";

/** The tokens of `sql` without whitespace and comments. */
export function meaningfulTokens(sql: string): Token[] {
  return tokenize(sql).filter((t) => !isTrivia(t));
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Words SQLite reserves, rendered upper-case; any other bare word is a name and keeps its spelling. */
const KEYWORDS = new Set(
  `ABORT ACTION ADD AFTER ALL ALTER ALWAYS AND AS ASC AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST
  CHECK COLLATE COLUMN CONFLICT CONSTRAINT CREATE CROSS CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DEFAULT
  DEFERRABLE DEFERRED DELETE DESC DISTINCT DROP EACH ELSE END ESCAPE EXCEPT EXISTS FAIL FILTER FOR FOREIGN FROM
  FULL GENERATED GLOB GROUP HAVING IF IGNORE IMMEDIATE IN INDEX INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS
  ISNULL JOIN KEY LEFT LIKE LIMIT MATCH NATURAL NO NOT NOTNULL NULL OF OFFSET ON OR ORDER OUTER OVER PARTITION
  PRIMARY RAISE RECURSIVE REFERENCES REGEXP RENAME REPLACE RESTRICT RIGHT ROLLBACK ROW ROWID SELECT SET STORED
  STRICT TABLE TEMP THEN TO TRIGGER UNION UNIQUE UPDATE USING VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT`.split(
    /\s+/,
  ),
);

/** One token in canonical spelling. */
function canonicalToken(t: Token): string {
  const keyword = keywordOf(t);
  if (keyword !== undefined && KEYWORDS.has(keyword)) return keyword;
  if (t.kind === "quoted" && t.value !== undefined) {
    return PLAIN_NAME.test(t.value) && !KEYWORDS.has(t.value.toUpperCase()) ? t.value : quoteName(t.value);
  }
  return t.text;
}

/** Tokens joined in one canonical spelling: `a>0`, `A  >  0` and `"a" > 0` all read `a > 0`. */
export function canonicalText(tokens: readonly Token[]): string {
  let out = "";
  let prev: Token | undefined;
  for (const t of tokens) {
    const glued =
      prev === undefined ||
      isOperator(t, ",") ||
      isOperator(t, ")") ||
      isOperator(t, ".") ||
      isOperator(prev, "(") ||
      isOperator(prev, ".") ||
      t.kind === "semicolon" ||
      (isOperator(t, "(") && (prev.kind === "word" || prev.kind === "quoted") && !keywordOf(prev));
    out += (glued ? "" : " ") + canonicalToken(t);
    prev = t;
  }
  return out;
}

export function canonicalSql(sql: string): string {
  return canonicalText(meaningfulTokens(sql));
}

export function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** What one column definition of a CREATE TABLE says beyond `PRAGMA table_xinfo`. */
export interface ColumnClauses {
  name: string;
  collation: string | null;
  checks: string[];
  generated: string | null;
  autoincrement: boolean;
  /** The definition's source text, for `ALTER TABLE ... ADD COLUMN`. */
  source: string;
  /** Where the definition starts and where the next one starts, in the CREATE text (for rename hints). */
  start: number;
  end: number;
}

export interface TableClauses {
  columns: ColumnClauses[];
  checks: string[];
}

const TABLE_CONSTRAINTS = new Set(["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]);

/** The clauses of a CREATE TABLE statement that pragmas leave out. */
export function parseCreateTable(sql: string): TableClauses {
  const tokens = meaningfulTokens(sql);
  const open = tokens.findIndex((t) => isOperator(t, "("));
  const close = open < 0 ? -1 : closingParen(tokens, open);
  if (open < 0 || close < 0) return { columns: [], checks: [] };
  const parts = splitTopLevel(tokens.slice(open + 1, close));
  const columns: ColumnClauses[] = [];
  const checks: string[] = [];
  const bodyEnd = tokens[close]?.start ?? sql.length;
  for (const [i, part] of parts.entries()) {
    const first = part[0] as Token;
    const keyword = keywordOf(first);
    if (keyword !== undefined && TABLE_CONSTRAINTS.has(keyword) && first.kind === "word") {
      checks.push(...checksIn(part));
      continue;
    }
    const next = parts[i + 1]?.[0];
    columns.push({
      name: nameOf(first) ?? first.text,
      collation: collationIn(part),
      checks: checksIn(part),
      generated: generatedIn(part),
      autoincrement: part.some((t) => keywordOf(t) === "AUTOINCREMENT"),
      source: sql.slice(first.start, (part[part.length - 1] as Token).end),
      start: first.start,
      end: next?.start ?? bodyEnd,
    });
  }
  return { columns, checks };
}

/** The expressions of every `CHECK (...)` in the tokens, canonical. */
function checksIn(part: readonly Token[]): string[] {
  const out: string[] = [];
  for (const [i, t] of part.entries()) {
    if (keywordOf(t) !== "CHECK" || !isOperator(part[i + 1], "(")) continue;
    const end = closingParen(part, i + 1);
    if (end > 0) out.push(canonicalText(part.slice(i + 2, end)));
  }
  return out;
}

function collationIn(part: readonly Token[]): string | null {
  const at = indexAtTopLevel(part, (t) => keywordOf(t) === "COLLATE");
  const name = at < 0 ? undefined : nameOf(part[at + 1]);
  return name === undefined ? null : name.toUpperCase();
}

/** `[GENERATED ALWAYS] AS (expr) [STORED|VIRTUAL]`, canonical. */
function generatedIn(part: readonly Token[]): string | null {
  const at = indexAtTopLevel(part, (t, i) => keywordOf(t) === "AS" && isOperator(part[i + 1], "("));
  if (at < 0) return null;
  const end = closingParen(part, at + 1);
  return end < 0 ? null : canonicalText(part.slice(at + 2, end));
}

/** The key of `CREATE [UNIQUE] INDEX name ON table (key) [WHERE expr]`: key and WHERE, canonical. */
export function parseCreateIndex(sql: string): { key: string; where: string | null } {
  const tokens = meaningfulTokens(sql);
  const open = tokens.findIndex((t) => isOperator(t, "("));
  const close = open < 0 ? -1 : closingParen(tokens, open);
  if (close < 0) return { key: "", where: null };
  const key = splitTopLevel(tokens.slice(open + 1, close))
    .map((part) => canonicalText(part))
    .join(", ");
  const rest = tokens.slice(close + 1);
  return { key, where: keywordOf(rest[0]) === "WHERE" ? canonicalText(rest.slice(1)) : null };
}
