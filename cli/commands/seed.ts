import fs from "node:fs";
import { invalidArgument } from "../../engine/errors.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { dumpDatabase } from "../load-sql.js";
import type { DbCreateOptions } from "./db.js";
import { printCreated } from "./db.js";
import { loadOrRemove } from "./dump.js";

/** `db create --from-db` / `--from-dump`: a new database seeded from a template; on failure it is not created. */
export async function createSeeded(g: GlobalOptions, names: string[], opts: DbCreateOptions) {
  if (names.length !== 1) throw invalidArgument("--from-db and --from-dump create one database at a time");
  if (opts.schema !== undefined) {
    throw invalidArgument(
      "a child always starts as a copy of its schema database; --from-db and --from-dump are for standard and schema databases",
    );
  }
  if (opts.fromDb !== undefined && opts.fromDump !== undefined) {
    throw invalidArgument("pass --from-db or --from-dump, not both");
  }
  const name = names[0] as string;
  const dumpText = opts.fromDump !== undefined ? readDump(opts.fromDump) : undefined;
  await withEngine(
    g,
    async (engine) => {
      let sql = dumpText;
      if (sql === undefined) {
        const lines: string[] = [];
        await dumpDatabase(engine, opts.fromDb as string, (l) => lines.push(l));
        sql = lines.join("\n");
      }
      await engine.createDatabase(name, {
        group: opts.group ?? "default",
        type: opts.type as "schema" | "standard" | undefined,
        createGroup: opts.group === undefined,
      });
      await loadOrRemove(engine, name, sql, true);
      printCreated(g, engine.getDatabase(name), opts.fromDb ?? opts.fromDump);
    },
    { create: true },
  );
}

function readDump(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw invalidArgument(`cannot read ${file}: ${(e as Error).message}`);
  }
}
