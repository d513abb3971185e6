import fs from "node:fs";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { quoteIdentifier } from "../dump-sql.js";
import { printJson, printLine, printTable } from "../output.js";

/** `db inspect`: what a database holds and how big it is, like `turso db inspect`. */
export async function dbInspect(g: GlobalOptions, name: string) {
  await withEngine(g, async (engine) => {
    const db = engine.getDatabase(name);
    const sizeBytes = fs.statSync(db.path).size;
    const session = engine.openSession(name);
    try {
      const rows = async (sql: string) => (await session.execute(sql))[0]?.rows ?? [];
      const tableNames = (await rows(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name != '_tenantdb_' ORDER BY name",
      )) as [string][];
      const tables: { name: string; rows: number }[] = [];
      for (const [t] of tableNames) {
        const [[count] = [0]] = await rows(`SELECT count(*) FROM ${quoteIdentifier(t)}`);
        tables.push({ name: t, rows: Number(count) });
      }
      const indexes = (
        (await rows(
          "SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY tbl_name, name",
        )) as [string, string][]
      ).map(([index, table]) => ({ name: index, table }));
      const info = {
        name: db.name,
        type: db.type,
        schemaVersion: db.schemaVersion,
        sizeBytes,
        tables,
        indexes,
      };
      if (g.json) return printJson(info);
      printLine(
        `${db.name}: ${db.type} database, schema version ${db.schemaVersion}, ${formatBytes(sizeBytes)}`,
      );
      printLine();
      if (tables.length === 0) printLine("No tables.");
      else
        printTable(
          ["table", "rows"],
          tables.map((t) => [t.name, t.rows]),
        );
      if (indexes.length > 0) {
        printLine();
        printTable(
          ["index", "table"],
          indexes.map((i) => [i.name, i.table]),
        );
      }
    } finally {
      session.close();
    }
  });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]} (${n} bytes)`;
}
