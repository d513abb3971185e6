import type { QueryResult, SqlValue } from "../../engine/query/values.js";
import { toJsonValue } from "../../engine/query/values.js";
import { printLine } from "../output.js";
import { alignedLines, columnWidths, formatCell } from "../table.js";
import { displayWidth, padEndDisplay } from "../width.js";

/** sqlite3's output modes that people reach for; `column` (aligned, no borders) is the default. */
export const MODES = ["column", "table", "box", "json", "csv", "line"] as const;
export type Mode = (typeof MODES)[number];

export interface RenderOptions {
  mode: Mode;
  headers: boolean;
}

/** Prints one statement's result in the shell's current mode. */
export function render(r: QueryResult, opts: RenderOptions): void {
  if (r.columns.length === 0) {
    if (r.rowsAffected > 0) printLine(`${r.rowsAffected} row${r.rowsAffected === 1 ? "" : "s"} affected`);
    return;
  }
  const lines = RENDERERS[opts.mode](r.columns, r.rows, opts.headers);
  for (const line of lines) printLine(line);
}

type Renderer = (columns: string[], rows: SqlValue[][], headers: boolean) => string[];

const RENDERERS: Record<Mode, Renderer> = {
  column(columns, rows, headers) {
    return alignedLines(
      headers ? columns.map((c) => c.toUpperCase()) : undefined,
      rows.map((r) => r.map(formatCell)),
    );
  },
  table(columns, rows, headers) {
    return bordered(columns, rows, headers, ASCII);
  },
  box(columns, rows, headers) {
    return bordered(columns, rows, headers, BOX);
  },
  json(columns, rows) {
    if (rows.length === 0) return [];
    const objects = rows.map((r) =>
      JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, jsonCell(r[i] ?? null)]))),
    );
    return [`[${objects.join(",\n")}]`];
  },
  csv(columns, rows, headers) {
    const line = (cells: string[]) => cells.map(csvCell).join(",");
    const body = rows.map((r) => line(r.map((v) => (v === null ? "" : formatCell(v)))));
    return headers ? [line(columns), ...body] : body;
  },
  line(columns, rows) {
    const width = Math.max(...columns.map(displayWidth));
    return rows.flatMap((r, n) => [
      ...(n > 0 ? [""] : []),
      ...columns.map((c, i) => `${" ".repeat(width - displayWidth(c))}${c} = ${formatCell(r[i] ?? null)}`),
    ]);
  },
};

function jsonCell(v: SqlValue): unknown {
  // sqlite3's json mode writes a blob as hex text; toJsonValue keeps integers exact.
  return v instanceof Uint8Array ? Buffer.from(v).toString("hex") : toJsonValue(v);
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

interface Frame {
  top: [string, string, string];
  middle: [string, string, string];
  bottom: [string, string, string];
  line: string;
  side: string;
}
const ASCII: Frame = {
  top: ["+", "+", "+"],
  middle: ["+", "+", "+"],
  bottom: ["+", "+", "+"],
  line: "-",
  side: "|",
};
const BOX: Frame = {
  top: ["┌", "┬", "┐"],
  middle: ["├", "┼", "┤"],
  bottom: ["└", "┴", "┘"],
  line: "─",
  side: "│",
};

function bordered(columns: string[], rows: SqlValue[][], headers: boolean, f: Frame): string[] {
  const cells = rows.map((r) => r.map(formatCell));
  const widths = columnWidths(headers ? columns : undefined, cells, columns.length);
  const rule = ([l, m, r]: [string, string, string]) =>
    `${l}${widths.map((w) => f.line.repeat(w + 2)).join(m)}${r}`;
  const row = (values: string[]) =>
    `${f.side} ${values.map((v, i) => padEndDisplay(v, widths[i] ?? 0)).join(` ${f.side} `)} ${f.side}`;
  return [rule(f.top), ...(headers ? [row(columns), rule(f.middle)] : []), ...cells.map(row), rule(f.bottom)];
}
