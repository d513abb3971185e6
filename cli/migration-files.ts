import fs from "node:fs";
import path from "node:path";
import { invalidArgument } from "../engine/errors.js";

/**
 * The migrations a `db migrate` source holds, in order: one `.sql` file; a folder of ordered files
 * (`0001_init.sql`, `0002_…`); or a drizzle-kit folder, whose `meta/_journal.json` lists them. drizzle-kit's
 * `--> statement-breakpoint` markers are SQL comments, so each file is applied as it stands.
 */
export interface MigrationFile {
  name: string;
  sql: string;
}

export function readMigrationSource(source: string): MigrationFile[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch {
    throw invalidArgument(`no such file or folder: ${source}`);
  }
  if (stat.isFile()) return [{ name: path.basename(source), sql: read(source) }];
  const journal = path.join(source, "meta", "_journal.json");
  const files = fs.existsSync(journal) ? drizzleKitFiles(source, journal) : numberedFiles(source);
  if (files.length === 0) {
    throw invalidArgument(
      `${source} holds no migrations: expected files named like 0001_init.sql, or a drizzle-kit folder`,
    );
  }
  return files.map((name) => ({ name, sql: read(path.join(source, name)) }));
}

function numberedFiles(dir: string): string[] {
  const order = (name: string) => Number(/^(\d+)/.exec(name)?.[1]);
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d+.*\.sql$/i.test(name))
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b));
}

function drizzleKitFiles(dir: string, journal: string): string[] {
  let entries: unknown;
  try {
    entries = (JSON.parse(fs.readFileSync(journal, "utf8")) as { entries?: unknown }).entries;
  } catch (e) {
    throw invalidArgument(`cannot read drizzle-kit's journal ${journal}: ${(e as Error).message}`);
  }
  if (!Array.isArray(entries)) throw invalidArgument(`${journal} has no "entries" list`);
  return entries
    .map((entry: { idx?: unknown; tag?: unknown }) => {
      if (typeof entry?.tag !== "string" || typeof entry.idx !== "number") {
        throw invalidArgument(`${journal}: every entry needs a numeric "idx" and a "tag"`);
      }
      return { idx: entry.idx, file: `${entry.tag}.sql` };
    })
    .sort((a, b) => a.idx - b.idx)
    .map((e) => e.file)
    .filter((file) => {
      if (!fs.existsSync(path.join(dir, file)))
        throw invalidArgument(`${journal} lists ${file}, which is missing`);
      return true;
    });
}

function read(file: string): string {
  const sql = fs.readFileSync(file, "utf8");
  if (sql.trim() === "") throw invalidArgument(`${file} is empty`);
  return sql;
}
