import type { QueryResult } from "../engine/query/values.js";
import { toJsonValue } from "../engine/query/values.js";
import { alignedLines, formatCell } from "./table.js";

/**
 * Everything the CLI prints goes through here: JSON on stdout and nothing else with --json, aligned
 * tables for people otherwise.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return toJsonValue(value);
  return value;
}

export function printLine(text = ""): void {
  process.stdout.write(`${text}\n`);
}

export function printTable(headers: string[], rows: unknown[][]): void {
  const lines = alignedLines(
    headers.map((h) => h.toUpperCase()),
    rows.map((r) => r.map(formatCell)),
  );
  for (const line of lines) printLine(line);
}

/** A statement's result in the `db shell --json` shape. */
export function resultJson(r: QueryResult) {
  return {
    columns: r.columns,
    rows: r.rows.map((row) => row.map(toJsonValue)),
    rowsAffected: r.rowsAffected,
  };
}
