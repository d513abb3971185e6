import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";

/**
 * Runs a GitHub Actions job's `run:` steps with bash, as a runner would, in a layout's repository: `if:` and
 * `${{ }}` evaluated for the event, `working-directory` honoured, GITHUB_ENV / GITHUB_OUTPUT /
 * GITHUB_STEP_SUMMARY carried from step to step, the first failing step ending the job. `uses:` steps are
 * the runner's own business (checkout, setup-node, the Pulumi CLI): they are recorded, not run. `npm`,
 * `pulumi` and `gh` are stand-ins on PATH that log their arguments and working directory — the installs
 * were done by the test, there is no Pulumi CLI here, and no GitHub — and the stand-in `pulumi` prints a
 * recorded `preview --json`.
 */

export interface Workflow {
  on: Record<string, unknown>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

export interface Job {
  "runs-on": string;
  environment?: string;
  steps: Step[];
}

export interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  with?: Record<string, unknown>;
  run?: string;
  env?: Record<string, string>;
  "working-directory"?: string;
}

export interface Call {
  tool: string;
  args: string[];
  /** The working directory, relative to the repository. */
  cwd: string;
}

export interface JobRun {
  /** Names (or `uses`) of the steps that ran, in order. */
  ran: string[];
  /** The step that failed, if any. */
  failed?: string;
  calls: Call[];
  /** Files `gh pr comment --body-file` posted. */
  comments: string[];
  env: Record<string, string>;
  log: string;
}

export interface RunOptions {
  event: "pull_request" | "push";
  /** What the stand-in `pulumi preview --json` prints, and its exit status. */
  preview: { json: string; exitCode: number };
}

export function readWorkflow(file: string): Workflow {
  return parse(fs.readFileSync(file, "utf8")) as Workflow;
}

const run = promisify(execFile);

