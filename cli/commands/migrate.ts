import { checksumOf, failedPrecondition } from "../../engine/index.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { readMigrationSource } from "../migration-files.js";
import { printJson, printLine } from "../output.js";
import { jobProgress } from "../progress.js";

/**
 * `tenantdb db migrate <schema-db> <file | folder>`: applies the migrations not applied yet (known by
 * checksum in the schema database's history) as one job, all or none; `--dry-run` runs them on every
 * database and rolls back, reporting where they would fail.
 */
export async function dbMigrate(g: GlobalOptions, name: string, source: string, opts: { dryRun?: boolean }) {
  const files = readMigrationSource(source);
  await withEngine(g, async (engine) => {
    const history = engine.listMigrations(name).map((m) => m.sql);
    const applied = new Set(history.map(checksumOf));
    const pending = files.filter((f) => !applied.has(checksumOf(f.sql)));
    const skipped = files.length - pending.length;
    // The desired history is the applied one followed by what is new, so the engine's usual
    // append-only checks and its expected-version guard apply unchanged.
    const desired = [...history, ...pending.map((f) => f.sql)];
    if (pending.length === 0) {
      if (g.json) return printJson({ applied: [], skipped, dryRun: Boolean(opts.dryRun) });
      return printLine(`Nothing to apply: all ${files.length} migration(s) are already applied to ${name}.`);
    }
    if (opts.dryRun) {
      const preview = await engine.previewMigrations(name, desired);
      if (g.json) {
        printJson({ dryRun: true, pending: pending.map((f) => f.name), skipped, ...preview });
      } else {
        printLine(
          `Dry run of ${pending.length} migration(s) on ${preview.databases} database(s): ${pending.map((f) => f.name).join(", ")}`,
        );
        for (const f of preview.failures) printLine(`  would fail on ${f.database}: ${f.error}`);
        printLine(
          preview.failed === 0
            ? "Every database would accept them. Nothing was changed."
            : `${preview.failed} database(s) would refuse them. Nothing was changed.`,
        );
      }
      if (preview.failed > 0) {
        throw failedPrecondition(
          `the migrations would fail on ${preview.failed} database(s); nothing was changed`,
        );
      }
      return;
    }
    const started = Date.now();
    const progress = jobProgress(!g.json);
    const result = await engine
      .applyMigrations(name, desired, { onProgress: progress.onProgress })
      .finally(progress.done);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (g.json) {
      return printJson({
        applied: pending.map((f) => f.name),
        skipped,
        jobId: result.applied?.jobId,
        version: result.version,
        databases: result.applied?.databases,
      });
    }
    printLine(
      `Applied ${pending.length} migration(s) (${pending.map((f) => f.name).join(", ")}) to ${result.applied?.databases} database(s) in ${seconds} s: ${name} and its children are at schema version ${result.version}.`,
    );
    if (skipped > 0) printLine(`Skipped ${skipped} already applied.`);
  });
}
