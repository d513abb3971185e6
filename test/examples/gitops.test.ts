import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parsePreviewDigest } from "../../scripts/preview-digest.js";
import { renderPreviewComment } from "../../scripts/preview-markdown.js";
import { ROOT } from "../helpers.js";
import { ensureBuilt, Plugin, urnOf, withEngine } from "../provider/harness.js";
import { resolved, useProviderMocks } from "../sdk/mocks.js";
import {
  LAYOUTS,
  type Layout,
  type LayoutName,
  packagesWithInstallScripts,
  requiredPlugins,
  setUpLayouts,
} from "./layouts.js";
import { readWorkflow, runJob } from "./workflow-runner.js";

const run = promisify(execFile);
const WORKFLOW = path.join(".github", "workflows", "tenantdb.yml");
const fixture = (name: string) =>
  fs.readFileSync(path.join(ROOT, "test", "examples", "fixtures", name), "utf8");
const json = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
const minNode = (range: string) => Number(/^>=\s*(\d+)/.exec(range)?.[1]);

/** One workflow run at a time per repository (a run writes infra/preview.json); layouts run side by side. */
const turns = new Map<LayoutName, Promise<unknown>>();
function inTurn<T>(name: LayoutName, fn: () => Promise<T>): Promise<T> {
  const mine = (turns.get(name) ?? Promise.resolve()).then(fn, fn);
  turns.set(
    name,
    mine.catch(() => {}),
  );
  return mine;
}

const DISTINCT_INSTALLS: LayoutName[] = ["submodule", "package"];

/** Where the workflow must build tenantdb from source, per layout (none when it is a package). */
const BUILT_AT: Record<LayoutName, string | null> = { "in-repo": ".", submodule: "tenantdb", package: null };

