/**
 * Runs the promotions query for one shopper, the way an application would: @libsql/client against
 * `tenantdb serve`, with the shopper's token (which may ATTACH the catalog).
 *
 *   TENANTDB_URL=http://127.0.0.1:8080 SHOPPER=alice \
 *   TOKEN=$(pulumi stack output shopperTokens --show-secrets --json | jq -r .alice) npm run promotions
 */
import { createClient } from "@libsql/client";

async function main() {
  const shopper = process.env.SHOPPER ?? "alice";
  const token = process.env.TOKEN;
  if (!token)
    throw new Error("set TOKEN to the shopper's token (pulumi stack output shopperTokens --show-secrets)");
  const base = process.env.TENANTDB_URL ?? "http://127.0.0.1:8080";
  const client = createClient({ url: `${base}/db/shopper-${shopper}/`, authToken: token });

  // The shopper's own data: what they are interested in.
  await client.batch(
    [
      "DELETE FROM user_preferences WHERE user_id = 1",
      "INSERT INTO user_preferences VALUES (1, 'books'), (1, 'games')",
    ],
    "write",
  );

  // The seed's query: the shopper's preferences joined with the shared catalog's promotions.
  const [, result] = await client.batch(
    [
      'ATTACH "catalog" AS catalog',
      `SELECT category, discount FROM catalog.promotions
       JOIN user_preferences AS up ON category = up.interested_category
       WHERE up.user_id = 1 ORDER BY category`,
    ],
    "read",
  );
  for (const row of result?.rows ?? []) console.log(`${row.category}: ${Number(row.discount) * 100}% off`);
  client.close();
}

main().catch((e) => {
  console.error(`Error: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
