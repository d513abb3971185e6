import type { GlobalOptions } from "../context.js";
import { withEngine } from "../context.js";
import { printJson, printLine, printTable } from "../output.js";

/** API tokens guard the Platform API of `tenantdb serve`; each is shown once, when it is minted. */

export async function apiTokensMint(g: GlobalOptions, name: string) {
  await withEngine(
    g,
    (engine) => {
      const { token } = engine.mintApiToken(name);
      // The token alone on stdout, so `TOKEN=$(tenantdb api-tokens mint ci)` just works.
      if (g.json) printJson({ name, token });
      else printLine(token);
    },
    { create: true },
  );
}

export async function apiTokensList(g: GlobalOptions) {
  await withEngine(g, (engine) => {
    const tokens = engine.listApiTokens();
    if (g.json) return printJson(tokens);
    if (tokens.length === 0) return printLine("No API tokens yet. Mint one: tenantdb api-tokens mint <name>");
    printTable(
      ["name", "created"],
      tokens.map((t) => [t.name, new Date(t.createdAt * 1000).toISOString()]),
    );
  });
}

export async function apiTokensRevoke(g: GlobalOptions, name: string) {
  await withEngine(g, (engine) => {
    engine.revokeApiToken(name);
    if (g.json) printJson({ revoked: name });
    else printLine(`Revoked API token ${name}; requests carrying it now get 401.`);
  });
}
