import { confirm } from "../confirm.js";
import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson, printLine } from "../output.js";

export interface TokenCreateOptions {
  expiration?: string;
  readOnly?: boolean;
  attach?: string[];
}

export async function tokensCreate(
  g: GlobalOptions,
  scope: { database: string } | { group: string },
  opts: TokenCreateOptions,
) {
  await withEngine(g, async (engine) => {
    const token = await engine.createToken({
      ...scope,
      authorization: opts.readOnly ? "read-only" : "full-access",
      expiration: opts.expiration ?? "never",
      attach: opts.attach,
    });
    // The JWT alone on stdout, so `T=$(tenantdb db tokens create x)` just works.
    if (g.json) printJson(token);
    else printLine(token.jwt);
  });
}

export async function tokensInvalidate(
  g: GlobalOptions,
  scope: { database: string } | { group: string },
  opts: { yes?: boolean },
) {
  await withEngine(g, async (engine) => {
    const group =
      "group" in scope ? engine.getGroup(scope.group).name : engine.getDatabase(scope.database).group;
    if (!(await confirm(`Invalidate every token of group ${group}?`, opts.yes))) {
      return printLine("Nothing invalidated.");
    }
    await engine.rotateGroupKeys(group);
    if (g.json) return printJson({ group, rotated: true });
    printLine(
      `Invalidated every token of group ${group}${"database" in scope ? ` (tokens are signed per group, so this includes ${scope.database}'s)` : ""}.`,
    );
    printLine("Mint new ones with `tenantdb db tokens create <db>`.");
  });
}

export async function tokensRevoke(g: GlobalOptions, tokenOrJti: string) {
  await withEngine(g, (engine) => {
    const { jti } = engine.revokeToken(tokenOrJti);
    if (g.json) return printJson({ revoked: jti });
    printLine(`Revoked token ${jti}; the group's other tokens keep working.`);
  });
}
