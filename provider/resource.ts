import type { Backend } from "./backends/backend.js";
import type { DiffResult } from "./diff.js";
import type { Severity } from "./engine-log.js";
import type { Autonaming } from "./names.js";
import type { PropertyMap, Unknown } from "./properties.js";

/**
 * The shape every resource file fills in, in the spirit of pulumi-go-provider's `infer`: property specs
 * declared once (they drive the schema, the default diff and input checking), then check, create, read,
 * update and delete side by side. Requests and results are small named objects, so adding a field later
 * breaks nobody. Values are plain (secrets already revealed by the server); during a preview any input
 * may be the unknown sentinel, which is why `Previewed<T>` exists.
 */

export type PropertyType = "string" | "integer" | "number" | "boolean" | "string[]";

export interface PropertySpec {
  type: PropertyType;
  /** Markdown for the schema and the generated SDKs. */
  description: string;
  /** As an input: may be omitted. */
  optional?: boolean;
  /** As an output: may be absent or null (everything else is listed as `required`). */
  outputOptional?: boolean;
  secret?: boolean;
  /** A change replaces the resource instead of updating it in place. */
  replaceOnChanges?: boolean;
  /** What Check fills in when the input is omitted (documented in the schema). */
  default?: string | number | boolean;
  /** A string drawn from a fixed set: a named enum type in the schema (and in the generated SDKs). */
  enum?: EnumSpec;
}

export interface EnumSpec {
  /** The enum type's token, `tenantdb:index:<Name>`. */
  token: string;
  description: string;
  values: readonly { name: string; value: string; description: string }[];
}

/** One spec per property of T (and, erased, a plain map of specs). */
export type Specs<T> = { [K in keyof T]-?: PropertySpec } & Record<string, PropertySpec>;

/** A value during a preview may not be known yet. */
export type Previewed<T> = { [K in keyof T]: T[K] | Unknown };

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface ResourceContext {
  backend: Backend;
  urn: string;
  /** The resource's name in the program (the URN's last segment). */
  resourceName: string;
  /** A message for the person running Pulumi, shown against this resource (the engine's Log service). */
  log(severity: Severity, message: string, opts?: { ephemeral?: boolean }): void;
  /** Aborted when the engine cancels the deployment or the step's customTimeout runs out. */
  signal: AbortSignal;
  /** The step's customTimeout, when the program set one. */
  timeoutMs?: number;
}

export interface CheckRequest {
  /** Old inputs (empty for a new resource and for the second Check of a replacement). */
  olds: PropertyMap;
  news: PropertyMap;
  randomSeed?: Uint8Array;
  /** The engine's autonaming configuration for this resource, when it sends one. */
  autonaming?: Autonaming;
}

export interface CheckResult {
  inputs: PropertyMap;
  failures: CheckFailure[];
}

export interface CreateRequest<Args> {
  args: Previewed<Args>;
  preview: boolean;
}

export interface CreateResult<State> {
  id: string;
  state: Previewed<State>;
}

export interface ReadRequest<State> {
  id: string;
  /** Old outputs on a refresh; empty on an import, which has only the id. */
  state: Partial<State>;
  /** Old inputs on a refresh; empty on an import. */
  inputs: PropertyMap;
}

/** The resource as it is now, and inputs that Check and Diff accept as unchanged; null when it is gone. */
export type ReadResult<Args, State> = { id: string; state: State; inputs: Args } | null;

export interface UpdateRequest<Args, State> {
  id: string;
  olds: State;
  oldArgs: Args;
  args: Previewed<Args>;
  preview: boolean;
}

export interface DeleteRequest<State> {
  id: string;
  state: Partial<State>;
}

export interface Resource<Args extends object = object, State extends object = object> {
  token: string;
  description: string;
  inputs: Specs<Args>;
  /** Output-only properties; the outputs are these plus every input. */
  outputs: Specs<Omit<State, keyof Args>>;
  /** The input that becomes the id, when there is one (used to decide the order of a replacement). */
  identity?: keyof Args & string;
  /**
   * Whether something already holds this identity (a name) outside the state: a preview of a create
   * answers with the conflict `up` would meet.
   */
  exists?(ctx: ResourceContext, identity: string): Promise<boolean>;
  /**
   * The current values of outputs that other resources change (a child count, a version a parent's
   * migration moves), read without writing. Diff reports any that moved, so the engine's Update (which
   * changes nothing else) brings them up to date instead of keeping the stale ones.
   */
  observe?(ctx: ResourceContext, id: string): Promise<Partial<State> | null>;
  /** Reads checked inputs back into typed arguments, reporting (not throwing) what is wrong. */
  decode(inputs: PropertyMap): { args: Previewed<Args>; failures: CheckFailure[] };
  /** Refines the property-by-property diff (e.g. item by item for a list); the default diff otherwise. */
  diff?(olds: PropertyMap, news: PropertyMap, base: DiffResult): DiffResult;
  check(ctx: ResourceContext, req: CheckRequest): Promise<CheckResult>;
  create(ctx: ResourceContext, req: CreateRequest<Args>): Promise<CreateResult<State>>;
  read(ctx: ResourceContext, req: ReadRequest<State>): Promise<ReadResult<Args, State>>;
  update(ctx: ResourceContext, req: UpdateRequest<Args, State>): Promise<Previewed<State>>;
  delete(ctx: ResourceContext, req: DeleteRequest<State>): Promise<void>;
}

/** Erases a resource's argument types so the server can hold them all in one table. */
export const erase = <A extends object, S extends object>(r: Resource<A, S>) => r as unknown as Resource;
