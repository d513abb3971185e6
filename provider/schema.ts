import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { configSpecs } from "./config.js";
import type { EnumSpec, PropertySpec, Resource } from "./resource.js";
import { resources } from "./resources/index.js";

/**
 * The Pulumi package schema, generated from the property specs the resource files declare, so the schema
 * cannot drift from what the handlers do. GetSchema serves it; `npm run schema` writes a copy for tools
 * that want a file.
 */

type JsonSchemaProperty = Record<string, unknown>;

export function packageSchema(version = packageVersion()): Record<string, unknown> {
  return {
    name: "tenantdb",
    displayName: "tenantdb",
    version,
    description:
      "SQLite database-per-tenant fleets as code: groups, schema databases whose migrations reach every tenant database all-or-none, attach policies and tokens.",
    keywords: ["pulumi", "tenantdb", "sqlite", "database-per-tenant", "category/database", "kind/native"],
    license: "Apache-2.0",
    publisher: "tenantdb",
    repository: "https://github.com/tenantdb/tenantdb",
    // No pluginDownloadURL: the plugin ships with the SDK's repository (bin/pulumi-resource-tenantdb) and
    // programs point at it with `plugins.providers` in Pulumi.yaml; there is no release server to name.
    language: {
      nodejs: {
        packageName: "@tenantdb/pulumi",
        packageDescription: "Pulumi SDK for tenantdb: SQLite database-per-tenant fleets as code.",
        // The range the SDK in sdk/ declares: a generated package needs what that one needs.
        dependencies: { "@pulumi/pulumi": "^3.270.0" },
      },
      // No `requires`: pkg/codegen/python/gen.go adds `pulumi` with the least version its generated code
      // needs (a `requires` key is a distribution name, its value the version specifier).
      python: { packageName: "pulumi_tenantdb" },
      go: {
        importBasePath: "github.com/tenantdb/tenantdb/sdk/go/tenantdb",
        generateResourceContainerTypes: true,
      },
      csharp: { rootNamespace: "TenantDb", namespaces: { tenantdb: "Pulumi" } },
    },
    config: { variables: properties(configSpecs, "input") },
    provider: {
      description: "The tenantdb provider: the local engine over a data directory, or a Platform API.",
      inputProperties: properties(configSpecs, "input"),
      properties: properties(configSpecs, "output"),
    },
    types: Object.fromEntries(enums().map((e) => [e.token, enumType(e)])),
    resources: Object.fromEntries(resources.map((r) => [r.token, resourceSchema(r)])),
  };
}

/** Every enum some resource's property draws from, once each. */
function enums(): EnumSpec[] {
  const byToken = new Map<string, EnumSpec>();
  for (const r of resources) {
    for (const spec of Object.values<PropertySpec>({ ...r.inputs, ...r.outputs })) {
      if (spec.enum) byToken.set(spec.enum.token, spec.enum);
    }
  }
  return [...byToken.values()];
}

function enumType(e: EnumSpec): Record<string, unknown> {
  return { type: "string", description: e.description, enum: e.values };
}

function resourceSchema(r: Resource): Record<string, unknown> {
  const inputs: Record<string, PropertySpec> = r.inputs;
  const all: Record<string, PropertySpec> = { ...inputs, ...r.outputs };
  return {
    description: r.description,
    inputProperties: properties(inputs, "input"),
    requiredInputs: Object.keys(inputs).filter((k) => !inputs[k]?.optional),
    properties: properties(all, "output"),
    required: Object.keys(all).filter((k) => !all[k]?.outputOptional),
  };
}

function properties(specs: Record<string, PropertySpec>, side: "input" | "output") {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, property(spec, side)]));
}

function property(spec: PropertySpec, side: "input" | "output"): JsonSchemaProperty {
  const type: JsonSchemaProperty = spec.enum
    ? { $ref: `#/types/${spec.enum.token}` }
    : spec.type === "string[]"
      ? { type: "array", items: { type: "string" } }
      : { type: spec.type };
  return {
    ...type,
    description: spec.description,
    ...(spec.secret ? { secret: true } : {}),
    ...(spec.replaceOnChanges ? { replaceOnChanges: true } : {}),
    // A default only means something where the value is given: on inputs.
    ...(side === "input" && spec.default !== undefined ? { default: spec.default } : {}),
  };
}

let cachedVersion: string | undefined;

/** The version in tenantdb's package.json, found by walking up from this file (in dist/ or in source). */
export function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "tenantdb" && pkg.version) {
        cachedVersion = pkg.version;
        return pkg.version;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return "0.0.0";
    dir = up;
  }
}
