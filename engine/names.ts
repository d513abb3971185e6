import { invalidArgument } from "./errors.js";

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Group and database names become parts of file paths and URLs, so the rule is strict: 1–64 lowercase
 * letters, digits and dashes, starting with a letter or digit. Nothing else can reach outside the data
 * directory, whatever the caller passes.
 */
export function validateName(kind: "group" | "database" | "API token", name: unknown): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    const shown =
      typeof name === "string"
        ? JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name)
        : String(name);
    throw invalidArgument(
      `invalid ${kind} name ${shown}: use 1–64 lowercase letters, digits and dashes, starting with a letter or digit (e.g. "acme-prod")`,
      { property: "name" },
    );
  }
  return name;
}

export function isValidName(name: unknown): name is string {
  return typeof name === "string" && NAME.test(name);
}
