import * as pulumi from "@pulumi/pulumi";
import * as tenantdb from "@tenantdb/pulumi";
import { migrations } from "./migrations";

const config = new pulumi.Config();
const tenants = config.requireObject<string[]>("tenants");

const group = new tenantdb.Group("saas", { name: "saas" });

// The schema every tenant shares. Appending to `migrations` previews a dry run on every tenant, then
// migrates them all, or none.
const schema = new tenantdb.SchemaDatabase("app-schema", {
  name: "app-schema",
  group: group.name,
  migrations,
});

export const tenantTokens: Record<string, pulumi.Output<string>> = {};
for (const tenant of tenants) {
  const db = new tenantdb.Database(`tenant-${tenant}`, {
    name: `tenant-${tenant}`,
    group: group.name,
    schemaParent: schema.name,
  });
  // Read-only access for the tenant's reporting jobs; rotate by changing `expiration` (a new token
  // replaces the old one, which is revoked).
  const reader = new tenantdb.Token(`tenant-${tenant}-reader`, {
    database: db.name,
    authorization: "read-only",
    expiration: "4w",
  });
  tenantTokens[tenant] = reader.jwt;
}

export const schemaVersion = schema.schemaVersion;
export const tenantCount = schema.childCount;
