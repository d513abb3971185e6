/**
 * A tokenizer for SQLite's SQL dialect, modelled on SQLite's own `sqlite3GetToken()` (tokenize.c).
 *
 * The guard decides what a statement does from these tokens, so where this tokenizer and SQLite's disagree
 * the disagreement must only ever make the guard see *more* than SQLite runs: it never throws, every
 * character of the input lands in exactly one token, and input SQLite would reject (an unterminated
 * string, a stray character) still yields tokens for the classifier to look at.
 */

export type TokenKind =
  | "space"
  | "comment"
  /** A bare word: a keyword or an unquoted identifier. SQLite decides which by grammar, not spelling. */
  | "word"
  /** An identifier in `"..."`, `[...]` or backticks. */
  | "quoted"
  | "string"
  | "blob"
  | "number"
  /** A bind parameter: `?`, `?NNN`, `:name`, `@name`, `$name`, `#name`. */
  | "variable"
  | "operator"
  | "semicolon"
  /** Something SQLite refuses to tokenize (a stray `!`, a malformed number or blob, a NUL). */
  | "illegal";

export interface Token {
  kind: TokenKind;
  /** The exact source text: `source.slice(start, end)`. */
  text: string;
  start: number;
  end: number;
  /** For `word`, `quoted` and `string`: the name or string with quotes removed and doubled quotes undone. */
  value?: string;
  /** A string, quoted identifier or block comment that reached the end of input without closing. */
  unterminated?: true;
}

/** Whitespace and comments: tokens that separate others and mean nothing on their own. */
export function isTrivia(token: Token): boolean {
  return token.kind === "space" || token.kind === "comment";
}

/**
 * The keyword a bare word would be, in upper case; undefined for other tokens. SQLite folds only ASCII
 * letters, so a word with any other character is never a keyword, though JavaScript upper-cases `ſelect`
 * (with a long s) to `SELECT`.
 */
export function keywordOf(token: Token | undefined): string | undefined {
  return token?.kind === "word" && ASCII_WORD.test(token.text) ? token.text.toUpperCase() : undefined;
}

const ASCII_WORD = /^[\w$]+$/;

export function isKeyword(token: Token | undefined, keyword: string): boolean {
  return token?.text.length === keyword.length && keywordOf(token) === keyword;
}

export function isOperator(token: Token | undefined, operator: string): boolean {
  return token?.kind === "operator" && token.text === operator;
}

/**
 * The name a token can stand for, unquoted: a bare word, a quoted identifier or a string literal (SQLite
 * accepts `'t'` wherever it expects a name, as in `DELETE FROM 't'`).
 */
export function nameOf(token: Token | undefined): string | undefined {
  return token?.kind === "word" || token?.kind === "quoted" || token?.kind === "string"
    ? token.value
    : undefined;
}

/** Whether two names are the same to SQLite, which ignores the case of ASCII letters only. */
export function sameName(a: string, b: string): boolean {
  return a.length === b.length && foldCase(a) === foldCase(b);
}

/** `name` with ASCII letters lower-cased, the form SQLite compares names in. */
export function foldCase(name: string): string {
  return name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** The tokens of `sql`, trivia included, covering every character in order. Linear in the input. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < sql.length) {
    const token = readToken(sql, at);
    tokens.push(token);
    at = token.end;
  }
  return tokens;
}

// Characters are compared as one-character strings; `charAt` past the end gives "", which matches nothing.

// SQLite starts whitespace only at these five, but then runs on through vertical tabs too: `\v1` is an
// unrecognized token while ` \v1` is a space and a number.
const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\f" || c === "\r";
const continuesSpace = (c: string) => isSpace(c) || c === "\v";
const isDigit = (c: string) => c >= "0" && c <= "9";
const isHexDigit = (c: string) => isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
const isLetter = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
// SQLite takes every byte >= 0x80 for an identifier character, so any non-ASCII code unit (surrogate
// halves included) is one here: a name may be written in any script.
const startsIdentifier = (c: string) => isLetter(c) || c === "_" || c >= "\x80";
const continuesIdentifier = (c: string) => startsIdentifier(c) || isDigit(c) || c === "$";

/** The end of the run of characters from `from` that `accept` takes. */
function scan(sql: string, from: number, accept: (c: string) => boolean): number {
  let i = from;
  while (i < sql.length && accept(sql.charAt(i))) i++;
  return i;
}

