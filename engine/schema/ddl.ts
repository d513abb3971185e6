import type { SchemaDiff } from "./diff.js";
import type { Column, Schema, Table } from "./model.js";
import { canonicalSql, quoteName } from "./text.js";

/**
 * A schema as canonical DDL: one spelling whatever the original formatting, tables rendered from their
 * structure, the rest from SQLite's stored text in canonical form. Loading it gives the same schema back.
 */
export function canonicalDdl(schema: Schema): string {
  const parts = [
    ...[...schema.tables.values()].map(tableDdl),
    ...[...schema.indexes.values()].map((i) => canonicalSql(i.sql)),
    ...[...schema.views.values()].map((v) => canonicalSql(v.sql)),
    ...[...schema.triggers.values()].map((t) => canonicalSql(t.sql)),
  ];
  return parts.map((p) => `${p};\n`).join("\n");
}

function tableDdl(t: Table): string {
  const pk = t.columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const inlinePk = pk.length === 1 && !t.withoutRowid ? pk[0] : undefined;
  const lines = t.columns.map((c) => columnDdl(c, c === inlinePk, t.autoincrement));
  if (pk.length > 0 && !inlinePk) lines.push(`PRIMARY KEY (${pk.map((c) => quoteName(c.name)).join(", ")})`);
  for (const u of t.uniques) lines.push(`UNIQUE (${u})`);
  for (const c of t.checks) lines.push(`CHECK (${c})`);
  for (const fk of t.foreignKeys) {
    const to = fk.to.length > 0 ? ` (${fk.to.map(quoteName).join(", ")})` : "";
    const actions = [
      fk.onUpdate !== "NO ACTION" ? ` ON UPDATE ${fk.onUpdate}` : "",
      fk.onDelete !== "NO ACTION" ? ` ON DELETE ${fk.onDelete}` : "",
    ].join("");
    lines.push(
      `FOREIGN KEY (${fk.columns.map(quoteName).join(", ")}) REFERENCES ${quoteName(fk.table)}${to}${actions}`,
    );
  }
  const options = [t.withoutRowid ? "WITHOUT ROWID" : "", t.strict ? "STRICT" : ""].filter(Boolean);
  return `CREATE TABLE ${quoteName(t.name)} (\n  ${lines.join(",\n  ")}\n)${options.length ? ` ${options.join(", ")}` : ""}`;
}

function columnDdl(c: Column, primaryKey: boolean, autoincrement: boolean): string {
  let s = quoteName(c.name);
  if (c.type) s += ` ${c.type}`;
  if (primaryKey) s += autoincrement ? " PRIMARY KEY AUTOINCREMENT" : " PRIMARY KEY";
  if (c.notNull) s += " NOT NULL";
  if (c.default !== null) s += ` DEFAULT ${c.default}`;
  if (c.collation) s += ` COLLATE ${c.collation}`;
  if (c.generated)
    s += ` GENERATED ALWAYS AS (${c.generated.expr}) ${c.generated.stored ? "STORED" : "VIRTUAL"}`;
  return s;
}

/** The changes of a diff, one line each, for people. */
export function describeDiff(diff: SchemaDiff): string[] {
  const out: string[] = [];
  for (const r of diff.renames) {
    out.push(
      r.column === undefined
        ? `rename table "${r.from}" to "${r.table}"`
        : `rename column "${r.table}"."${r.from}" to "${r.column}"`,
    );
  }
  for (const t of diff.createdTables) out.push(`create table "${t.name}"`);
  for (const t of diff.droppedTables) out.push(`drop table "${t.name}"`);
  for (const t of diff.alteredTables) {
    const what = [
      ...t.added.map((c) => `add column "${c.name}"`),
      ...t.dropped.map((c) => `drop column "${c.name}"`),
      ...t.modified.map((c) => `column "${c.name}": ${c.what.join(", ")}`),
      ...t.constraints,
    ];
    out.push(`${t.rebuild ? "rebuild" : "alter"} table "${t.desired.name}": ${what.join("; ")}`);
  }
  const objects = [
    ["index", diff.indexes],
    ["view", diff.views],
    ["trigger", diff.triggers],
  ] as const;
  for (const [kind, changes] of objects) {
    for (const o of changes.dropped) out.push(`drop ${kind} "${o.name}"`);
    for (const o of changes.created) out.push(`create ${kind} "${o.name}"`);
  }
  return out;
}
