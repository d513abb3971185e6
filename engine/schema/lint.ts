import type { SchemaDiff } from "./diff.js";

/**
 * - destructive: data is dropped (a table or a column); refused unless explicitly allowed.
 * - data-dependent: may fail on some tenant's rows (NOT NULL, UNIQUE, CHECK, FOREIGN KEY, type, primary
 *   key); the job dry-runs it on every tenant before anything commits, and the plan names it.
 * - rebuild: the table is copied into a new one; its cost is the rows to copy.
 * - backward-incompatible: applications running against the old schema break (renames, drops).
 */
export type LintKind = "destructive" | "data-dependent" | "rebuild" | "backward-incompatible";

export interface RowCost {
  /** Rows to copy, summed over the schema database and every child. */
  total: number;
  /** The most rows to copy in one database. */
  max: number;
  databases: number;
}

export interface Finding {
  kind: LintKind;
  /** Stable: DS (destructive), MF (data-dependent), RB (rebuild), BC (backward-incompatible). */
  code: string;
  /** The table, index or view concerned. */
  object: string;
  message: string;
  /** For a rebuild: the rows it copies. */
  rows?: RowCost;
}

export function lintDiff(diff: SchemaDiff): Finding[] {
  const out: Finding[] = [];
  const add = (kind: LintKind, code: string, object: string, message: string) =>
    out.push({ kind, code, object, message });
  for (const r of diff.renames) {
    if (r.column === undefined) {
      add("backward-incompatible", "BC101", r.table, `table "${r.from}" renamed to "${r.table}"`);
    } else {
      add(
        "backward-incompatible",
        "BC102",
        r.table,
        `column "${r.table}"."${r.from}" renamed to "${r.column}"`,
      );
    }
  }
  for (const t of diff.droppedTables) {
    add("destructive", "DS102", t.name, `table "${t.name}" is dropped with all its rows`);
    add("backward-incompatible", "BC103", t.name, `table "${t.name}" disappears`);
  }
  for (const t of diff.alteredTables) {
    const table = t.desired.name;
    for (const c of t.dropped) {
      add("destructive", "DS103", table, `column "${table}"."${c.name}" is dropped with its data`);
      add("backward-incompatible", "BC104", table, `column "${table}"."${c.name}" disappears`);
    }
    for (const c of t.added) {
      if (c.notNull && c.default === null && !c.generated)
        add(
          "data-dependent",
          "MF103",
          table,
          `NOT NULL column "${table}"."${c.name}" has no default: fails where "${table}" has rows`,
        );
    }
    for (const c of t.modified) {
      // With a default, the rebuild's copy fills NULLs with it; without one, a NULL fails the copy.
      if (c.notNullAdded && c.default === null)
        add(
          "data-dependent",
          "MF104",
          table,
          `column "${table}"."${c.name}" becomes NOT NULL without a default: fails where it holds NULL`,
        );
      if (c.typeChanged)
        add(
          "data-dependent",
          "MF105",
          table,
          `column "${table}"."${c.name}": ${c.what.find((w) => w.startsWith("type"))}; values are converted to the new affinity`,
        );
    }
    for (const d of t.dataDependent)
      add("data-dependent", "MF101", table, `${d} on "${table}": fails where existing rows violate it`);
    if (t.rebuild) {
      const why = [...t.modified.map((c) => `"${c.name}": ${c.what.join(", ")}`), ...t.constraints];
      if (t.added.length > 0 && why.length === 0)
        why.push(`column(s) ${t.added.map((c) => `"${c.name}"`).join(", ")} cannot be added by ALTER TABLE`);
      add(
        "rebuild",
        "RB101",
        table,
        `table "${table}" is rebuilt (new table, copy, drop, rename): ${why.join("; ")}`,
      );
    }
  }
  for (const i of diff.indexes.created) {
    if (i.unique)
      add(
        "data-dependent",
        "MF102",
        i.table,
        `unique index "${i.name}" on "${i.table}": fails where existing rows hold duplicates`,
      );
  }
  const createdViews = new Set(diff.views.created.map((v) => v.name.toLowerCase()));
  for (const v of diff.views.dropped) {
    if (!createdViews.has(v.name.toLowerCase()))
      add("backward-incompatible", "BC105", v.name, `view "${v.name}" disappears`);
  }
  return out;
}