describe("examples/gitops in its three layouts", () => {
  let base = "";
  let layouts = {} as Record<LayoutName, Layout>;
  beforeAll(async () => {
    ensureBuilt();
    ({ base, layouts } = await setUpLayouts());
  }, 600_000);
  afterAll(() => {
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it("the workflow parses, runs on pull requests and merges touching infra/, checks out submodules, on the supported Node", () => {
    const workflow = readWorkflow(path.join(ROOT, "examples", "gitops", WORKFLOW));
    const on = workflow.on as Record<string, { paths?: string[]; branches?: string[] }>;
    expect(on.pull_request?.paths).toContain("infra/**");
    expect(on.push?.branches).toEqual(["main"]);
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout"));
    expect(checkout?.with?.submodules).toBe(true);
    const node = steps.find((s) => s.uses?.startsWith("actions/setup-node"))?.with?.["node-version"];
    const supported = [json(path.join(ROOT, "package.json")), json(path.join(ROOT, "sdk", "package.json"))];
    for (const layout of LAYOUTS) {
      supported.push(json(path.join(ROOT, "examples", "gitops", "layouts", layout, "package.json")));
    }
    for (const name of ["saas-tenants", "ecommerce-promotions"]) {
      supported.push(json(path.join(ROOT, "examples", name, "package.json")));
    }
    const ranges = new Set(supported.map((p) => p.engines?.node));
    expect([...ranges]).toHaveLength(1); // one Node range, declared everywhere
    expect(Number(node)).toBeGreaterThanOrEqual(minNode([...ranges][0]));
  });

  // Plugins and tsc one at a time: the suite runs two files at once on this machine's two cores. Workflow
  // runs (shell and stand-ins) go side by side across layouts.
  describe("the plugin, found the way the engine finds it", () => {
    for (const name of LAYOUTS) {
      it(`${name}: finds the plugin the way the engine would, and it answers for the version the SDK asks for`, async () => {
        const { infra } = layouts[name];
        const project = parse(fs.readFileSync(path.join(infra, "Pulumi.yaml"), "utf8"));
        const required = requiredPlugins(infra);
        expect(required.map((p) => [p.name, p.pkg])).toEqual([["tenantdb", "@tenantdb/pulumi"]]);
        const entry = project.plugins?.providers?.find((p: { name: string }) => p.name === "tenantdb");
        const bin = path.resolve(infra, entry.path, "pulumi-resource-tenantdb");
        fs.accessSync(bin, fs.constants.X_OK);

        const dataDir = path.join(fs.mkdtempSync(path.join(base, "data-")), "data");
        const plugin = await Plugin.start({ bin, cwd: infra });
        try {
          expect(await plugin.pluginInfo()).toBe(required[0]?.version);
          await plugin.configure({ dataDir });
          const urn = urnOf("Group", "fleet");
          const checked = await plugin.check(urn, {}, { name: "fleet" });
          const created = await plugin.create(urn, checked.inputs);
          expect(created.id).toBe("fleet");
        } finally {
          await plugin.stop();
        }
        // Its engine really wrote the data directory: better-sqlite3 and every dependency resolved.
        await withEngine(dataDir, (e) => expect(e.listGroups().map((g) => g.name)).toEqual(["fleet"]));
      });
    }
  });

  // The in-repo infra/ has the submodule's files and node_modules (see layouts.ts): type-checking it or running
  // it again would repeat those two runs exactly.
  describe("as its own TypeScript project", () => {
    for (const name of DISTINCT_INSTALLS) {
      it(`${name}: type-checks as its own project with its own install`, async () => {
        const { infra } = layouts[name];
        const tsc = path.join(infra, "node_modules", "typescript", "bin", "tsc");
        const result = await run(process.execPath, [tsc, "--noEmit", "-p", infra]).catch((e) => e);
        expect(`${result.stdout ?? ""}${result.stderr ?? ""}`).toBe("");
      });
    }
  });

  describe("its install", () => {
    for (const name of LAYOUTS) {
      it(`${name}: its install runs no install script that package.json's allowScripts does not name`, () => {
        const { infra } = layouts[name];
        const allowed = Object.keys(json(path.join(infra, "package.json")).allowScripts ?? {});
        for (const pkg of packagesWithInstallScripts(infra)) expect(allowed).toContain(pkg);
      });
    }
  });

  // Under mocks, the program is loaded from the package layout only: with the SDK from the tarball. The SDK
  // from sources (the other layouts) runs the examples under mocks in test/sdk already, and a second
  // program in one process would share Pulumi's global runtime state with the first.
  describe("the program under mocks", () => {
    for (const name of ["package"] as const) {
      it(`${name}: the program, loaded from infra/ under mocks, makes the fleet with the real provider handlers`, async () => {
        const { infra } = layouts[name];
        const dataDir = path.join(fs.mkdtempSync(path.join(base, "mocks-")), "data");
        const tenants = ["acme", "globex"];
        const mocks = useProviderMocks("infra", dataDir, { tenants });
        try {
          const program = await import(path.join(infra, "index.ts"));
          const { migrations } = await import(path.join(infra, "migrations.ts"));
          expect(await resolved(program.schemaVersion)).toBe(migrations.length);
          expect(await resolved(program.tenantDatabases)).toEqual(tenants.map((t) => `tenant-${t}`));
        } finally {
          mocks.close();
        }
        await withEngine(dataDir, (e) => {
          const children = e.listDatabases({ schemaParent: "app-schema" });
          expect(children.map((d) => d.name)).toEqual(tenants.map((t) => `tenant-${t}`));
        });
      });
    }
  });

  describe("the workflow", () => {
    for (const name of LAYOUTS) {
      it.concurrent(`${name}: on a pull request: builds what it must, previews in infra/, comments the rendered preview`, async () => {
        const { repo } = layouts[name];
        const workflow = readWorkflow(path.join(repo, WORKFLOW));
        const preview = fixture("preview-migration.json");
        const job = await inTurn(name, () =>
          runJob(workflow, "tenantdb", repo, {
            event: "pull_request",
            preview: { json: preview, exitCode: 0 },
          }),
        );
        expect(job.failed, job.log).toBeUndefined();
        const npm = job.calls.filter((c) => c.tool === "npm");
        const built = BUILT_AT[name];
        // infra/ installs from its lock file when it has one (ours were made by the test's own install).
        const locked = fs.existsSync(path.join(repo, "infra", "package-lock.json"));
        expect(npm).toEqual([
          ...(built === null ? [] : [{ tool: "npm", args: ["ci"], cwd: built }]),
          { tool: "npm", args: [locked ? "ci" : "install"], cwd: "infra" },
        ]);
        if (built !== null) expect(fs.existsSync(path.join(repo, built, "package-lock.json"))).toBe(true);
        const pulumi = job.calls.filter((c) => c.tool === "pulumi");
        expect(pulumi).toEqual([
          { tool: "pulumi", args: ["preview", "--stack", "prod", "--json"], cwd: "infra" },
        ]);
        // The comment is what the renderer shipped in this layout makes of the preview.
        expect(job.comments).toEqual([
          renderPreviewComment(parsePreviewDigest(preview), { stack: "prod", exitCode: 0 }),
        ]);
        expect(fs.realpathSync(job.env.TENANTDB_HOME ?? "")).toBe(
          fs.realpathSync(
            built === null ? path.join(repo, "infra", "node_modules", "tenantdb") : path.join(repo, built),
          ),
        );
      });
      it.concurrent(`${name}: on a pull request whose migration fails on a tenant: comments why, then fails the check`, async () => {
        const { repo } = layouts[name];
        const workflow = readWorkflow(path.join(repo, WORKFLOW));
        const preview = fixture("preview-failure.json");
        const job = await inTurn(name, () =>
          runJob(workflow, "tenantdb", repo, {
            event: "pull_request",
            preview: { json: preview, exitCode: 255 },
          }),
        );
        expect(job.failed).toMatch(/^Fail the check/);
        expect(job.comments).toHaveLength(1);
        expect(job.comments[0]).toContain("**The preview failed**");
        expect(job.comments[0]).toContain("tenant-globex");
        expect(job.log).toContain("::error::pulumi preview failed (exit 255)");
      });
      it.concurrent(`${name}: on a merge to main: applies with pulumi up in infra/, comments nothing`, async () => {
        const { repo } = layouts[name];
        const workflow = readWorkflow(path.join(repo, WORKFLOW));
        const job = await inTurn(name, () =>
          runJob(workflow, "tenantdb", repo, {
            event: "push",
            preview: { json: "", exitCode: 0 },
          }),
        );
        expect(job.failed, job.log).toBeUndefined();
        expect(job.calls.filter((c) => c.tool !== "npm")).toEqual([
          { tool: "pulumi", args: ["up", "--stack", "prod", "--yes", "--diff"], cwd: "infra" },
        ]);
      });
    }
  });
});
