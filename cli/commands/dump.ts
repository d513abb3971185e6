import { isTenantDbError } from "../../engine/errors.js";
import type { Engine } from "../../engine/index.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { dumpDatabase, loadSql, readImportFile } from "../load-sql.js";
import { printJson, printLine } from "../output.js";

/** `db dump`: SQL text on stdout, so `tenantdb db dump a > a.sql` and `sqlite3 x.db < a.sql` just work. */
export async function dbDump(g: GlobalOptions, name: string) {
  await withEngine(g, async (engine) => {
    if (!g.json) return dumpDatabase(engine, name, printLine);
    const lines: string[] = [];
    await dumpDatabase(engine, name, (l) => lines.push(l));
    printJson({ database: name, sql: `${lines.join("\n")}\n` });
  });
}

/** `db import`: a .sql script or a SQLite file into a database, created (standard) when it does not exist. */
export async function dbImport(g: GlobalOptions, name: string, file: string, opts: { group?: string }) {
  const sql = await readImportFile(file);
  await withEngine(
    g,
    async (engine) => {
      const created = !exists(engine, name);
      if (created) {
        await engine.createDatabase(name, {
          group: opts.group ?? "default",
          createGroup: opts.group === undefined,
        });
      }
      const statements = await loadOrRemove(engine, name, sql, created);
      if (g.json) return printJson({ database: name, created, statements });
      printLine(
        `Imported ${file} into ${created ? "new database " : ""}${name}: ${statements} statement${statements === 1 ? "" : "s"}.`,
      );
    },
    { create: true },
  );
}

/** Loads SQL into a database; one this command just created is removed again if the load fails. */
export async function loadOrRemove(
  engine: Engine,
  name: string,
  sql: string,
  created: boolean,
): Promise<number> {
  try {
    return await loadSql(engine, name, sql);
  } catch (e) {
    if (created) engine.destroyDatabase(name);
    throw e;
  }
}

function exists(engine: Engine, name: string): boolean {
  try {
    engine.getDatabase(name);
    return true;
  } catch (e) {
    if (isTenantDbError(e) && e.code === "NOT_FOUND") return false;
    throw e;
  }
}
