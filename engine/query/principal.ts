import type { Permissions } from "../tokens/permissions.js";

/**
 * Who runs a query. The owner is whoever holds the data directory (the CLI without --token): full access,
 * though ATTACH still needs the target's allow_attach. A token principal has exactly its claims' rights.
 */
export type Principal = { kind: "owner" } | { kind: "token"; permissions: Permissions; jti: string | null };

export const OWNER: Principal = { kind: "owner" };
