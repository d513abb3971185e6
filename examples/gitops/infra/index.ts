import * as pulumi from "@pulumi/pulumi";
import * as tenantdb from "@tenantdb/pulumi";
import { migrations } from "./migrations";

// The fleet a pull request changes: a schema, and a tenant database per customer in stack config. The stack's
// `tenantdb:url`, `tenantdb:organization` and `tenantdb:apiToken` point the provider at `tenantdb serve`.
const config = new pulumi.Config();
const tenants = config.requireObject<string[]>("tenants");

const group = new tenantdb.Group("fleet", { name: "fleet" });

// Appending to `migrations` is the usual pull request: its preview dry-runs the new migration on every tenant
// and the PR comment shows the SQL and how many tenants it reaches.
const schema = new tenantdb.SchemaDatabase("app-schema", {
  name: "app-schema",
  group: group.name,
  migrations,
});

const databases = tenants.map(
  (tenant) =>
    new tenantdb.Database(`tenant-${tenant}`, {
      name: `tenant-${tenant}`,
      group: group.name,
      schemaParent: schema.name,
    }),
);

export const tenantDatabases: pulumi.Output<string[]> = pulumi.all(databases.map((db) => db.name));
export const schemaVersion: pulumi.Output<number> = schema.schemaVersion;
export const tenantCount: pulumi.Output<number> = schema.childCount;
