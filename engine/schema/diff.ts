import {
  type Column,
  type Definition,
  foreignKeyText,
  type Index,
  keyOf,
  type Schema,
  type Table,
} from "./model.js";

/** A rename the author declared: tables by name; columns with the table's new name. */
export interface Rename {
  table: string;
  /** Set for a column rename. */
  column?: string;
  from: string;
}

export interface ColumnChange {
  name: string;
  /** What differs, for people: `type TEXT → INTEGER`, `NOT NULL added`. */
  what: string[];
  typeChanged: boolean;
  notNullAdded: boolean;
  /** The desired default: the rebuild's copy gives it to rows holding NULL. */
  default: string | null;
}

export interface TableDiff {
  current: Table;
  desired: Table;
  added: Column[];
  dropped: Column[];
  modified: ColumnChange[];
  /** Constraint and table-option differences, for people. */
  constraints: string[];
  /** Constraints that existing rows may violate: added CHECK, UNIQUE, FOREIGN KEY, primary key. */
  dataDependent: string[];
  /** ALTER TABLE cannot express the change: the table is rebuilt. */
  rebuild: boolean;
}

export interface ObjectChanges<T> {
  created: T[];
  dropped: T[];
}

export interface SchemaDiff {
  renames: Rename[];
  createdTables: Table[];
  droppedTables: Table[];
  alteredTables: TableDiff[];
  indexes: ObjectChanges<Index>;
  views: ObjectChanges<Definition>;
  triggers: ObjectChanges<Definition>;
}

export function isEmptyDiff(d: SchemaDiff): boolean {
  return (
    d.renames.length +
      d.createdTables.length +
      d.droppedTables.length +
      d.alteredTables.length +
      d.indexes.created.length +
      d.indexes.dropped.length +
      d.views.created.length +
      d.views.dropped.length +
      d.triggers.created.length +
      d.triggers.dropped.length ===
    0
  );
}

/**
 * Compares two schemas structurally. `current` is the schema after the declared renames (see rename.ts),
 * so tables and columns match by name alone: nothing is ever guessed.
 */
export function diffSchemas(current: Schema, desired: Schema, renames: Rename[] = []): SchemaDiff {
  const diff: SchemaDiff = {
    renames,
    createdTables: [],
    droppedTables: [],
    alteredTables: [],
    indexes: { created: [], dropped: [] },
    views: { created: [], dropped: [] },
    triggers: { created: [], dropped: [] },
  };
  for (const [key, want] of desired.tables) {
    const have = current.tables.get(key);
    if (!have) diff.createdTables.push(want);
    else {
      const t = diffTable(have, want);
      if (t) diff.alteredTables.push(t);
    }
  }
  for (const [key, have] of current.tables) if (!desired.tables.has(key)) diff.droppedTables.push(have);

  const rebuilt = new Set(diff.alteredTables.filter((t) => t.rebuild).map((t) => keyOf(t.desired.name)));
  diff.indexes = diffObjects(
    current.indexes,
    desired.indexes,
    (a, b) =>
      keyOf(a.table) === keyOf(b.table) && a.unique === b.unique && a.key === b.key && a.where === b.where,
  );
  // A rebuilt table loses its indexes with the old table: every desired index on it is created again.
  for (const [key, index] of desired.indexes) {
    if (rebuilt.has(keyOf(index.table)) && !diff.indexes.created.some((i) => keyOf(i.name) === key))
      diff.indexes.created.push(index);
  }
  const sameText = (a: Definition, b: Definition) => a.canonical === b.canonical;
  diff.views = diffObjects(current.views, desired.views, sameText);
  diff.triggers = diffObjects(current.triggers, desired.triggers, sameText);
  return diff;
}

function diffObjects<T extends { name: string }>(
  current: Map<string, T>,
  desired: Map<string, T>,
  same: (a: T, b: T) => boolean,
): ObjectChanges<T> {
  const out: ObjectChanges<T> = { created: [], dropped: [] };
  for (const [key, have] of current) {
    const want = desired.get(key);
    if (!want || !same(have, want)) out.dropped.push(have);
  }
  for (const [key, want] of desired) {
    const have = current.get(key);
    if (!have || !same(have, want)) out.created.push(want);
  }
  return out;
}

