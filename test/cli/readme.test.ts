import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers.js";
import { allCommands } from "./commands.js";

const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** The commands the README's reference tables document: the words of each row's `tenantdb ...` cell. */
function documented(): string[] {
  return [...readme.matchAll(/^\| `tenantdb ([a-z][a-z -]*?)(?= [<[-]|`| [a-z]+\\\|)/gm)].map((m) =>
    (m[1] as string).trim(),
  );
}

describe("the README's CLI reference matches --help", () => {
  it("documents every command the CLI has, and no command it lacks", async () => {
    const runnable = allCommands()
      .filter(({ command }) => command.commands.length === 0 || command.registeredArguments.length > 0)
      .map(({ name }) => name);
    const inReadme = new Set(documented());
    expect(runnable.filter((name) => !inReadme.has(name))).toEqual([]);
    const known = new Set(allCommands().map(({ name }) => name));
    expect([...inReadme].filter((name) => !known.has(name))).toEqual([]);

    // The same list, as the real process prints it: every top-level command of --help is documented.
    const help = (await runCli(["--help"])).stdout;
    const listed = [...(help.split("Commands:\n")[1] ?? "").matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]);
    expect(listed.length).toBeGreaterThan(3);
    for (const name of listed.filter((n) => n !== "help")) {
      expect(
        [...inReadme].some((d) => d === name || d.startsWith(`${name} `)),
        name,
      ).toBe(true);
    }
  });

  it("links the architecture document inside the repository, never outside it", () => {
    expect(readme).toMatch(/\(docs\/architecture\.md\)/);
    expect(fs.existsSync(path.join(ROOT, "docs", "architecture.md"))).toBe(true);
    for (const file of ["README.md", "docs/architecture.md"]) {
      expect(fs.readFileSync(path.join(ROOT, file), "utf8"), file).not.toMatch(/\.\.\/shared|DESIGN\.md/);
    }
  });
});
