import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, Plugin, ROOT } from "./harness.js";

/** The package schema the plugin serves: generated from the resource specs, valid against Pulumi's metaschema. */

const METASCHEMA = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "fixtures",
  "pulumi-package-metaschema.json",
);

let plugin: Plugin;
let schema: Record<string, unknown>;

beforeAll(async () => {
  ensureBuilt();
  plugin = await Plugin.start();
  schema = await plugin.schema();
});

afterAll(async () => {
  await plugin?.stop();
});

type Spec = {
  inputProperties: Record<string, Record<string, unknown>>;
  requiredInputs: string[];
  properties: Record<string, Record<string, unknown>>;
  required: string[];
};
const resource = (token: string) => (schema.resources as Record<string, Spec>)[token] as Spec;

describe("GetSchema", () => {
  it("validates against the Pulumi package metaschema", () => {
    // ajv is CommonJS; under NodeNext its class is the default export's `default`. Formats ("regex",
    // "uri-reference") are annotations here and ajv has none built in.
    const ajv = new Ajv2020.default({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(METASCHEMA, "utf8")));
    const ok = validate(schema);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // The check has teeth: a malformed resource is refused.
    expect(
      validate({ ...schema, resources: { "not a token": { inputProperties: { x: { type: "nope" } } } } }),
    ).toBe(false);
  });

  it("names the package and its version, with config and provider inputs", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(schema).toMatchObject({ name: "tenantdb", version: pkg.version });
    const variables = (schema.config as { variables: Record<string, Record<string, unknown>> }).variables;
    expect(Object.keys(variables)).toEqual(["dataDir", "url", "apiToken", "organization"]);
    expect(variables.apiToken).toMatchObject({ type: "string", secret: true });
    expect((schema.provider as Spec).inputProperties).toEqual(variables);
  });

  it("describes each resource from its property specs", () => {
    expect(Object.keys(schema.resources as object)).toEqual([
      "tenantdb:index:Group",
      "tenantdb:index:SchemaDatabase",
      "tenantdb:index:Database",
      "tenantdb:index:DatabaseFleet",
      "tenantdb:index:AttachPolicy",
      "tenantdb:index:Token",
    ]);
    const group = resource("tenantdb:index:Group");
    expect(group.requiredInputs).toEqual([]);
    expect(group.required).toEqual(["name", "location"]);
    expect(group.inputProperties.location).toMatchObject({ type: "string", replaceOnChanges: true });

    const schemaDb = resource("tenantdb:index:SchemaDatabase");
    // `migrations` or `schema`: exactly one, which Check enforces.
    expect(schemaDb.requiredInputs).toEqual(["group"]);
    expect(schemaDb.inputProperties.migrations).toMatchObject({ type: "array", items: { type: "string" } });
    expect(schemaDb.properties.schemaVersion).toMatchObject({ type: "integer" });
    expect(schemaDb.required).toEqual(["name", "group", "migrations", "schemaVersion", "childCount"]);

    const db = resource("tenantdb:index:Database");
    expect(db.required).not.toContain("schemaParent");
    expect(db.inputProperties.blockReads).toMatchObject({ type: "boolean", default: false });

    expect(resource("tenantdb:index:AttachPolicy").inputProperties.allowAttach).toMatchObject({
      default: true,
    });

    const fleet = resource("tenantdb:index:DatabaseFleet");
    expect(fleet.requiredInputs).toEqual(["schemaParent", "names"]);
    expect(fleet.inputProperties.maxRemovalShare).toMatchObject({ type: "number", default: 0.1 });

    const token = resource("tenantdb:index:Token");
    expect(token.requiredInputs).toEqual([]);
    expect(token.properties.jwt).toMatchObject({ type: "string", secret: true });
    expect(token.required).toEqual(["authorization", "expiration", "attach", "jwt", "jti"]);
    for (const spec of Object.values(token.inputProperties)) expect(spec.replaceOnChanges).toBe(true);
  });

  it("provider/schema.json, when present, is exactly what GetSchema serves (run `npm run schema`)", () => {
    const file = path.join(ROOT, "provider", "schema.json");
    if (!fs.existsSync(file)) return;
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual(schema);
  });
});
