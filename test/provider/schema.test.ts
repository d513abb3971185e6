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

  it("names the generated SDKs' packages, so gen-sdk does not fall back to @pulumi/tenantdb", () => {
    expect(schema.language).toMatchObject({
      nodejs: { packageName: "@tenantdb/pulumi" },
      python: { packageName: "pulumi_tenantdb" },
      go: { importBasePath: "github.com/tenantdb/tenantdb/sdk/go/tenantdb" },
      csharp: { rootNamespace: "TenantDb" },
    });
    expect(schema).toMatchObject({ publisher: "tenantdb", repository: expect.stringMatching(/^https:\/\//) });
    // The SDK in this repository is that nodejs package.
    const sdk = JSON.parse(fs.readFileSync(path.join(ROOT, "sdk", "package.json"), "utf8"));
    expect(sdk.name).toBe((schema.language as { nodejs: { packageName: string } }).nodejs.packageName);
  });

  // pkg/codegen/python/gen.go (calculateDeps) writes each `requires` entry as key + value and adds its own
  // `pulumi` unless a key is exactly that; pkg/codegen/nodejs/gen.go keeps a given @pulumi/pulumi range.
  it("gives the generated SDKs dependencies the codegen reads as meant", () => {
    const language = schema.language as {
      nodejs: { dependencies?: Record<string, string> };
      python: { requires?: Record<string, string> };
    };
    for (const name of Object.keys(language.python.requires ?? {})) {
      expect(name, "a distribution name, without a version specifier").toMatch(
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      );
    }
    const sdk = JSON.parse(fs.readFileSync(path.join(ROOT, "sdk", "package.json"), "utf8"));
    expect(language.nodejs.dependencies?.["@pulumi/pulumi"]).toBe(sdk.dependencies["@pulumi/pulumi"]);
  });

  it("makes `authorization` an enum and `expiresAt` an ISO timestamp string", () => {
    const token = resource("tenantdb:index:Token");
    expect(token.inputProperties.authorization).toMatchObject({
      $ref: "#/types/tenantdb:index:Authorization",
    });
    expect((schema.types as Record<string, unknown>)["tenantdb:index:Authorization"]).toEqual({
      type: "string",
      description: expect.any(String),
      enum: [
        { name: "FullAccess", value: "full-access", description: expect.any(String) },
        { name: "ReadOnly", value: "read-only", description: expect.any(String) },
      ],
    });
    expect(token.properties.expiresAt).toMatchObject({
      type: "string",
      description: expect.stringMatching(/ISO 8601/),
    });
  });

  // The rules pkg/codegen/schema/bind.go applies beyond the metaschema (what `pulumi package gen-sdk`
  // refuses), and pkg/codegen/schema/reserved_keywords.go's reserved names.
  it("passes the codegen binder's rules: tokens, reserved names, required lists and type references", () => {
    const types = (schema.types ?? {}) as Record<
      string,
      { type: string; enum?: { name: string; value: unknown }[] }
    >;
    const tokens = [...Object.keys(schema.resources as object), ...Object.keys(types)];
    for (const token of tokens) {
      // bind.go: three parts, this package's name, a module other than `provider`, no nesting under index.
      const [pkg, mod, name] = token.split(":");
      expect(token.split(":"), token).toHaveLength(3);
      expect(pkg).toBe(schema.name);
      expect(mod).not.toBe("provider");
      expect(mod?.startsWith("index/")).toBe(false);
      expect(name).toMatch(/^[A-Z][A-Za-z0-9]*$/);
    }
    for (const [token, t] of Object.entries(types)) {
      expect(["string", "integer", "number", "boolean"], token).toContain(t.type);
      for (const e of t.enum ?? []) {
        expect(typeof e.value, `${token} ${e.name}`).toBe(t.type);
        expect(e.name).toMatch(/^[A-Z][A-Za-z0-9]*$/);
      }
    }
    const refs: string[] = [];
    const propertiesOf = (s: Spec) => ({ ...s.inputProperties, ...s.properties });
    for (const [token, spec] of Object.entries(schema.resources as Record<string, Spec>)) {
      for (const [name, prop] of Object.entries(propertiesOf(spec))) {
        // reserved_keywords.go: `pulumi` anywhere; `urn` and `id` on custom resources.
        expect(["pulumi", "urn", "id"], `${token}.${name}`).not.toContain(name);
        if (typeof prop.$ref === "string") refs.push(prop.$ref);
      }
      // bind.go: "unknown required property".
      for (const r of spec.required) expect(Object.keys(spec.properties), token).toContain(r);
      for (const r of spec.requiredInputs) expect(Object.keys(spec.inputProperties), token).toContain(r);
    }
    const provider = schema.provider as Spec;
    for (const name of Object.keys(propertiesOf(provider))) expect(["pulumi", "version"]).not.toContain(name);
    for (const ref of refs) expect(Object.keys(types)).toContain(ref.replace(/^#\/types\//, ""));
  });

  it("provider/schema.json, when present, is exactly what GetSchema serves (run `npm run schema`)", () => {
    const file = path.join(ROOT, "provider", "schema.json");
    if (!fs.existsSync(file)) return;
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual(schema);
  });
});
