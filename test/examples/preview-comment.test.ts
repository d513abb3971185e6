import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { type PreviewDigest, parsePreviewDigest } from "../../scripts/preview-digest.js";
import { COMMENT_LIMIT, newMigrations, renderPreviewComment } from "../../scripts/preview-markdown.js";
import { ROOT } from "../helpers.js";
import { ensureBuilt } from "../provider/harness.js";

const FIXTURES = path.join(ROOT, "test", "examples", "fixtures");
const fixturePath = (name: string) => path.join(FIXTURES, name);
const fixture = (name: string) => parsePreviewDigest(fs.readFileSync(fixturePath(name), "utf8"));
const stepOf = (digest: PreviewDigest, name: string) => {
  const step = digest.steps?.find((s) => s.urn.endsWith(`::${name}`));
  if (!step) throw new Error(`the fixture has no step for ${name}`);
  return step;
};
const run = promisify(execFile);

describe("the PR comment rendered from `pulumi preview --json`", () => {
  it("shows a declared schema's planned statements, its lint and the tenants it reaches", () => {
    const urn = "urn:pulumi:prod::infra::tenantdb:index:SchemaDatabase::app-schema";
    const plan = [
      "ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT 'free'",
      "CREATE INDEX users_plan ON users (plan)",
    ];
    const lint = ["data-dependent MF102: adding a NOT NULL column with a default runs on every row"];
    const state = (outputs: Record<string, unknown>, schema: string) => ({
      urn,
      custom: true,
      type: "tenantdb:index:SchemaDatabase",
      id: "app",
      inputs: { name: "app", group: "fleet", schema },
      outputs,
    });
    const digest = parsePreviewDigest(
      JSON.stringify({
        steps: [
          {
            op: "update",
            urn,
            oldState: state(
              { childCount: 7, schemaVersion: 3 },
              "CREATE TABLE users (id INTEGER PRIMARY KEY)",
            ),
            newState: state({ childCount: 7, schemaVersion: 4, plan, lint }, "CREATE TABLE users (…)"),
            diffReasons: ["schema"],
            detailedDiff: { schema: { kind: "update", inputDiff: true } },
          },
        ],
        changeSummary: { update: 1 },
      }),
    );
    const comment = renderPreviewComment(digest);
    expect(comment).toContain(
      "its declared schema plans 2 statements, one migration, reaching 7 tenant databases",
    );
    expect(comment).toContain(`\`\`\`sql\n${plan.map((p) => `${p};`).join("\n")}\n\`\`\``);
    expect(comment).toContain(`- ${lint[0]}`);
  });

  it("shows each new migration's SQL, the tenants it reaches, and the element-level diff", () => {
    const digest = fixture("preview-migration.json");
    const step = stepOf(digest, "app-schema");
    const before = step.oldState?.inputs?.migrations as string[];
    const after = step.newState?.inputs?.migrations as string[];
    const comment = renderPreviewComment(digest, { stack: "prod" });

    for (const sql of after.slice(before.length)) expect(comment).toContain(`\`\`\`sql\n${sql}\n\`\`\``);
    for (const sql of before) expect(comment).not.toContain(sql); // applied migrations are not news
    expect(comment).toContain(`reaching ${step.newState?.outputs?.childCount} tenant databases`);
    expect(comment).toContain(`schema version ${before.length} → ${after.length}`);
    for (const key of Object.keys(step.detailedDiff ?? {})) expect(comment).toContain(`\`${key}\``);
    // Every step but the sames is a row; the summary counts come from the engine's changeSummary.
    for (const s of digest.steps ?? []) {
      const name = s.urn.slice(s.urn.lastIndexOf("::") + 2);
      if (s.op === "same") expect(comment).not.toContain(`\`${name}\``);
      else expect(comment).toMatch(new RegExp(`\\| \`${name}\` \\|`));
    }
    expect(comment).toContain(
      `${digest.changeSummary?.create} to create, ${digest.changeSummary?.update} to update`,
    );
    expect(comment).not.toContain("failed");
  });

  it("fails loudly when a migration would fail on a tenant, naming the tenant and SQLite's error", () => {
    const digest = fixture("preview-failure.json");
    const comment = renderPreviewComment(digest, { exitCode: 255 });
    expect(comment).toContain("**The preview failed**");
    const error = digest.diagnostics?.find((d) => d.urn?.endsWith("::app-schema"));
    const failing = /fail on \d+ of \d+ database\(s\), so nothing was changed: ([a-z0-9-]+): /.exec(
      error?.message ?? "",
    );
    expect(failing?.[1]).toBe("tenant-globex");
    expect(comment).toContain(`- \`app-schema\` (SchemaDatabase): Preview failed: the new migrations`);
    expect(comment).toContain(`${failing?.[1]}: migration 3`);
    // A failed preview has no outputs: the tenants reached are those the schema database has now.
    const step = stepOf(digest, "app-schema");
    expect(comment).toContain(`reaching ${step.oldState?.outputs?.childCount} tenant databases`);
    // The exit status alone fails it too (a crash with no diagnostic).
    const quiet = { ...digest, diagnostics: [] };
    expect(renderPreviewComment(quiet, { exitCode: 1 })).toContain("exited with 1");
    expect(renderPreviewComment(quiet, { exitCode: 0 })).not.toContain("failed");
  });

  it("shows a replacement with its element-level reason and keeps secrets blinded", () => {
    const digest = fixture("preview-replace.json");
    const comment = renderPreviewComment(digest);
    expect(comment).toMatch(/\| `\+-` \| `shopper-alice-token` \| Token \| `attach\[1\]` delete-replace \|/);
    expect(comment).toContain("#### Warnings");
    expect(comment).not.toContain("#### Failures");
    expect(comment).not.toMatch(/eyJ/); // no JWT ever reaches a comment
  });

  it("keeps SQL inside its code block whatever backticks it holds, and stays under GitHub's size limit", () => {
    const digest = fixture("preview-migration.json");
    const step = stepOf(digest, "app-schema");
    const sneaky = "SELECT '```' AS fence; -- | pipes | too";
    const huge = `INSERT INTO t VALUES ${Array.from({ length: 20_000 }, (_, i) => `(${i})`).join(", ")}`;
    const { oldState, newState } = step;
    if (!oldState?.inputs || !newState) throw new Error("the fixture's update step has no states");
    const migrations = [...(oldState.inputs.migrations as string[]), sneaky, huge];
    const edited = { ...step, newState: { ...newState, inputs: { ...newState.inputs, migrations } } };
    const comment = renderPreviewComment({ ...digest, steps: [edited] });
    expect(comment).toContain(`\`\`\`\`sql\n${sneaky}\n\`\`\`\``);
    expect(comment.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(comment).toContain("more characters in the preview artifact");
    expect(newMigrations(edited)?.statements).toEqual([sneaky, huge]);
  });

  it("the built script renders a fixture, says when there is no preview, and refuses what is not one", async () => {
    ensureBuilt();
    const script = path.join(ROOT, "dist", "scripts", "preview-comment.js");
    if (!fs.existsSync(script))
      throw new Error("dist/scripts/preview-comment.js is missing: run `npm run build`");
    const file = fixturePath("preview-migration.json");
    const { stdout } = await run(process.execPath, [script, "--stack", "prod", file]);
    expect(stdout).toBe(renderPreviewComment(fixture("preview-migration.json"), { stack: "prod" }));

    const empty = await run("sh", ["-c", `"${process.execPath}" "${script}" --exit-code 3 < /dev/null`]);
    expect(empty.stdout).toContain("printed no JSON and exited with 3");

    const bad = await run(process.execPath, [script, path.join(ROOT, "package.json")]).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/INVALID_ARGUMENT/);
    const notJson = await run("sh", [
      "-c",
      `echo 'Error: not logged in' | "${process.execPath}" "${script}"`,
    ]).catch((e) => e);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain("INVALID_ARGUMENT: the preview is not JSON");
  });
});