function readToken(sql: string, start: number): Token {
  const c = sql.charAt(start);
  const next = sql.charAt(start + 1);
  const make = (kind: TokenKind, end: number, extra?: Partial<Token>): Token => ({
    kind,
    text: sql.slice(start, end),
    start,
    end,
    ...extra,
  });

  if (isSpace(c)) return make("space", scan(sql, start + 1, continuesSpace));
  if (c === "'" || c === '"' || c === "`") return readQuoted(sql, start, c);
  if ((c === "x" || c === "X") && next === "'") return readBlob(sql, start);
  if (startsIdentifier(c)) {
    const end = scan(sql, start + 1, continuesIdentifier);
    return make("word", end, { value: sql.slice(start, end) });
  }
  if (isDigit(c) || (c === "." && isDigit(next))) return readNumber(sql, start);

  switch (c) {
    case "-": {
      if (next === "-") {
        const newline = sql.indexOf("\n", start);
        return make("comment", newline < 0 ? sql.length : newline);
      }
      if (next === ">") return make("operator", sql.charAt(start + 2) === ">" ? start + 3 : start + 2);
      return make("operator", start + 1);
    }
    case "/": {
      if (next !== "*") return make("operator", start + 1);
      const close = sql.indexOf("*/", start + 2);
      // An unterminated block comment is legal in SQLite: it runs to the end of the input.
      return close < 0 ? make("comment", sql.length, { unterminated: true }) : make("comment", close + 2);
    }
    case "[": {
      const close = sql.indexOf("]", start + 1);
      if (close < 0) return make("quoted", sql.length, { value: sql.slice(start + 1), unterminated: true });
      return make("quoted", close + 1, { value: sql.slice(start + 1, close) });
    }
    case ";":
      return make("semicolon", start + 1);
    case "?":
      return make("variable", scan(sql, start + 1, isDigit));
    case "$":
    case "@":
    case ":":
    case "#": {
      // better-sqlite3 builds SQLite with SQLITE_OMIT_TCL_VARIABLE: no `::` or `(...)` suffixes.
      const end = scan(sql, start + 1, continuesIdentifier);
      return make(end === start + 1 ? "illegal" : "variable", end);
    }
    case "<":
      return make("operator", next === "=" || next === ">" || next === "<" ? start + 2 : start + 1);
    case ">":
      return make("operator", next === "=" || next === ">" ? start + 2 : start + 1);
    case "=":
    case "|":
      return make("operator", next === c ? start + 2 : start + 1);
    case "!":
      return next === "=" ? make("operator", start + 2) : make("illegal", start + 1);
    case "(":
    case ")":
    case ",":
    case ".":
    case "+":
    case "*":
    case "%":
    case "&":
    case "~":
      return make("operator", start + 1);
    default:
      // Includes NUL, where SQLite stops reading: carrying on past it only lets the guard see more than
      // SQLite runs, never less.
      return make("illegal", start + 1);
  }
}

/** `'string'`, `"identifier"` or `` `identifier` ``, where a doubled delimiter stands for itself. */
function readQuoted(sql: string, start: number, quote: string): Token {
  const kind: TokenKind = quote === "'" ? "string" : "quoted";
  let value = "";
  let from = start + 1;
  for (;;) {
    const close = sql.indexOf(quote, from);
    if (close < 0) {
      value += sql.slice(from);
      return { kind, text: sql.slice(start), start, end: sql.length, value, unterminated: true };
    }
    value += sql.slice(from, close);
    if (sql.charAt(close + 1) !== quote) {
      return { kind, text: sql.slice(start, close + 1), start, end: close + 1, value };
    }
    value += quote;
    from = close + 2;
  }
}

/** `x'0A1b'`: an even number of hex digits. Anything else up to the next quote is one illegal token. */
function readBlob(sql: string, start: number): Token {
  const digitsEnd = scan(sql, start + 2, isHexDigit);
  const wellFormed = sql.charAt(digitsEnd) === "'" && (digitsEnd - start) % 2 === 0;
  const close = wellFormed ? digitsEnd : sql.indexOf("'", digitsEnd);
  const end = close < 0 ? sql.length : close + 1;
  return { kind: wellFormed ? "blob" : "illegal", text: sql.slice(start, end), start, end };
}

/** Decimal (`1_000`, `1.5e-3`, `.5`) or hex (`0x1F`); letters glued to the end make it illegal, as in SQLite. */
function readNumber(sql: string, start: number): Token {
  const at = (i: number) => sql.charAt(i);
  const digits = (from: number, accept: (c: string) => boolean) =>
    scan(sql, from, (c) => accept(c) || c === "_" /* SQLite 3.46's digit separator */);
  let i: number;
  if (at(start) === "0" && (at(start + 1) === "x" || at(start + 1) === "X") && isHexDigit(at(start + 2))) {
    i = digits(start + 2, isHexDigit);
  } else {
    i = digits(start, isDigit);
    if (at(i) === ".") i = digits(i + 1, isDigit);
    const exponent = at(i + 1) === "+" || at(i + 1) === "-" ? i + 2 : i + 1;
    if ((at(i) === "e" || at(i) === "E") && isDigit(at(exponent))) i = digits(exponent, isDigit);
  }
  const end = scan(sql, i, continuesIdentifier);
  return { kind: end === i ? "number" : "illegal", text: sql.slice(start, end), start, end };
}
