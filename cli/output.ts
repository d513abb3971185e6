import { type QueryResult, toJsonValue } from "../engine/index.js";

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
  const cells = rows.map((r) => r.map(formatCell));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  printLine(line(headers.map((h) => h.toUpperCase())));
  for (const r of cells) printLine(line(r));
}

export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (v instanceof Uint8Array) return `x'${Buffer.from(v).toString("hex")}'`;
  if (typeof v === "boolean") return v ? "yes" : "no";
  return String(v);
}

/** A statement's result in the `db shell --json` shape. */
export function resultJson(r: QueryResult) {
  return {
    columns: r.columns,
    rows: r.rows.map((row) => row.map(toJsonValue)),
    rowsAffected: r.rowsAffected,
  };
}

export function printResult(r: QueryResult): void {
  if (r.columns.length > 0) printTable(r.columns, r.rows);
  else if (r.rowsAffected > 0) printLine(`${r.rowsAffected} row${r.rowsAffected === 1 ? "" : "s"} affected`);
}
