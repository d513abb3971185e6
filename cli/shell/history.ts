import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const LIMIT = 1000;

/** The shell's history file: $TENANTDB_HISTORY, else ~/.tenantdb_history (like ~/.sqlite_history). */
export function historyFile(): string {
  return process.env.TENANTDB_HISTORY || path.join(os.homedir(), ".tenantdb_history");
}

/** Newest first, as readline keeps it. A missing or unreadable file is an empty history. */
export function loadHistory(file: string): string[] {
  try {
    return fs.readFileSync(file, "utf8").split("\n").filter(Boolean).reverse().slice(0, LIMIT);
  } catch {
    return [];
  }
}

/** Written after every line, so a killed shell loses nothing; never fatal (a read-only home is fine). */
export function saveHistory(file: string, newestFirst: string[]): void {
  try {
    fs.writeFileSync(file, `${newestFirst.slice(0, LIMIT).reverse().join("\n")}\n`, { mode: 0o600 });
  } catch {
    // History is a convenience; the shell works without it.
  }
}

export const HISTORY_LIMIT = LIMIT;
