import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_BROKEN_PIPE, EXIT_CODES } from "../../cli/errors.js";
import { CLI, ROOT, runCli, tempDir } from "../helpers.js";
import { allCommands, helpOf } from "./commands.js";
import { setUpDataDir } from "./data-dir.js";

/** Runs the CLI with its stdout closed before it writes, as `| head -1` does once it has its line. */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(CLI, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("the CLI behaves like a Unix tool", () => {
  it("ends quietly when its reader goes away (EPIPE), for help and for data", async () => {
    const dir = path.join(tempDir(), "data");
    await setUpDataDir(dir, async (engine) => {
      engine.createGroup("default");
      await engine.createDatabase("app", { group: "default", type: "schema" });
    });
    for (const args of [["--help"], ["--data-dir", dir, "db", "list"]]) {
      const r = await runWithClosedStdout(args);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(EXIT_BROKEN_PIPE);
    }
  });

  it("prints its version, and help for every command with examples", async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const version = await runCli(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });

    for (const { name, command } of allCommands()) {
      const help = helpOf(command);
      expect(help, name).toMatch(new RegExp(`^Usage: tenantdb ${name}`));
      expect(help, name).toMatch(/\nExamples:\n {2}\$ .*tenantdb /);
    }
    // `help a b` is the help of `a b`, not of `a`; verbs are listed for commands that take one.
    const shellHelp = await runCli(["help", "db", "shell"]);
    expect(shellHelp.code).toBe(0);
    expect(shellHelp.stdout).toMatch(/^Usage: tenantdb db shell/);
    const attachHelp = await runCli(["db", "config", "attach", "--help"]);
    expect(attachHelp.stdout).toMatch(/choices: "allow", "disallow", "show"/);
  });

  it("loads only what a command needs: --help and --version never the engine, db show never jose", async () => {
    const dir = path.join(tempDir(), "data");
    await setUpDataDir(dir, async (engine) => {
      engine.createGroup("default");
      await engine.createDatabase("x", { group: "default" });
    });
    const loads = (...args: string[]) =>
      new Promise<string[]>((resolve) => {
        const trace = path.join(ROOT, "test", "cli", "fixtures", "trace-loads.mjs");
        execFile(
          process.execPath,
          ["--import", trace, path.join(ROOT, "dist", "cli", "main.js"), ...args],
          (_e, _out, err) => resolve(err.split("\n").filter((l) => l.startsWith("loaded: "))),
        );
      });
    for (const args of [["--help"], ["--version"], ["db", "show", "--help"]]) {
      const loaded = await loads(...args);
      expect(loaded.length, args.join(" ")).toBeGreaterThan(0);
      expect(
        loaded.filter((l) => /engine\/index|better-sqlite3|jose|\/commands\//.test(l)),
        args.join(" "),
      ).toEqual([]);
    }
    const show = await loads("--data-dir", dir, "db", "show", "x");
    expect(show.some((l) => l.includes("better-sqlite3"))).toBe(true);
    expect(show.filter((l) => /jose|\/server\/|\/provider\//.test(l))).toEqual([]);
  });

  it("as bin/tenantdb runs it (one bundled file), loads better-sqlite3 only for a command that needs it", async () => {
    const dir = path.join(tempDir(), "data");
    await runCli(["--data-dir", dir, "db", "create", "x"]);
    const trace = path.join(ROOT, "test", "cli", "fixtures", "trace-requires.cjs");
    const requires = (...args: string[]) =>
      new Promise<{ launcher: boolean; modules: boolean; sqlite: boolean; stdout: string }>((resolve) => {
        execFile(
          CLI,
          args,
          { env: { ...process.env, NODE_OPTIONS: `--require ${trace}` } },
          (_e, out, err) => {
            const lines = err.split("\n").filter((l) => l.startsWith("required: "));
            resolve({
              launcher: lines.some((l) => l.endsWith("dist/cli/launch.cjs")),
              modules: lines.some((l) => /dist\/(cli|engine)\/.*\.js$/.test(l)),
              sqlite: lines.some((l) => l.includes("better-sqlite3")),
              stdout: out,
            });
          },
        );
      });
    expect(await requires("--help")).toMatchObject({ launcher: true, modules: false, sqlite: false });
    const show = await requires("--data-dir", dir, "db", "show", "x", "--json");
    expect(show).toMatchObject({ launcher: true, modules: false, sqlite: true });
    expect(JSON.parse(show.stdout)).toMatchObject({ name: "x" });
  });

  it("starts the bundle without its code cache, or with a damaged one, all the same", async () => {
    // A copy of the launcher and the bundle (help needs nothing from node_modules), with the cache
    // missing, then damaged: V8 must refuse it and the CLI compile as usual.
    const copy = tempDir();
    const dist = path.join(ROOT, "dist");
    fs.mkdirSync(path.join(copy, "cli"));
    fs.mkdirSync(path.join(copy, "bundle"));
    fs.copyFileSync(path.join(dist, "cli", "launch.cjs"), path.join(copy, "cli", "launch.cjs"));
    const source = fs.readFileSync(path.join(dist, "bundle", "tenantdb.cjs"), "utf8");
    fs.writeFileSync(path.join(copy, "bundle", "tenantdb.cjs"), source);
    // The build made one cache, named after the build its bundle's first line names.
    const id = /^\/\/ tenantdb build ([0-9a-f]+)\n/.exec(source)?.[1];
    const caches = fs.readdirSync(path.join(dist, "bundle")).filter((f) => f.endsWith(".v8cache"));
    expect(caches).toEqual([`tenantdb.${id}.v8cache`]);
    const help = (cli: string) =>
      new Promise<{ code: number | string | null; stdout: string }>((resolve) => {
        const run = `require(${JSON.stringify(cli)}).launch()`;
        execFile(process.execPath, ["-e", run, "tenantdb", "--help"], (e, stdout) =>
          resolve({ code: e ? (e.code ?? 1) : 0, stdout }),
        );
      });
    const expected = await help(path.join(dist, "cli", "launch.cjs"));
    expect(expected).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: tenantdb/) });
    const launcher = path.join(copy, "cli", "launch.cjs");
    expect(await help(launcher)).toEqual(expected);
    fs.writeFileSync(path.join(copy, "bundle", caches[0] as string), Buffer.alloc(4096, 7));
    expect(await help(launcher)).toEqual(expected);
    // With source maps asked for, Node's own loader runs it (and maps traces to the TypeScript).
    const mapped = await runCli(["--help"], { env: { NODE_OPTIONS: "--enable-source-maps" } });
    expect({ code: mapped.code, stdout: mapped.stdout }).toEqual(expected);
  });

  it("reports errors as `Error:` text, as JSON on stderr with --json, with an exit code per class", async () => {
    const dir = path.join(tempDir(), "data");
    const t = (...args: string[]) => runCli(["--data-dir", dir, ...args]);
    await setUpDataDir(dir, async (engine) => {
      engine.createGroup("default");
      await engine.createDatabase("one", { group: "default" });
    });
    const cases: [string[], keyof typeof EXIT_CODES][] = [
      [["db", "show", "missing"], "NOT_FOUND"],
      [["db", "create", "one"], "ALREADY_EXISTS"],
      [["db", "create", "Bad/Name"], "INVALID_ARGUMENT"],
      [["db", "frobnicate"], "INVALID_ARGUMENT"],
      [["db", "destroy", "one"], "FAILED_PRECONDITION"], // no terminal to ask, no --yes
    ];
    for (const [args, code] of cases) {
      const text = await t(...args);
      expect(text.code, args.join(" ")).toBe(EXIT_CODES[code]);
      expect(text.stderr).toMatch(/^Error: \S/);
      expect(text.stderr).not.toMatch(/\n\s+at |^\{/m);
      const json = await t(...args, "--json");
      expect(json.code).toBe(EXIT_CODES[code]);
      expect(json.stdout).toBe("");
      const last = json.stderr.trim().split("\n").at(-1) as string;
      expect(JSON.parse(last)).toMatchObject({ error: { code, message: expect.any(String) } });
    }
    // The refused destroy destroyed nothing.
    expect((await t("db", "show", "one")).code).toBe(0);
  });

  it("uses camelCase for every key of its JSON", async () => {
    const dir = path.join(tempDir(), "data");
    const t = async (...args: string[]) =>
      JSON.parse((await runCli(["--data-dir", dir, ...args, "--json"])).stdout);
    await t("db", "create", "app", "--type", "schema");
    await t("db", "shell", "app", "CREATE TABLE users (id INTEGER PRIMARY KEY)");
    await t("db", "create", "tenant", "--schema", "app");
    const outputs = [
      await t("db", "migrations", "app"),
      await t("db", "show", "tenant"),
      await t("db", "list"),
      await t("group", "list"),
      await t("db", "inspect", "tenant"),
      await t("db", "config", "block-writes", "show", "tenant"),
    ];
    const keys: string[] = [];
    const collect = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === "object")
        for (const [k, x] of Object.entries(v)) {
          keys.push(k);
          collect(x);
        }
    };
    outputs.forEach(collect);
    expect(keys).toContain("dryRunOk");
    expect(keys.filter((k) => !/^[a-z][a-zA-Z0-9]*$/.test(k))).toEqual([]);
  });
});
