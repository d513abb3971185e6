import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { packageSchema } from "./schema.js";

/**
 * `npm run schema`: writes provider/schema.json (then biome formats it) for tools that want the schema as
 * a file (`pulumi package gen-sdk`). It is a copy of what GetSchema serves; a test fails if it is stale.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const file = path.join(root, "provider", "schema.json");
fs.writeFileSync(file, `${JSON.stringify(packageSchema(), null, 2)}\n`);
process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