export async function runJob(
  workflow: Workflow,
  job: string,
  repo: string,
  opts: RunOptions,
): Promise<JobRun> {
  const steps = workflow.jobs[job]?.steps;
  if (!steps) throw new Error(`the workflow has no job ${job}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-runner-"));
  const bin = path.join(work, "bin");
  fs.mkdirSync(bin);
  const callLog = path.join(work, "calls.jsonl");
  fs.writeFileSync(path.join(work, "preview.json"), opts.preview.json);
  for (const tool of ["npm", "pulumi", "gh"]) writeStandIn(bin, tool, callLog, work, opts.preview.exitCode);
  const files = { GITHUB_ENV: "env", GITHUB_OUTPUT: "output", GITHUB_STEP_SUMMARY: "summary" };
  const ctx: Context = {
    event: opts.event,
    outputs: {},
    env: {},
  };
  const result: JobRun = { ran: [], calls: [], comments: [], env: ctx.env, log: "" };
  Object.assign(ctx.env, substituteAll(workflow.env ?? {}, ctx));

  for (const step of steps) {
    const label = step.name ?? step.uses ?? step.run ?? "?";
    if (step.if !== undefined && !evaluate(step.if, ctx)) continue;
    result.ran.push(label);
    if (step.uses) {
      if (step.uses.startsWith("actions/upload-artifact")) {
        const artifact = path.join(repo, String(step.with?.path));
        if (!fs.existsSync(artifact)) {
          result.failed = label;
          result.log += `upload-artifact: ${artifact} does not exist\n`;
          break;
        }
      }
      continue;
    }
    const cwd = path.join(repo, step["working-directory"] ? substitute(step["working-directory"], ctx) : "");
    if (!fs.existsSync(cwd)) {
      result.failed = label;
      result.log += `working-directory ${cwd} does not exist\n`;
      break;
    }
    for (const [key, name] of Object.entries(files)) ctx.env[key] = path.join(work, name);
    for (const name of Object.values(files)) fs.writeFileSync(path.join(work, name), "");
    const env = {
      PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: process.env.HOME ?? work,
      ...ctx.env,
      ...substituteAll(step.env ?? {}, ctx),
    };
    try {
      const out = await run("bash", ["-e", "-c", step.run ?? ""], { cwd, env });
      result.log += out.stdout + out.stderr;
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      result.log += `${err.stdout ?? ""}${err.stderr ?? ""}`;
      result.failed = label;
      break;
    } finally {
      Object.assign(ctx.env, keyValues(path.join(work, "env")));
      if (step.id) ctx.outputs[step.id] = keyValues(path.join(work, "output"));
    }
  }
  result.calls = readCalls(callLog, repo);
  for (const call of result.calls) {
    const at = call.args.indexOf("--body-file");
    if (call.tool === "gh" && at >= 0) {
      result.comments.push(fs.readFileSync(path.join(work, `comment-${result.comments.length}.md`), "utf8"));
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
  return result;
}

/**
 * A stand-in (plain sh: node would add a second of start-up per call) that logs its tool, working directory
 * and arguments, one per line and a blank line after; `pulumi preview --json` prints the recorded preview.
 */
function writeStandIn(bin: string, tool: string, callLog: string, work: string, previewExit: number): void {
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const script = `#!/bin/sh
{ printf '%s\\n' ${q(tool)} "$PWD" "$@"; printf '\\n'; } >> ${q(callLog)}
case "${tool} $1 $*" in
  "pulumi preview "*--json*) cat ${q(path.join(work, "preview.json"))}; exit ${previewExit} ;;
esac
if [ ${q(tool)} = gh ]; then
  while [ $# -gt 0 ]; do
    if [ "$1" = --body-file ]; then n=$(ls ${q(work)} | grep -c '^comment-'); cp "$2" ${q(work)}/comment-$n.md; fi
    shift
  done
fi
`;
  fs.writeFileSync(path.join(bin, tool), script, { mode: 0o755 });
}

/** The calls the stand-ins logged. */
function readCalls(callLog: string, repo: string): Call[] {
  if (!fs.existsSync(callLog)) return [];
  return fs
    .readFileSync(callLog, "utf8")
    .split("\n\n")
    .filter((entry) => entry.trim() !== "")
    .map((entry) => {
      const [tool = "", cwd = "", ...args] = entry.replace(/^\n/, "").split("\n");
      return { tool, args, cwd: path.relative(repo, cwd) || "." };
    });
}

interface Context {
  event: string;
  outputs: Record<string, Record<string, string>>;
  env: Record<string, string>;
}

/** The value of a context reference such as `github.event_name` or `steps.preview.outputs.exit-code`. */
function lookup(ref: string, ctx: Context): string {
  if (ref === "github.event_name") return ctx.event;
  if (ref === "github.token") return "stand-in-token";
  if (ref === "github.ref") return ctx.event === "push" ? "refs/heads/main" : "refs/pull/7/merge";
  if (ref === "github.event.pull_request.number") return ctx.event === "pull_request" ? "7" : "";
  if (ref.startsWith("secrets.")) return "";
  if (ref.startsWith("env.")) return ctx.env[ref.slice(4)] ?? "";
  const step = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(ref);
  if (step) return ctx.outputs[step[1] ?? ""]?.[step[2] ?? ""] ?? "";
  throw new Error(`the runner does not know the expression context ${ref}`);
}

/**
 * The subset of the expression language the workflow uses: context references, string literals, `==`,
 * `!=`, `&&`, `||` and parentheses — translated to JavaScript over strings, so `a && 'x' || 'y'` keeps
 * its Actions meaning.
 */
function evaluate(expr: string, ctx: Context): string | boolean {
  const inner = expr.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
  const js = inner.replace(/'([^']*)'|([A-Za-z_][\w.-]*)|(==|!=)/g, (_m, literal, ref, op) => {
    if (literal !== undefined) return JSON.stringify(literal);
    if (op) return `${op}=`;
    if (ref === "true" || ref === "false") return ref;
    return JSON.stringify(lookup(ref, ctx));
  });
  return new Function(`return (${js});`)() as string | boolean;
}

function substitute(text: string, ctx: Context): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expr) => String(evaluate(expr, ctx)));
}

const substituteAll = (map: Record<string, unknown>, ctx: Context) =>
  Object.fromEntries(Object.entries(map).map(([k, v]) => [k, substitute(String(v), ctx)]));

function keyValues(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
