import { invalidArgument } from "../../engine/errors.js";
import type { JobView } from "../../engine/index.js";
import { wholeNumber } from "../../engine/whole-number.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson, printLine, printTable } from "../output.js";
import { jobProgress } from "../progress.js";

export interface ListOptions {
  job?: string;
  after?: string;
  limit?: string;
}

export async function migrationsList(g: GlobalOptions, name: string, opts: ListOptions = {}) {
  await withEngine(g, (engine) => {
    const id = opts.job === undefined ? undefined : whole("--job", opts.job);
    // A job's tasks come a page at a time (a running job over 100,000 children has a row for each).
    const page = {
      after: opts.after === undefined ? undefined : whole("--after", opts.after),
      limit: opts.limit === undefined ? undefined : whole("--limit", opts.limit),
    };
    // One job is read once, with its page of tasks when they are printed.
    const jobs =
      id === undefined ? engine.listJobs(name) : [engine.getJob(name, id, g.json ? page : { limit: 1 })];
    if (g.json) {
      return printJson(jobs.map((j) => jobJson(id === undefined ? engine.getJob(name, j.id, page) : j)));
    }
    if (jobs.length === 0) return printLine(`No migrations have run on ${name} yet.`);
    printTable(
      ["job", "state", "class", "version", "databases", "created", "finished", "statements"],
      jobs.map((j) => [
        j.id,
        j.state,
        j.class,
        j.version,
        progressText(j),
        isoTime(j.createdAt),
        j.finishedAt ? isoTime(j.finishedAt) : "-",
        oneLine(j.statements),
      ]),
    );
    for (const j of jobs.filter((x) => x.error)) printLine(`job ${j.id}: ${j.error}`);
    if (jobs.some((j) => j.state === "committed"))
      printLine(`Finish the incomplete job: tenantdb db migrations resume ${name}`);
  });
}

export async function migrationsResume(g: GlobalOptions, name: string) {
  await withEngine(g, async (engine) => {
    const progress = jobProgress(!g.json);
    const job = await engine
      .resumeMigrations(name, { onProgress: progress.onProgress })
      .finally(progress.done);
    if (g.json) return printJson(job ? jobJson(engine.getJob(name, job.id)) : null);
    printLine(
      job
        ? `Job ${job.id} is ${job.state}: ${name} and its children are at schema version ${job.version}.`
        : `Nothing to resume on ${name}.`,
    );
  });
}

function whole(option: string, text: string): number {
  const n = wholeNumber(text);
  if (n === undefined) throw invalidArgument(`${option} takes a whole number, not "${text}"`);
  return n;
}

function progressText(j: JobView): string {
  const done = j.state === "dry_run" ? j.progress.dry_run_ok : j.progress.done;
  const failed = j.progress.dry_run_failed + j.progress.failed;
  return `${done}/${j.total}${failed ? ` (${failed} failed)` : ""}`;
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

function oneLine(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

/** The engine keeps task states in snake_case (they are sqld's names); JSON keys are camelCase everywhere. */
function jobJson<T extends JobView>(job: T): T {
  const progress = Object.fromEntries(
    Object.entries(job.progress).map(([state, n]) => [
      state.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
      n,
    ]),
  );
  return { ...job, progress } as T;
}
