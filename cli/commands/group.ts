import { confirm } from "../confirm.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson, printLine, printTable } from "../output.js";

export async function groupCreate(g: GlobalOptions, name: string, opts: { location?: string }) {
  await withEngine(
    g,
    (engine) => {
      const group = engine.createGroup(name, opts);
      if (g.json) printJson(group);
      else
        printLine(
          `Created group ${group.name} (location ${group.location}). Add a database: tenantdb db create <name> --group ${group.name}`,
        );
    },
    { create: true },
  );
}

export async function groupList(g: GlobalOptions) {
  await withEngine(g, (engine) => {
    const groups = engine.listGroups();
    if (g.json) return printJson(groups);
    printTable(
      ["name", "location", "databases"],
      groups.map((x) => [x.name, x.location, x.databases]),
    );
  });
}

export async function groupDestroy(g: GlobalOptions, name: string, opts: { yes?: boolean }) {
  await withEngine(g, async (engine) => {
    engine.getGroup(name); // a typo is NOT_FOUND before any question
    if (!(await confirm(`Destroy group ${name}?`, opts.yes))) return printLine("Nothing destroyed.");
    engine.destroyGroup(name);
    if (g.json) printJson({ destroyed: name });
    else printLine(`Destroyed group ${name}.`);
  });
}

export async function groupKeysShow(g: GlobalOptions, name: string) {
  await withEngine(g, async (engine) => {
    await engine.ensureGroupKey(name);
    const keys = engine.publicKeys(name);
    if (g.json) return printJson(keys);
    for (const k of keys) process.stdout.write(k.pem.endsWith("\n") ? k.pem : `${k.pem}\n`);
  });
}
