import * as pulumi from "@pulumi/pulumi";
import * as tenantdb from "@tenantdb/pulumi";

const config = new pulumi.Config();
const shoppers = config.requireObject<string[]>("shoppers");

const group = new tenantdb.Group("shop", { name: "shop" });

// The shared catalog: a schema database with no children is simply a database whose schema (and seed
// rows) are managed as migrations.
const catalog = new tenantdb.SchemaDatabase("catalog", {
  name: "catalog",
  group: group.name,
  migrations: [
    "CREATE TABLE promotions (category TEXT NOT NULL, discount REAL NOT NULL)",
    "INSERT INTO promotions (category, discount) VALUES ('books', 0.10), ('games', 0.25), ('music', 0.05)",
  ],
});

// Shoppers' databases may ATTACH the catalog (read-only) — with a token that lists it.
new tenantdb.AttachPolicy("catalog-attach", { database: catalog.name, allowAttach: true });

// Every shopper's database shares one schema.
const shopperSchema = new tenantdb.SchemaDatabase("shopper-schema", {
  name: "shopper-schema",
  group: group.name,
  migrations: ["CREATE TABLE user_preferences (user_id INTEGER NOT NULL, interested_category TEXT NOT NULL)"],
});

export const shopperTokens: Record<string, pulumi.Output<string>> = {};
for (const shopper of shoppers) {
  const db = new tenantdb.Database(`shopper-${shopper}`, {
    name: `shopper-${shopper}`,
    group: group.name,
    schemaParent: shopperSchema.name,
  });
  const token = new tenantdb.Token(`shopper-${shopper}-token`, {
    database: db.name,
    attach: [catalog.name],
    expiration: "1w",
  });
  shopperTokens[shopper] = token.jwt;
}
