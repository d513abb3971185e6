import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { packageSchema } from "../../provider/schema.js";
import { ROOT } from "../helpers.js";

/**
 * The SDK is a typed face over the provider's property names: this holds one against the other, reading
 * the SDK's published declarations (what a program compiles against). Its shape is the one
 * pulumi/pulumi's pkg/codegen/nodejs/gen.go writes: `get(name, id, state?, opts?)` and the index's
 * registerResourceModule / registerResourcePackage.
 */
const SDK_FILES: Record<string, string> = {
  "tenantdb:index:Group": "group",
  "tenantdb:index:SchemaDatabase": "schema-database",
  "tenantdb:index:Database": "database",
  "tenantdb:index:DatabaseFleet": "database-fleet",
  "tenantdb:index:AttachPolicy": "attach-policy",
  "tenantdb:index:Token": "token",
};

function declarations(file: string) {
  const dts = fs.readFileSync(path.join(ROOT, "sdk", "bin", `${file}.d.ts`), "utf8");
  const argsBlock = dts.match(/export interface \w+Args \{([\s\S]*?)\n\}/)?.[1] ?? "";
  const args = [...argsBlock.matchAll(/^\s+(\w+)\??: pulumi\.Input/gm)].map((m) => m[1]);
  const outputs = [...dts.matchAll(/readonly (\w+): pulumi\.Output/g)].map((m) => m[1]);
  return { args: args.sort(), outputs: outputs.sort() };
}

describe("the SDK against the provider schema", () => {
  const schema = packageSchema() as {
    name: string;
    version: string;
    resources: Record<string, { inputProperties: object; properties: object }>;
    provider: { inputProperties: object };
  };

  it.each(Object.entries(SDK_FILES))(
    "%s has the schema's inputs as Args and its properties as outputs",
    (token, file) => {
      const resource = schema.resources[token];
      expect(resource).toBeDefined();
      const sdk = declarations(file);
      expect(sdk.args).toEqual(Object.keys(resource?.inputProperties ?? {}).sort());
      expect(sdk.outputs).toEqual(Object.keys(resource?.properties ?? {}).sort());
    },
  );

  it("covers every resource the provider serves, and the provider's configuration", () => {
    expect(Object.keys(schema.resources).sort()).toEqual(Object.keys(SDK_FILES).sort());
    const provider = declarations("provider");
    expect(provider.args).toEqual(Object.keys(schema.provider.inputProperties).sort());
  });

  it("declares itself a resource package for the same plugin and version", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "sdk", "package.json"), "utf8"));
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.pulumi).toEqual({ resource: true, name: schema.name, version: schema.version });
    expect(pkg.version).toBe(root.version);
    expect(Object.keys(pkg.dependencies)).toEqual(["@pulumi/pulumi"]);
  });

  it.each(Object.entries(SDK_FILES))(
    "%s has a generated SDK's get(name, id, state?, opts?) with a State of every property",
    (token, file) => {
      const dts = fs.readFileSync(path.join(ROOT, "sdk", "bin", `${file}.d.ts`), "utf8");
      const cls = token.split(":")[2] as string;
      expect(dts).toMatch(
        new RegExp(
          `static get\\(name: string, id: pulumi\\.Input<pulumi\\.ID>, state\\?: ${cls}State, opts\\?: pulumi\\.CustomResourceOptions\\): ${cls};`,
        ),
      );
      const stateBlock =
        dts.match(new RegExp(`export interface ${cls}State \\{([\\s\\S]*?)\\n\\}`))?.[1] ?? "";
      const state = [...stateBlock.matchAll(/^\s+(\w+)\?: pulumi\.Input/gm)].map((m) => m[1]).sort();
      expect(state).toEqual(Object.keys(schema.resources[token]?.properties ?? {}).sort());
    },
  );

  it("registers its resource package and module with the runtime, as generated SDKs do", async () => {
    const runtime = (await import("@pulumi/pulumi")).runtime;
    await import("@tenantdb/pulumi");
    const pkg = runtime.getResourcePackage("tenantdb", undefined);
    expect(pkg?.version).toBe(schema.version);
    expect(() => pkg?.constructProvider("p", "pulumi:providers:other", "urn:x")).toThrow(
      /unknown provider type/,
    );
    const mod = runtime.getResourceModule("tenantdb", "index", undefined);
    expect(mod?.version).toBe(schema.version);
    expect(() => mod?.construct("x", "tenantdb:index:Nope", "urn:x")).toThrow(/unknown resource type/);
  });

  it("exports the Authorization enum with the schema's values", async () => {
    const { Authorization } = await import("@tenantdb/pulumi");
    const types = (packageSchema() as { types: Record<string, { enum: { name: string; value: string }[] }> })
      .types;
    const values = types["tenantdb:index:Authorization"]?.enum ?? [];
    expect(Authorization).toEqual(Object.fromEntries(values.map((v) => [v.name, v.value])));
  });
});
