import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/**
 * The three repositories examples/gitops/README.md describes, built in a temporary directory the way its
 * steps say: infra/ is the example's program plus one layout's Pulumi.yaml and package.json, and the
 * workflow sits in .github/workflows/.
 *
 * - in-repo: the repository *is* tenantdb (here: links to this checkout's files, built) with infra/ at its root;
 * - submodule: tenantdb checked out at tenantdb/ (a link to this checkout) beside infra/;
 * - package: infra/ installs tarballs made by `npm pack` (the root package and the SDK), no tenantdb sources.
 *
 * npm installs are slow on this machine, so one is run in full: the submodule's. The in-repo infra/ links
 * the submodule's node_modules: its package.json differs only in the SDK's path, and both paths name this
 * checkout's sdk/. The package's infra/ starts from a hard-linked copy of that tree (without npm's record
 * of it) and `npm install` makes it the package layout's own: it adds the tarballs and what tenantdb
 * needs and prunes what this package.json does not ask for, so the packages it ends with are those a fresh
 * install there resolves (the same cache, the same registry state) at a fraction of the unpacking. Installs
 * skip install scripts (better-sqlite3's compiles for
 * minutes here); the package layout then gets the better-sqlite3 addon this checkout's own install built,
 * after checking it is the same better-sqlite3 version, for the same Node.
 */

export type LayoutName = "in-repo" | "submodule" | "package";
export const LAYOUTS: LayoutName[] = ["in-repo", "submodule", "package"];

export interface Layout {
  name: LayoutName;
  /** The repository's root (where the workflow runs). */
  repo: string;
  infra: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const GITOPS = path.join(ROOT, "examples", "gitops");
const run = promisify(execFile);

export async function setUpLayouts(): Promise<{ base: string; layouts: Record<LayoutName, Layout> }> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-gitops-"));
  const layouts = Object.fromEntries(
    LAYOUTS.map((name) => [
      name,
      { name, repo: path.join(base, name), infra: path.join(base, name, "infra") },
    ]),
  ) as Record<LayoutName, Layout>;
  for (const layout of LAYOUTS.map((n) => layouts[n])) {
    fs.mkdirSync(layout.infra, { recursive: true });
    fs.cpSync(path.join(GITOPS, "infra"), layout.infra, { recursive: true });
    fs.cpSync(path.join(GITOPS, "layouts", layout.name), layout.infra, { recursive: true });
    fs.cpSync(path.join(GITOPS, ".github"), path.join(layout.repo, ".github"), { recursive: true });
  }

  // in-repo: this checkout's files (built: dist/, node_modules/) at the repository's root.
  for (const entry of fs.readdirSync(ROOT)) {
    if (entry === ".git" || entry === "infra" || entry === ".github") continue;
    fs.symlinkSync(path.join(ROOT, entry), path.join(layouts["in-repo"].repo, entry));
  }
  // submodule: the checkout at tenantdb/.
  fs.symlinkSync(ROOT, path.join(layouts.submodule.repo, "tenantdb"));
  // package: the tarballs `npm pack` makes (dist/ was built before the tests ran).
  const vendor = path.join(layouts.package.infra, "vendor");
  fs.mkdirSync(vendor);
  await Promise.all([
    run("npm", ["pack", "--ignore-scripts", "--pack-destination", vendor], { cwd: ROOT }),
    run("npm", ["pack", "--ignore-scripts", "--pack-destination", vendor], { cwd: path.join(ROOT, "sdk") }),
    npmInstall(layouts.submodule.infra),
  ]);
  const seeded = path.join(layouts.package.infra, "node_modules");
  await run("cp", ["-al", path.join(layouts.submodule.infra, "node_modules"), seeded]);
  // npm rewrites its record of the tree in place: the copy must not share the submodule's.
  fs.rmSync(path.join(seeded, ".package-lock.json"));
  await npmInstall(layouts.package.infra);
  fs.symlinkSync(
    path.join(layouts.submodule.infra, "node_modules"),
    path.join(layouts["in-repo"].infra, "node_modules"),
  );
  borrowSqliteAddon(layouts.package.infra);
  return { base, layouts };
}

async function npmInstall(dir: string): Promise<void> {
  try {
    await run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], {
      cwd: dir,
      env: { ...process.env, npm_config_loglevel: "error" },
    });
  } catch (e) {
    throw new Error(`npm install in ${dir} failed:\n${(e as { stderr?: string }).stderr ?? e}`);
  }
}

function borrowSqliteAddon(infra: string): void {
  const ours = path.join(ROOT, "node_modules", "better-sqlite3");
  const theirs = path.join(infra, "node_modules", "better-sqlite3");
  const version = (dir: string) =>
    JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
  if (version(ours) !== version(theirs)) {
    throw new Error(`better-sqlite3 ${version(theirs)} was installed, this checkout built ${version(ours)}`);
  }
  const addon = path.join("build", "Release", "better_sqlite3.node");
  fs.mkdirSync(path.dirname(path.join(theirs, addon)), { recursive: true });
  fs.copyFileSync(path.join(ours, addon), path.join(theirs, addon));
}

/**
 * The plugins the engine must load for this program: the Node language host reports every installed package
 * whose package.json has `"pulumi": {"resource": true, ...}` (the SDK's `pulumi` field).
 */
export function requiredPlugins(infra: string): { name: string; version: string; pkg: string }[] {
  const found: { name: string; version: string; pkg: string }[] = [];
  const modules = path.join(infra, "node_modules");
  const visit = (dir: string) => {
    const file = path.join(dir, "package.json");
    if (!fs.existsSync(file)) return;
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    if (pkg.pulumi?.resource)
      found.push({ name: pkg.pulumi.name, version: pkg.pulumi.version, pkg: pkg.name });
  };
  for (const entry of fs.readdirSync(modules)) {
    if (entry.startsWith(".")) continue;
    if (entry.startsWith("@")) {
      for (const scoped of fs.readdirSync(path.join(modules, entry)))
        visit(path.join(modules, entry, scoped));
    } else visit(path.join(modules, entry));
  }
  return found;
}

/** Installed packages with install scripts (what npm warns about unless `allowScripts` lists them). */
export function packagesWithInstallScripts(infra: string): string[] {
  const names = new Set<string>();
  const visit = (modules: string) => {
    if (!fs.existsSync(modules)) return;
    for (const entry of fs.readdirSync(modules)) {
      if (entry.startsWith(".")) continue;
      const dirs = entry.startsWith("@")
        ? fs.readdirSync(path.join(modules, entry)).map((s) => path.join(modules, entry, s))
        : [path.join(modules, entry)];
      for (const dir of dirs) {
        const file = path.join(dir, "package.json");
        if (!fs.existsSync(file)) continue;
        const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
        const scripts = pkg.scripts ?? {};
        const native = fs.existsSync(path.join(dir, "binding.gyp"));
        if (scripts.preinstall || scripts.install || scripts.postinstall || native) names.add(pkg.name);
        visit(path.join(dir, "node_modules"));
      }
    }
  };
  visit(path.join(infra, "node_modules"));
  // npm also names a `prepare` script of a package installed from a file or tarball.
  const deps = JSON.parse(fs.readFileSync(path.join(infra, "package.json"), "utf8")).dependencies ?? {};
  for (const [name, spec] of Object.entries<string>(deps)) {
    const file = path.join(infra, "node_modules", name, "package.json");
    if (spec.startsWith("file:") && JSON.parse(fs.readFileSync(file, "utf8")).scripts?.prepare)
      names.add(name);
  }
  return [...names].sort();
}
