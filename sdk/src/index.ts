export { AttachPolicy, type AttachPolicyArgs } from "./attach-policy";
export { Database, type DatabaseArgs } from "./database";
export { DatabaseFleet, type DatabaseFleetArgs } from "./database-fleet";
export { Group, type GroupArgs } from "./group";
export { Provider, type ProviderArgs } from "./provider";
export { SchemaDatabase, type SchemaDatabaseArgs } from "./schema-database";
export { Token, type TokenArgs } from "./token";