function diffTable(current: Table, desired: Table): TableDiff | null {
  const haveCols = new Map(current.columns.map((c) => [keyOf(c.name), c]));
  const pairs: [Column, Column][] = [];
  const added: Column[] = [];
  for (const want of desired.columns) {
    const have = haveCols.get(keyOf(want.name));
    if (have) {
      haveCols.delete(keyOf(have.name));
      pairs.push([have, want]);
    } else added.push(want);
  }
  const dropped = [...haveCols.values()];
  const modified = pairs.map(([a, b]) => columnChange(a, b)).filter((c): c is ColumnChange => c !== null);

  const constraints: string[] = [];
  const dataDependent: string[] = [];
  const setDiff = (label: string, have: string[], want: string[], risky: boolean) => {
    const before = new Set(have);
    const after = new Set(want);
    for (const x of after)
      if (!before.has(x)) {
        constraints.push(`${label} ${x} added`);
        if (risky) dataDependent.push(`${label} ${x}`);
      }
    for (const x of before) if (!after.has(x)) constraints.push(`${label} ${x} dropped`);
  };
  setDiff("CHECK", current.checks, desired.checks, true);
  setDiff("UNIQUE", current.uniques, desired.uniques, true);
  setDiff(
    "FOREIGN KEY",
    current.foreignKeys.map(foreignKeyText),
    desired.foreignKeys.map(foreignKeyText),
    true,
  );
  const pkOf = (t: Table) =>
    t.columns
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name)
      .join(", ");
  if (pkOf(current) !== pkOf(desired)) {
    constraints.push(`PRIMARY KEY (${pkOf(current)}) → (${pkOf(desired)})`);
    dataDependent.push(`PRIMARY KEY (${pkOf(desired)})`);
  }
  for (const option of ["withoutRowid", "strict", "autoincrement"] as const) {
    if (current[option] !== desired[option])
      constraints.push(
        `${option === "withoutRowid" ? "WITHOUT ROWID" : option.toUpperCase()} ${desired[option] ? "added" : "removed"}`,
      );
  }
  if (desired.strict && !current.strict) dataDependent.push("STRICT");

  if (added.length + dropped.length + modified.length + constraints.length === 0) return null;
  const rebuild =
    modified.length > 0 ||
    constraints.length > 0 ||
    added.some((c) => !addableColumn(c)) ||
    (dropped.length > 0 && desired.columns.some((c) => c.generated !== null));
  return { current, desired, added, dropped, modified, constraints, dataDependent, rebuild };
}

function columnChange(have: Column, want: Column): ColumnChange | null {
  const what: string[] = [];
  const typeChanged = have.type !== want.type;
  if (typeChanged) what.push(`type ${have.type || "(none)"} → ${want.type || "(none)"}`);
  const notNullAdded = want.notNull && !have.notNull;
  if (have.notNull !== want.notNull) what.push(`NOT NULL ${want.notNull ? "added" : "dropped"}`);
  if (have.default !== want.default)
    what.push(`DEFAULT ${have.default ?? "(none)"} → ${want.default ?? "(none)"}`);
  if (have.collation !== want.collation)
    what.push(`COLLATE ${have.collation ?? "BINARY"} → ${want.collation ?? "BINARY"}`);
  const gen = (c: Column) =>
    c.generated ? `AS (${c.generated.expr})${c.generated.stored ? " STORED" : ""}` : "(none)";
  if (gen(have) !== gen(want)) what.push(`generated ${gen(have)} → ${gen(want)}`);
  return what.length === 0
    ? null
    : { name: want.name, what, typeChanged, notNullAdded, default: want.default };
}

/**
 * Whether `ALTER TABLE ADD COLUMN` can add the column (sqlite.org/lang_altertable.html): not part of the
 * primary key, not STORED, a constant default (no CURRENT_* and no parenthesised expression), and a
 * NOT NULL column needs a non-NULL default. UNIQUE and REFERENCES show up as constraint changes.
 */
function addableColumn(c: Column): boolean {
  if (c.pk > 0 || c.generated?.stored) return false;
  const d = c.default;
  if (d !== null && (d.startsWith("(") || /^CURRENT_/.test(d))) return false;
  if (c.notNull && (d === null || d === "NULL")) return false;
  return true;
}
