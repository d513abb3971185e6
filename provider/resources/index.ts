import { erase, type Resource } from "../resource.js";
import { AttachPolicy } from "./attach-policy.js";
import { Database } from "./database.js";
import { DatabaseFleet } from "./database-fleet.js";
import { Group } from "./group.js";
import { SchemaDatabase } from "./schema-database.js";
import { Token } from "./token.js";

/** Every resource the provider serves: the table of contents the server and the schema both read. */
export const resources: Resource[] = [
  erase(Group),
  erase(SchemaDatabase),
  erase(Database),
  erase(DatabaseFleet),
  erase(AttachPolicy),
  erase(Token),
];

export const resourceByToken = new Map(resources.map((r) => [r.token, r]));
