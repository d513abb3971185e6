import {
  type PreviewDiagnostic,
  type PreviewDigest,
  type PreviewStep,
  resourceName,
  resourceType,
  UNKNOWN,
} from "./preview-digest.js";

/**
 * A pull-request comment from a preview: what changes (with the provider's element-level detailed diff),
 * the SQL of every new migration and how many tenant databases it reaches, and why the preview failed.
 * A reviewer reads the migration itself, not "migrations changed".
 */

export interface CommentOptions {
  /** `pulumi preview` printed no JSON at all (it failed before the engine ran): say so, point at the log. */
  noPreview?: boolean;
  /** The stack previewed, for the heading. */
  stack?: string;
  /** `pulumi preview`'s exit status: non-zero fails the preview even without an error diagnostic. */
  exitCode?: number;
}

/** GitHub refuses comments over 65,536 characters. */
export const COMMENT_LIMIT = 65_536;

const SCHEMA_DATABASE = "tenantdb:index:SchemaDatabase";

const OP_SYMBOLS: Record<string, string> = {
  create: "+",
  update: "~",
  delete: "-",
  replace: "+-",
  "create-replacement": "++",
  "delete-replaced": "--",
  read: ">",
  import: "=",
  refresh: "~",
};

export interface NewMigrations {
  resource: string;
  op: string;
  /** 1-based position of the first new migration (its schema version once applied). */
  firstVersion: number;
  statements: string[];
  /** Tenant databases the migrations reach (the preview's `childCount`), or null when not known yet. */
  tenants: number | null;
}

export function renderPreviewComment(digest: PreviewDigest, opts: CommentOptions = {}): string {
  const full = render(digest, opts, Number.POSITIVE_INFINITY);
  if (full.length <= COMMENT_LIMIT) return full;
  // Keep every section and shorten the SQL: the artifact has the whole preview.
  return render(digest, opts, 400).slice(0, COMMENT_LIMIT);
}

function render(digest: PreviewDigest, opts: CommentOptions, sqlLimit: number): string {
  const steps = (digest.steps ?? []).filter((s) => s.op !== "same");
  const errors = (digest.diagnostics ?? []).filter((d) => d.severity === "error");
  const warnings = (digest.diagnostics ?? []).filter((d) => d.severity === "warning");
  const failed = errors.length > 0 || (opts.exitCode ?? 0) !== 0;
  const out: string[] = [];

  out.push(`### tenantdb preview${opts.stack ? ` of \`${opts.stack}\`` : ""}`, "");
  if (opts.noPreview) {
    out.push(
      `**The preview failed** before it planned anything (\`pulumi preview\` printed no JSON${opts.exitCode ? ` and exited with ${opts.exitCode}` : ""}): see the workflow's log.`,
    );
    return `${out.join("\n")}\n`;
  }
  if (failed) {
    out.push(
      `**The preview failed**: nothing can be applied until it passes.${errors.length === 0 ? ` (\`pulumi preview\` exited with ${opts.exitCode}.)` : ""}`,
      "",
    );
  }
  out.push(summaryLine(digest, steps), "");

  if (steps.length > 0) {
    out.push("| | resource | type | changes |", "| --- | --- | --- | --- |");
    for (const step of steps) {
      out.push(
        `| \`${OP_SYMBOLS[step.op] ?? step.op}\` | \`${cell(resourceName(step.urn))}\` | ${cell(typeName(step))} | ${cell(changes(step))} |`,
      );
    }
    out.push("");
  }

  const migrations = steps.map(newMigrations).filter((m): m is NewMigrations => m !== null);
  const plans = steps.map(declaredPlan).filter((p): p is DeclaredPlan => p !== null);
  if (migrations.length > 0 || plans.length > 0) {
    out.push("#### Migrations", "");
    for (const p of plans) {
      const count = p.statements.length;
      out.push(
        `**\`${p.resource}\`**: its declared schema plans ${count} statement${count === 1 ? "" : "s"}, one migration, ${reach(p)}.`,
        "",
        ...fenced(clip(p.statements.map((sql) => `${sql};`).join("\n"), sqlLimit)),
        "",
        ...p.lint.map((line) => `- ${cell(line)}`),
        ...(p.lint.length > 0 ? [""] : []),
      );
    }
    for (const m of migrations) {
      const count = m.statements.length;
      const last = m.firstVersion + count - 1;
      out.push(
        `**\`${m.resource}\`**: ${count} new migration${count === 1 ? "" : "s"} (schema version ${m.firstVersion - 1} → ${last}), ${reach(m)}.`,
        "",
      );
      m.statements.forEach((sql, i) => {
        out.push(`migration ${m.firstVersion + i}:`, "", ...fenced(clip(sql, sqlLimit)), "");
      });
    }
  }

  for (const [title, list] of [
    ["Failures", errors],
    ["Warnings", warnings],
  ] as const) {
    if (list.length === 0) continue;
    out.push(`#### ${title}`, "", ...list.map((d) => `- ${diagnosticLine(d)}`), "");
  }
  return `${out.join("\n").trimEnd()}\n`;
}

