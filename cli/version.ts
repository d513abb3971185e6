import fs from "node:fs";

/** From the package's own package.json: two levels up when built (dist/cli), one from the sources. */
export function readVersion(): string {
  for (const up of ["../../package.json", "../package.json"]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(new URL(up, import.meta.url), "utf8")) as {
        name?: string;
        version: string;
      };
      if (pkg.name === "tenantdb") return pkg.version;
    } catch {
      // not at this level
    }
  }
  return "unknown";
}
