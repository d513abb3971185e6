/**
 * A schema as structure: what SQLite's pragmas report about each table, index, view and trigger, plus the
 * clauses read from the CREATE text that pragmas leave out. Two schemas are equal when these are.
 */

export interface Column {
  name: string;
  /** The declared type, upper-cased with single spaces (`VARCHAR(10)`); empty when none was declared. */
  type: string;
  notNull: boolean;
  /** The DEFAULT expression, canonical; null when none. */
  default: string | null;
  /** Position in the primary key, from 1; 0 when not part of it. */
  pk: number;
  collation: string | null;
  /** The expression of a generated column, canonical, and whether it is STORED. */
  generated: { expr: string; stored: boolean } | null;
  /** The definition as written (for ADD COLUMN). */
  source: string;
}

export interface ForeignKey {
  columns: string[];
  table: string;
  /** Empty when the parent's primary key is meant. */
  to: string[];
  onUpdate: string;
  onDelete: string;
}

export interface Table {
  name: string;
  columns: Column[];
  autoincrement: boolean;
  withoutRowid: boolean;
  strict: boolean;
  /** UNIQUE constraints (not CREATE UNIQUE INDEX): each a canonical key list. */
  uniques: string[];
  checks: string[];
  foreignKeys: ForeignKey[];
  /** The CREATE TABLE text SQLite stored. */
  sql: string;
}

export interface Index {
  name: string;
  table: string;
  unique: boolean;
  /** Key columns and expressions, canonical. */
  key: string;
  where: string | null;
  sql: string;
}

/** A view or trigger: compared by its canonical text. */
export interface Definition {
  name: string;
  table: string;
  canonical: string;
  sql: string;
}

export interface Schema {
  /** Keyed by name folded to lower case (SQLite's names ignore ASCII case). */
  tables: Map<string, Table>;
  indexes: Map<string, Index>;
  views: Map<string, Definition>;
  triggers: Map<string, Definition>;
}

export const keyOf = (name: string) => name.toLowerCase();

export function foreignKeyText(fk: ForeignKey): string {
  const to = fk.to.length > 0 ? `(${fk.to.join(", ")})` : "";
  return `(${fk.columns.join(", ")}) REFERENCES ${fk.table}${to} ON UPDATE ${fk.onUpdate} ON DELETE ${fk.onDelete}`;
}
