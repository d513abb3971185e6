import { splitStatements } from "../../engine/sql/statements.js";

/** A statement is complete at a `;`, except inside a CREATE TRIGGER body that has not reached END yet. */
export function isComplete(buffer: string): boolean {
  if (!buffer.trim().endsWith(";")) return false;
  const last = splitStatements(buffer).at(-1);
  const createsTrigger =
    last?.kind === "ddl" && last.ddl.object === "trigger" && last.ddl.action === "create";
  if (!last || !createsTrigger) return true;
  const tokens = last.tokens.filter((t) => t.text !== ";");
  return tokens.at(-1)?.text.toUpperCase() === "END";
}
