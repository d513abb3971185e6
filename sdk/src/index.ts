import * as pulumi from "@pulumi/pulumi";
import { AttachPolicy } from "./attach-policy";
import { Database } from "./database";
import { DatabaseFleet } from "./database-fleet";
import { Group } from "./group";
import { Provider } from "./provider";
import { SchemaDatabase } from "./schema-database";
import { Token } from "./token";
import * as utilities from "./utilities";

export { AttachPolicy, type AttachPolicyArgs, type AttachPolicyState } from "./attach-policy";
export { Database, type DatabaseArgs, type DatabaseState } from "./database";
export { DatabaseFleet, type DatabaseFleetArgs, type DatabaseFleetState } from "./database-fleet";
export { Authorization } from "./enums";
export { Group, type GroupArgs, type GroupState } from "./group";
export { Provider, type ProviderArgs } from "./provider";
export { SchemaDatabase, type SchemaDatabaseArgs, type SchemaDatabaseState } from "./schema-database";
export { Token, type TokenArgs, type TokenState } from "./token";

// As Pulumi's generated SDKs do: let the runtime rebuild resources (and providers) of this package from
// their URNs, for stack references, component constructs and the `pulumi` policy/automation tools.
const _module = {
  version: utilities.getVersion(),
  construct: (name: string, type: string, urn: string): pulumi.Resource => {
    const opts = { urn };
    switch (type) {
      case "tenantdb:index:AttachPolicy":
        return new AttachPolicy(name, undefined as never, opts);
      case "tenantdb:index:Database":
        return new Database(name, undefined as never, opts);
      case "tenantdb:index:DatabaseFleet":
        return new DatabaseFleet(name, undefined as never, opts);
      case "tenantdb:index:Group":
        return new Group(name, undefined, opts);
      case "tenantdb:index:SchemaDatabase":
        return new SchemaDatabase(name, undefined as never, opts);
      case "tenantdb:index:Token":
        return new Token(name, undefined, opts);
      default:
        throw new Error(`unknown resource type ${type}`);
    }
  },
};
pulumi.runtime.registerResourceModule("tenantdb", "index", _module);
pulumi.runtime.registerResourcePackage("tenantdb", {
  version: utilities.getVersion(),
  constructProvider: (name: string, type: string, urn: string): pulumi.ProviderResource => {
    if (type !== "pulumi:providers:tenantdb") throw new Error(`unknown provider type ${type}`);
    return new Provider(name, undefined, { urn });
  },
});
