/**
 * The schema's history, oldest first. Each entry is one migration, applied to the schema database and
 * every tenant all or none. To change the schema, append an entry — never edit or remove one that was
 * applied (the provider refuses it at preview).
 */
export const migrations: string[] = [
  `CREATE TABLE users (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL,
     email TEXT NOT NULL UNIQUE
   )`,
  `CREATE TABLE invoices (
     id INTEGER PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES users(id),
     amount_cents INTEGER NOT NULL,
     issued_at TEXT NOT NULL DEFAULT (datetime('now'))
   );
   CREATE INDEX invoices_user ON invoices(user_id)`,
  // Append the next migration here, e.g.:
  // "ALTER TABLE users ADD COLUMN phone_number TEXT",
];