function summaryLine(digest: PreviewDigest, steps: PreviewStep[]): string {
  const summary = Object.entries(digest.changeSummary ?? {}).filter(([op, n]) => op !== "same" && n > 0);
  if (summary.length === 0) return steps.length === 0 ? "No changes." : `${steps.length} step(s).`;
  const words: Record<string, string> = { create: "to create", update: "to update", delete: "to delete" };
  return `${summary.map(([op, n]) => `${n} ${words[op] ?? `to ${op}`}`).join(", ")}.`;
}

function typeName(step: PreviewStep): string {
  const type = step.newState?.type ?? step.oldState?.type ?? resourceType(step.urn);
  return type.startsWith("tenantdb:index:") ? type.slice("tenantdb:index:".length) : type;
}

/** The provider's detailed diff, path by path; the diff reasons when it gave none. */
function changes(step: PreviewStep): string {
  const detailed = Object.entries(step.detailedDiff ?? {});
  if (detailed.length > 0) {
    return detailed
      .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
      .map(([path, d]) => `\`${path}\` ${d.kind}`)
      .join(", ");
  }
  const replaces = new Set(step.replaceReasons ?? []);
  return (step.diffReasons ?? []).map((k) => `\`${k}\`${replaces.has(k) ? " (replace)" : ""}`).join(", ");
}

/** The migrations a SchemaDatabase step adds: the tail its new inputs have beyond the old ones. */
export function newMigrations(step: PreviewStep): NewMigrations | null {
  const type = step.newState?.type ?? resourceType(step.urn);
  if (type !== SCHEMA_DATABASE || !["create", "update", "replace", "create-replacement"].includes(step.op)) {
    return null;
  }
  const next = strings(step.newState?.inputs?.migrations);
  // A replacement starts a new database: every migration runs on it.
  const old = step.op === "update" ? strings(step.oldState?.inputs?.migrations) : [];
  let first = 0;
  while (first < old.length && first < next.length && old[first] === next[first]) first++;
  const statements = next.slice(first);
  if (statements.length === 0) return null;
  // The preview's own count; a failed preview has no outputs, so the tenants it would have reached are the
  // ones there are now.
  const children = step.newState?.outputs?.childCount ?? step.oldState?.outputs?.childCount;
  return {
    resource: resourceName(step.urn),
    op: step.op,
    firstVersion: first + 1,
    statements,
    tenants: typeof children === "number" ? children : null,
  };
}

/** A SchemaDatabase declared by `schema`: the plan its preview made (the `plan` and `lint` outputs). */
export interface DeclaredPlan {
  resource: string;
  op: string;
  statements: string[];
  /** One finding a line: `<kind> <code>: <message>`. */
  lint: string[];
  tenants: number | null;
}

export function declaredPlan(step: PreviewStep): DeclaredPlan | null {
  const type = step.newState?.type ?? resourceType(step.urn);
  if (type !== SCHEMA_DATABASE || !["create", "update", "replace", "create-replacement"].includes(step.op)) {
    return null;
  }
  if (typeof step.newState?.inputs?.schema !== "string") return null;
  const statements = strings(step.newState?.outputs?.plan);
  if (statements.length === 0) return null;
  const children = step.newState?.outputs?.childCount ?? step.oldState?.outputs?.childCount;
  return {
    resource: resourceName(step.urn),
    op: step.op,
    statements,
    lint: strings(step.newState?.outputs?.lint),
    tenants: typeof children === "number" ? children : null,
  };
}

function reach(m: { op: string; tenants: number | null }): string {
  if (m.op !== "update") return "on a new schema database (no tenant databases yet)";
  if (m.tenants === null) return "reaching tenant databases not known until `up`";
  return `reaching ${m.tenants} tenant database${m.tenants === 1 ? "" : "s"} and the schema database, all or none`;
}

function diagnosticLine(d: PreviewDiagnostic): string {
  const who = d.urn ? `\`${resourceName(d.urn)}\` (${typeName({ op: "", urn: d.urn })}): ` : "";
  const text = (d.message ?? "").replace(/^(error|warning): /, "").trim();
  return `${who}${text.replace(/\s*\n\s*/g, " ")}`;
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.map((s) => (s === UNKNOWN ? "(known at apply)" : String(s))) : [];

/** A code block whose fence is longer than any run of backticks in the SQL, so SQL cannot close it. */
function fenced(sql: string): string[] {
  const longest = Math.max(2, ...(sql.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  return [`${fence}sql`, sql, fence];
}

const clip = (s: string, n: number) =>
  s.length <= n ? s : `${s.slice(0, n)}\n-- … (${s.length - n} more characters in the preview artifact)`;

/** Table cells hold no newlines and no unescaped pipes. */
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
