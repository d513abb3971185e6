import type { Finding } from "../../engine/index.js";
import type { SchemaPlanRecord } from "./backend.js";

/** A plan as both backends hand it to resources, whichever way it arrived (an engine object or JSON). */
export function schemaPlanRecord(plan: {
  fromVersion: number;
  statements: string[];
  checksum: string;
  lint: Pick<Finding, "kind" | "code" | "message" | "rows">[];
  destructive: boolean;
}): Omit<SchemaPlanRecord, "dryRun"> {
  return {
    fromVersion: plan.fromVersion,
    statements: plan.statements,
    checksum: plan.checksum,
    lint: plan.lint.map((f) => {
      const rows = f.rows ? ` (copies ${f.rows.total} row(s) over ${f.rows.databases} database(s))` : "";
      return `${f.kind} ${f.code}: ${f.message}${rows}`;
    }),
    destructive: plan.destructive,
  };
}
