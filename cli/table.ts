import { displayWidth, padEndDisplay } from "./width.js";

/** Cells as people read them: NULL spelled out, blobs as hex literals. */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (v instanceof Uint8Array) return `x'${Buffer.from(v).toString("hex")}'`;
  if (typeof v === "boolean") return v ? "yes" : "no";
  return String(v);
}

/** Columns aligned by display width (CJK and emoji take two columns), two spaces apart, no borders. */
export function alignedLines(headers: string[] | undefined, cells: string[][]): string[] {
  const widths = columnWidths(headers, cells, headers?.length ?? cells[0]?.length ?? 0);
  const row = (values: string[]) =>
    values
      .map((v, i) => padEndDisplay(v, widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [...(headers ? [row(headers)] : []), ...cells.map(row)];
}

export function columnWidths(headers: string[] | undefined, cells: string[][], count: number): number[] {
  return Array.from({ length: count }, (_, i) =>
    Math.max(displayWidth(headers?.[i] ?? ""), ...cells.map((r) => displayWidth(r[i] ?? ""))),
  );
}
