import { isOperator } from "../sql/tokenize.js";
import type { SchemaDiff, TableDiff } from "./diff.js";
import { keyOf, type Schema, type Table } from "./model.js";
import { renameStatements } from "./rename.js";
import { meaningfulTokens, quoteName } from "./text.js";

/**
 * The statements that take `current` to `desired`, in an order SQLite accepts. They run as one migration
 * job, so in each database they share one transaction with foreign keys off around it (the job turns them
 * off before BEGIN whenever the schema has any) and `foreign_key_check` before COMMIT: no row is deleted by
 * a cascade, and a plan that would leave a dangling reference fails its dry run.
 *
 * Where `ALTER TABLE` can do it (RENAME, ADD COLUMN, DROP COLUMN), it does; anything else rebuilds the
 * table in the order sqlite.org gives ("Making Other Kinds Of Table Schema Changes"): create the new table,
 * copy, drop the old one, rename the new one. Views and triggers are dropped before the tables change and
 * created again after, since SQLite re-checks them on every RENAME and DROP COLUMN.
 */
export function planStatements(diff: SchemaDiff, current: Schema, desired: Schema): string[] {
  const out: string[] = [];
  const restructures =
    diff.renames.length > 0 || diff.alteredTables.some((t) => t.rebuild || t.dropped.length > 0);
  const views = restructures
    ? { dropped: [...current.views.values()], created: [...desired.views.values()] }
    : diff.views;
  const triggers = restructures
    ? { dropped: [...current.triggers.values()], created: [...desired.triggers.values()] }
    : diff.triggers;
  const droppedTables = new Set(diff.droppedTables.map((t) => keyOf(t.name)));

  for (const t of triggers.dropped) out.push(`DROP TRIGGER ${quoteName(t.name)}`);
  for (const v of views.dropped) out.push(`DROP VIEW ${quoteName(v.name)}`);
  for (const i of diff.indexes.dropped)
    if (!droppedTables.has(keyOf(i.table))) out.push(`DROP INDEX ${quoteName(i.name)}`);
  // Renamed in place first: the schema below is `current` after them.
  out.push(...renameStatements(diff.renames));
  const taken = new Set([...current.tables.keys(), ...desired.tables.keys()]);
  for (const t of diff.alteredTables) out.push(...(t.rebuild ? rebuild(t, taken) : alter(t)));
  for (const t of diff.createdTables) out.push(t.sql);
  for (const t of diff.droppedTables) out.push(`DROP TABLE ${quoteName(t.name)}`);
  for (const i of diff.indexes.created) out.push(i.sql);
  for (const v of views.created) out.push(v.sql);
  for (const t of triggers.created) out.push(t.sql);
  return out;
}

function alter(t: TableDiff): string[] {
  const table = quoteName(t.desired.name);
  return [
    ...t.added.map((c) => `ALTER TABLE ${table} ADD COLUMN ${c.source}`),
    ...t.dropped.map((c) => `ALTER TABLE ${table} DROP COLUMN ${quoteName(c.name)}`),
  ];
}

/**
 * The rebuild: columns present on both sides are copied by name (a column becoming NOT NULL with a
 * default takes the default where it was NULL), new ones take their defaults, generated ones are computed.
 * A rowid table without an INTEGER PRIMARY KEY keeps its rowids, which other tables may hold.
 */
function rebuild(t: TableDiff, taken: Set<string>): string[] {
  const name = t.desired.name;
  let temp = `_new_${name}`;
  while (taken.has(keyOf(temp))) temp = `_${temp}`;
  taken.add(keyOf(temp));
  const have = new Map(t.current.columns.map((c) => [keyOf(c.name), c]));
  const into: string[] = [];
  const from: string[] = [];
  if (!t.current.withoutRowid && !t.desired.withoutRowid && !hasRowidAlias(t.desired)) {
    into.push("rowid");
    from.push("rowid");
  }
  for (const c of t.desired.columns) {
    const old = have.get(keyOf(c.name));
    if (!old || c.generated) continue;
    const q = quoteName(c.name);
    into.push(q);
    from.push(c.notNull && !old.notNull && c.default !== null ? `IFNULL(${q}, ${c.default})` : q);
  }
  const statements = [renamedCreate(t.desired, temp)];
  if (into.length > 0) {
    statements.push(
      `INSERT INTO ${quoteName(temp)} (${into.join(", ")}) SELECT ${from.join(", ")} FROM ${quoteName(name)}`,
    );
  }
  statements.push(
    `DROP TABLE ${quoteName(name)}`,
    `ALTER TABLE ${quoteName(temp)} RENAME TO ${quoteName(name)}`,
  );
  return statements;
}

function hasRowidAlias(t: Table): boolean {
  const pk = t.columns.filter((c) => c.pk > 0);
  return !t.withoutRowid && pk.length === 1 && pk[0]?.type === "INTEGER";
}

/** The table's CREATE text with another name: the name is the token right before the column list. */
function renamedCreate(t: Table, name: string): string {
  const tokens = meaningfulTokens(t.sql);
  const open = tokens.findIndex((x) => isOperator(x, "("));
  const old = tokens[open - 1];
  if (!old) throw new Error(`cannot find the name in ${t.sql}`);
  const schemaPrefix = isOperator(tokens[open - 2], ".") ? (tokens[open - 3]?.start ?? old.start) : old.start;
  return `${t.sql.slice(0, schemaPrefix)}${quoteName(name)}${t.sql.slice(old.end)}`;
}
