import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import grpc from "@grpc/grpc-js";
import engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb.js";
import type { LogRequest } from "@pulumi/pulumi/proto/engine_pb.js";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb.js";
import grpcPb from "@pulumi/pulumi/proto/provider_grpc_pb.js";
import providerPb from "@pulumi/pulumi/proto/provider_pb.js";
import Database from "better-sqlite3";
import emptyPb from "google-protobuf/google/protobuf/empty_pb.js";
import structPb from "google-protobuf/google/protobuf/struct_pb.js";
import { expect } from "vitest";
import { type Engine, openEngine } from "../../engine/index.js";
import { startServer } from "../../server/index.js";

/**
 * Acts as the Pulumi engine against the real plugin: spawns `bin/pulumi-resource-tenantdb` as a process,
 * reads its port from the first stdout line and speaks gRPC to it with Pulumi's own client stubs, in the
 * call orders of reference/pulumi-provider-protocol.md §3. `Stack` plays a deployment (preview, up,
 * refresh, import, destroy) over those calls so the tests read like Pulumi programs. `BACKENDS` lets a
 * suite run once per backend the plugin can be configured with.
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PLUGIN = path.join(ROOT, "bin", "pulumi-resource-tenantdb");
const CLI = path.join(ROOT, "bin", "tenantdb");

export type Props = Record<string, unknown>;
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const secret = (value: unknown) => ({ [SECRET_KEY]: SECRET_SIG, value });
export const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Props)[SECRET_KEY] === SECRET_SIG;

export const urnOf = (type: string, name: string) =>
  `urn:pulumi:test::tenantdb::tenantdb:index:${type}::${name}`;

// ── build ───────────────────────────────────────────────────────────────────────────────────────────

/**
 * The plugin runs from dist/, so make sure dist/ is at least as new as the sources. Test files run in
 * parallel workers, so the build is guarded by a lock directory and re-checked after waiting for it.
 */
export function ensureBuilt(): void {
  const lock = path.join(os.tmpdir(), `tenantdb-build-${Buffer.from(ROOT).toString("hex").slice(-24)}.lock`);
  for (;;) {
    if (!isStale()) return;
    try {
      fs.mkdirSync(lock);
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      continue;
    }
    try {
      if (!isStale()) return;
      try {
        execFileSync(
          process.execPath,
          [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
          {
            cwd: ROOT,
            stdio: "pipe",
          },
        );
      } catch (e) {
        // Type errors elsewhere in the tree still emit JavaScript; only a missing plugin is fatal.
        process.stderr.write(`tsc reported errors:\n${(e as { stdout?: Buffer }).stdout?.toString() ?? e}\n`);
      }
      if (isStale())
        throw new Error("the build did not produce a fresh dist/provider/main.js; run `npm run build`");
      return;
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}

function isStale(): boolean {
  const built = path.join(ROOT, "dist", "provider", "main.js");
  if (!fs.existsSync(built)) return true;
  const builtAt = fs.statSync(built).mtimeMs;
  return ["engine", "cli", "provider"].some((dir) => newestSource(path.join(ROOT, dir)) > builtAt);
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

// ── the engine's side of the wire ───────────────────────────────────────────────────────────────────

export interface LogMessage {
  severity: "debug" | "info" | "warning" | "error";
  message: string;
  urn: string;
  ephemeral: boolean;
}

/**
 * The engine's own gRPC server as a plugin sees it: its address is the plugin's last argument and comes
 * again in Handshake (sdk/go/common/resource/plugin/provider_plugin.go, NewProvider), and the plugin
 * reports progress and warnings to its Engine.Log (sdk/go/common/resource/plugin/host.go, Host.Log).
 * This one records every message.
 */
export interface EngineHost {
  address: string;
  messages: LogMessage[];
  close(): Promise<void>;
}

const SEVERITIES = ["debug", "info", "warning", "error"] as const;

export async function startEngineHost(): Promise<EngineHost> {
  const messages: LogMessage[] = [];
  const server = new grpc.Server();
  server.addService(engineGrpc.EngineService, {
    log: (call: grpc.ServerUnaryCall<LogRequest, emptyPb.Empty>, cb: grpc.sendUnaryData<emptyPb.Empty>) => {
      const r = call.request;
      messages.push({
        severity: SEVERITIES[r.getSeverity()] ?? "info",
        message: r.getMessage(),
        urn: r.getUrn(),
        ephemeral: r.getEphemeral(),
      });
      cb(null, new emptyPb.Empty());
    },
  } as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    messages,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

// ── the plugin process ──────────────────────────────────────────────────────────────────────────────

export interface CheckResult {
  inputs: Props;
  failures: { property: string; reason: string }[];
}

export interface DiffResult {
  changes: "UNKNOWN" | "NONE" | "SOME";
  /** Per detailedDiff key: whether the program's inputs changed it (false: an output moved). */
  inputDiffs: Record<string, boolean>;
  diffs: string[];
  replaces: string[];
  stables: string[];
  detailedDiff: Record<string, string>;
  hasDetailedDiff: boolean;
  deleteBeforeReplace: boolean;
}

export interface Resource {
  id: string;
  outputs: Props;
  inputs?: Props;
}

const KIND_NAMES = Object.fromEntries(Object.entries(providerPb.PropertyDiff.Kind).map(([k, v]) => [v, k]));
const CHANGE_NAMES = ["UNKNOWN", "NONE", "SOME"] as const;

const struct = (p: Props) => structPb.Struct.fromJavaScript(p as Record<string, structPb.JavaScriptValue>);
const plain = (s: structPb.Struct | undefined) => (s?.toJavaScript() ?? {}) as Props;

type Client = InstanceType<typeof grpcPb.ResourceProviderClient>;

export class Plugin {
  private stderrText = "";
  private exited = false;

  private constructor(
    readonly process: ChildProcess,
    readonly client: Client,
    /** The plugin's working directory (a Pulumi program's directory). */
    readonly cwd: string,
    readonly port: number,
    /** Whether `cwd` is a temporary directory of ours, removed on stop. */
    private readonly ownsCwd: boolean,
    /** The engine host the plugin was started against: what it logged. */
    readonly host: EngineHost,
  ) {
    process.stderr?.on("data", (d: Buffer) => {
      this.stderrText += d.toString();
    });
    process.on("exit", () => {
      this.exited = true;
    });
  }

  /**
   * Spawns the real plugin the way the engine does (provider_plugin.go, NewProvider): `<bin> [flags]
   * <engine address>`, cwd = program dir, `PULUMI_CONFIG` = the stack's whole config as JSON (set on every
   * provider plugin process, default or explicit; empty here unless a test gives a stack config).
   */
  static async start(
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; args?: string[]; bin?: string } = {},
  ): Promise<Plugin> {
    const ownsCwd = opts.cwd === undefined;
    const cwd = opts.cwd ?? fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-provider-"));
    const host = await startEngineHost();
    const child = spawn(opts.bin ?? PLUGIN, opts.args ?? ["--logtostderr", "-v=9", host.address], {
      cwd,
      // Previews' plans kept beside the program (previewed-plans.ts), not in the machine's temp directory.
      env: {
        ...process.env,
        TENANTDB_DATA_DIR: "",
        PULUMI_CONFIG: "",
        TENANTDB_PREVIEW_DIR: path.join(cwd, ".previews"),
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const firstLine = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      child.stderr?.on("data", (d: Buffer) => {
        err += d.toString();
      });
      child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf("\n");
        if (nl >= 0) resolve(out.slice(0, nl));
      });
      child.on("exit", (code) =>
        reject(new Error(`plugin exited (${code}) before printing its port:\n${err}`)),
      );
    });
    expect(firstLine).toMatch(/^\d+$/);
    const port = Number(firstLine);
    const client = new grpcPb.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return new Plugin(child, client, cwd, port, ownsCwd, host);
  }

  /** What the plugin told the engine through Engine.Log. */
  get messages(): LogMessage[] {
    return this.host.messages;
  }

  /** Handshake as current engines send it first (provider_plugin.go, NewProvider's handshake). */
  async handshake(): Promise<providerPb.ProviderHandshakeResponse> {
    const req = new providerPb.ProviderHandshakeRequest()
      .setEngineAddress(this.host.address)
      .setRootDirectory(this.cwd)
      .setProgramDirectory(this.cwd)
      .setConfigureWithUrn(true)
      .setSupportsViews(true)
      .setAcceptsByteString(true);
    return this.call("handshake", req);
  }

  get stderr(): string {
    return this.stderrText;
  }

  get alive(): boolean {
    return !this.exited && this.process.exitCode === null;
  }

  /** Sends Cancel, then stops the process, as the engine does when it closes its plugin host. */
  async stop(): Promise<void> {
    if (this.alive) await this.cancel().catch(() => {});
    this.client.close();
    if (this.alive) {
      const exited = new Promise((r) => this.process.once("exit", r));
      this.process.kill("SIGTERM");
      await exited;
    }
    await this.host.close();
    if (this.ownsCwd) fs.rmSync(this.cwd, { recursive: true, force: true });
  }

  call<Req, Res>(method: string, req: Req): Promise<Res> {
    type Unary = (req: Req, cb: (e: grpc.ServiceError | null, res: Res) => void) => void;
    const fn = (this.client as unknown as Record<string, Unary>)[method];
    if (!fn) throw new Error(`the client has no method ${method}`);
    return new Promise((resolve, reject) =>
      fn.call(this.client, req, (e, res) => (e ? reject(e) : resolve(res))),
    );
  }

  async pluginInfo(): Promise<string> {
    return (await this.call<emptyPb.Empty, PluginInfo>("getPluginInfo", new emptyPb.Empty())).getVersion();
  }

  async schema(): Promise<Record<string, unknown>> {
    const res = await this.call<providerPb.GetSchemaRequest, providerPb.GetSchemaResponse>(
      "getSchema",
      new providerPb.GetSchemaRequest(),
    );
    return JSON.parse(res.getSchema());
  }

  async checkConfig(news: Props, olds: Props = {}): Promise<CheckResult> {
    const req = new providerPb.CheckRequest()
      .setUrn("urn:pulumi:test::tenantdb::pulumi:providers:tenantdb::default")
      .setOlds(struct(olds))
      .setNews(struct(news));
    return checkResult(await this.call("checkConfig", req));
  }

  async diffConfig(olds: Props, news: Props): Promise<DiffResult> {
    const req = new providerPb.DiffRequest()
      .setUrn("urn:pulumi:test::tenantdb::pulumi:providers:tenantdb::default")
      .setOlds(struct(olds))
      .setOldInputs(struct(olds))
      .setNews(struct(news));
    return diffResult(await this.call("diffConfig", req));
  }

  /** Configure as the engine sends it: args, `tenantdb:config:*` variables, secrets and old inputs on. */
  async configure(args: Props = {}, variables: Record<string, string> = {}) {
    const req = new providerPb.ConfigureRequest()
      .setArgs(struct(args))
      .setAcceptsecrets(true)
      .setAcceptresources(true)
      .setSendsOldInputs(true)
      .setSendsOldInputsToDelete(true);
    for (const [k, v] of Object.entries(variables)) req.getVariablesMap().set(k, v);
    return this.call<providerPb.ConfigureRequest, providerPb.ConfigureResponse>("configure", req);
  }

  async check(
    urn: string,
    olds: Props,
    news: Props,
    seed?: Uint8Array,
    autonaming?: { proposedName: string; mode: "propose" | "enforce" | "disable" },
  ): Promise<CheckResult> {
    const req = new providerPb.CheckRequest().setUrn(urn).setOlds(struct(olds)).setNews(struct(news));
    if (seed) req.setRandomseed(seed);
    if (autonaming) {
      const modes = providerPb.CheckRequest.AutonamingOptions.Mode;
      const mode = { propose: modes.PROPOSE, enforce: modes.ENFORCE, disable: modes.DISABLE }[
        autonaming.mode
      ];
      req.setAutonaming(
        new providerPb.CheckRequest.AutonamingOptions()
          .setProposedName(autonaming.proposedName)
          .setMode(mode),
      );
    }
    return checkResult(await this.call("check", req));
  }

  async diff(
    urn: string,
    id: string,
    olds: Props,
    oldInputs: Props | undefined,
    news: Props,
  ): Promise<DiffResult> {
    const req = new providerPb.DiffRequest()
      .setUrn(urn)
      .setId(id)
      .setOlds(struct(olds))
      .setNews(struct(news));
    if (oldInputs) req.setOldInputs(struct(oldInputs));
    return diffResult(await this.call("diff", req));
  }

  /** `timeout`: the resource's customTimeouts.create, in seconds (0: none). */
  async create(urn: string, properties: Props, preview = false, timeout = 0): Promise<Resource> {
    const req = new providerPb.CreateRequest()
      .setUrn(urn)
      .setProperties(struct(properties))
      .setPreview(preview)
      .setTimeout(timeout);
    const res = await this.call<providerPb.CreateRequest, providerPb.CreateResponse>("create", req);
    return { id: res.getId(), outputs: plain(res.getProperties()) };
  }

  async read(urn: string, id: string, properties?: Props, inputs?: Props): Promise<Resource> {
    const req = new providerPb.ReadRequest().setUrn(urn).setId(id);
    if (properties) req.setProperties(struct(properties));
    if (inputs) req.setInputs(struct(inputs));
    const res = await this.call<providerPb.ReadRequest, providerPb.ReadResponse>("read", req);
    return { id: res.getId(), outputs: plain(res.getProperties()), inputs: plain(res.getInputs()) };
  }

  async update(
    urn: string,
    id: string,
    olds: Props,
    oldInputs: Props,
    news: Props,
    preview = false,
    timeout = 0,
  ) {
    const req = new providerPb.UpdateRequest()
      .setUrn(urn)
      .setId(id)
      .setOlds(struct(olds))
      .setOldInputs(struct(oldInputs))
      .setNews(struct(news))
      .setPreview(preview)
      .setTimeout(timeout);
    const res = await this.call<providerPb.UpdateRequest, providerPb.UpdateResponse>("update", req);
    return plain(res.getProperties());
  }

  async delete(urn: string, id: string, properties: Props, oldInputs?: Props): Promise<void> {
    const req = new providerPb.DeleteRequest().setUrn(urn).setId(id).setProperties(struct(properties));
    if (oldInputs) req.setOldInputs(struct(oldInputs));
    await this.call("delete", req);
  }

  async cancel(): Promise<void> {
    await this.call("cancel", new emptyPb.Empty());
  }
}

function checkResult(res: providerPb.CheckResponse): CheckResult {
  return {
    inputs: plain(res.getInputs()),
    failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
  };
}

function diffResult(res: providerPb.DiffResponse): DiffResult {
  const detailedDiff: Record<string, string> = {};
  const inputDiffs: Record<string, boolean> = {};
  res.getDetaileddiffMap().forEach((v, k) => {
    detailedDiff[k] = KIND_NAMES[v.getKind()] as string;
    inputDiffs[k] = v.getInputdiff();
  });
  return {
    changes: CHANGE_NAMES[res.getChanges()] ?? "UNKNOWN",
    inputDiffs,
    diffs: res.getDiffsList(),
    replaces: res.getReplacesList(),
    stables: res.getStablesList(),
    detailedDiff,
    hasDetailedDiff: res.getHasdetaileddiff(),
    deleteBeforeReplace: res.getDeletebeforereplace(),
  };
}

/** Asserts that a call fails with a gRPC status (by name) and returns its message. */
export async function grpcError(promise: Promise<unknown>, code: keyof typeof grpc.status): Promise<string> {
  try {
    await promise;
  } catch (e) {
    const err = e as grpc.ServiceError;
    expect(grpc.status[err.code], err.details).toBe(code);
    expect(err.details).not.toMatch(/\n\s+at /); // no stack traces reach the engine
    return err.details;
  }
  throw new Error(`expected a ${code} error, but the call succeeded`);
}

// ── a deployment ────────────────────────────────────────────────────────────────────────────────────

/** A resource in a "program": inputs may read outputs of resources declared before it. */
export interface Decl {
  type: string;
  name: string;
  inputs: Props | ((outputs: (name: string) => Props) => Props);
  /** customTimeouts, in seconds, as the engine sends them (CreateRequest/UpdateRequest.timeout). */
  timeouts?: { create?: number; update?: number };
}

export interface StateEntry {
  type: string;
  name: string;
  urn: string;
  id: string;
  inputs: Props;
  outputs: Props;
}

export interface Step {
  op: "create" | "same" | "update" | "replace" | "delete";
  name: string;
  diff?: DiffResult;
  outputs?: Props;
}

const NO_DIFF: DiffResult = {
  changes: "NONE",
  inputDiffs: {},
  diffs: [],
  replaces: [],
  stables: [],
  detailedDiff: {},
  hasDetailedDiff: true,
  deleteBeforeReplace: false,
};

/** The check failures a step was refused with; fails the test if the step went through. */
export async function failuresOf(promise: Promise<unknown>): Promise<CheckFailed["failures"]> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof CheckFailed) return e.failures;
    throw e;
  }
  throw new Error("expected a check failure");
}

export class CheckFailed extends Error {
  constructor(
    readonly resource: string,
    readonly failures: CheckResult["failures"],
  ) {
    super(`${resource}: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
  }
}

/**
 * A stack's state and the engine's step logic (step_generator.go, simplified): for each declared resource
 * Check, then Create for a new one, or Diff and then nothing, Update, or a replacement (Check again with
 * empty olds, Create, and Delete the old one — first when the provider asks for delete-before-replace);
 * resources no longer declared are deleted at the end in reverse order. A preview makes the same calls
 * with preview=true and keeps the state as it was.
 */
export class Stack {
  state = new Map<string, StateEntry>();
  /** Every gRPC method the stack called, in order (e.g. "Check Group g"). */
  calls: string[] = [];
  /** The provider resource's checked inputs, once registered (configureProvider). */
  provider: Props | undefined;
  /** The inverted Diff of the last refresh, per resource that changed (step.go, RefreshStep.Apply). */
  refreshDiffs: Record<string, DiffResult> = {};
  /** Set when the provider resource was replaced: every resource through it is replaced next. */
  private providerReplaced = false;

  constructor(readonly plugin: Plugin) {}

  /**
   * Registers the provider resource as pkg/resource/deploy/providers/registry.go does, for the default
   * provider (inputs = the stack's `tenantdb:*` config, default_providers.go) and explicit ones alike:
   * CheckConfig(olds, news), DiffConfig against the old inputs when there are some, then Configure with
   * the checked inputs. A replacement marks every resource for replacement in the next run, as
   * step_generator.go's providerChanged does (DiffConfig's replace → ReplaceKeys ["provider"]). An error
   * from DiffConfig fails the deployment before any resource is touched.
   */
  async configureProvider(config: Props): Promise<"create" | "same" | "update" | "replace"> {
    const olds = this.provider;
    this.calls.push("CheckConfig");
    const checked = await this.plugin.checkConfig(config, olds ?? {});
    if (checked.failures.length > 0) throw new CheckFailed("provider", checked.failures);
    let op: "create" | "same" | "update" | "replace" = "create";
    if (olds) {
      this.calls.push("DiffConfig");
      const diff = await this.plugin.diffConfig(olds, checked.inputs);
      op = diff.replaces.length > 0 ? "replace" : diff.changes === "SOME" ? "update" : "same";
    }
    this.calls.push("Configure");
    await this.plugin.configure(checked.inputs);
    this.provider = checked.inputs;
    this.providerReplaced = op === "replace";
    return op;
  }

  preview(decls: Decl[]): Promise<Step[]> {
    return this.run(decls, true);
  }

  up(decls: Decl[]): Promise<Step[]> {
    return this.run(decls, false);
  }

  outputs(name: string): Props {
    const entry = this.state.get(name);
    if (!entry) throw new Error(`no resource ${name} in the stack`);
    return entry.outputs;
  }

  private async run(decls: Decl[], preview: boolean): Promise<Step[]> {
    const p = this.plugin;
    const steps: Step[] = [];
    const next = new Map<string, StateEntry>();
    const deletes: StateEntry[] = [];
    const outputsOf = (name: string) => {
      const entry = next.get(name);
      if (!entry) throw new Error(`${name} is not declared before it is used`);
      return entry.outputs;
    };
    for (const decl of decls) {
      const urn = urnOf(decl.type, decl.name);
      const news = typeof decl.inputs === "function" ? decl.inputs(outputsOf) : decl.inputs;
      const old = this.state.get(decl.name);
      const log = (m: string) => this.calls.push(`${m} ${decl.type} ${decl.name}`);
      const checked = async (olds: Props) => {
        log("Check");
        // Like the engine (without an update plan), a fresh random seed for every Check.
        const res = await p.check(urn, olds, news, randomBytes(32));
        if (res.failures.length > 0) throw new CheckFailed(decl.name, res.failures);
        return res.inputs;
      };
      const entry = (id: string, inputs: Props, outputs: Props): StateEntry => ({
        type: decl.type,
        name: decl.name,
        urn,
        id,
        inputs,
        outputs,
      });
      if (!old) {
        const inputs = await checked({});
        log("Create");
        const created = await p.create(urn, inputs, preview, decl.timeouts?.create);
        next.set(decl.name, entry(created.id, inputs, created.outputs));
        steps.push({ op: "create", name: decl.name, outputs: created.outputs });
        continue;
      }
      const inputs = await checked(old.inputs);
      let diff: DiffResult;
      if (this.providerReplaced) {
        // step_generator.go diff(): a replaced provider replaces the resource without asking its Diff.
        diff = { ...NO_DIFF, changes: "SOME", diffs: ["provider"], replaces: ["provider"] };
      } else {
        log("Diff");
        diff = await p.diff(urn, old.id, old.outputs, old.inputs, inputs);
      }
      if (diff.changes === "NONE") {
        next.set(decl.name, old);
        steps.push({ op: "same", name: decl.name, diff });
      } else if (diff.replaces.length > 0) {
        const fresh = await checked({});
        if (diff.deleteBeforeReplace && !preview) {
          log("Delete");
          await p.delete(urn, old.id, old.outputs, old.inputs);
        }
        log("Create");
        const created = await p.create(urn, fresh, preview, decl.timeouts?.create);
        if (!diff.deleteBeforeReplace) deletes.push(old);
        next.set(decl.name, entry(created.id, fresh, created.outputs));
        steps.push({ op: "replace", name: decl.name, diff, outputs: created.outputs });
      } else {
        log("Update");
        const outputs = await p.update(
          urn,
          old.id,
          old.outputs,
          old.inputs,
          inputs,
          preview,
          decl.timeouts?.update,
        );
        next.set(decl.name, entry(old.id, inputs, outputs));
        steps.push({ op: "update", name: decl.name, diff, outputs });
      }
    }
    const declared = new Set(decls.map((d) => d.name));
    for (const old of this.state.values()) if (!declared.has(old.name)) deletes.push(old);
    // Replaced and removed resources go last, dependents before what they depend on.
    const order = [...this.state.keys()];
    deletes.sort((a, b) => order.indexOf(b.name) - order.indexOf(a.name));
    for (const old of deletes) steps.push({ op: "delete", name: old.name });
    if (!preview) {
      for (const old of deletes) {
        this.calls.push(`Delete ${old.type} ${old.name}`);
        await p.delete(old.urn, old.id, old.outputs, old.inputs);
      }
      this.state = next;
      this.providerReplaced = false;
    }
    return steps;
  }

  /**
   * `pulumi refresh` (step.go, RefreshStep.Apply): Read each resource; an empty id drops it from the
   * state. For the rest, the engine diffs with the sides swapped — the refreshed inputs and outputs as
   * the old ones, the state's inputs as the new — and shows that diff inverted; kept in refreshDiffs.
   * Returns the dropped.
   */
  async refresh(): Promise<string[]> {
    const gone: string[] = [];
    this.refreshDiffs = {};
    for (const [name, e] of this.state) {
      this.calls.push(`Read ${e.type} ${name}`);
      const res = await this.plugin.read(e.urn, e.id, e.outputs, e.inputs);
      if (res.id === "") {
        gone.push(name);
        this.state.delete(name);
        continue;
      }
      const inputs = res.inputs && Object.keys(res.inputs).length > 0 ? res.inputs : e.inputs;
      this.calls.push(`Diff ${e.type} ${name}`);
      const diff = await this.plugin.diff(e.urn, res.id, res.outputs, inputs, e.inputs);
      if (diff.changes !== "NONE") this.refreshDiffs[name] = diff;
      this.state.set(name, { ...e, id: res.id, outputs: res.outputs, inputs });
    }
    return gone;
  }

  /**
   * `pulumi import` (or `import:` in a program): Read with the id alone, then Check the program's inputs
   * against the inputs Read returned, then Diff; anything but DIFF_NONE fails the import.
   */
  async import(decl: Decl, id: string): Promise<{ read: Resource; diff: DiffResult }> {
    const urn = urnOf(decl.type, decl.name);
    const news = typeof decl.inputs === "function" ? decl.inputs((n) => this.outputs(n)) : decl.inputs;
    const read = await this.plugin.read(urn, id);
    expect(read.id, "Read found nothing to import").toBe(id);
    const checked = await this.plugin.check(urn, read.inputs ?? {}, news);
    if (checked.failures.length > 0) throw new CheckFailed(decl.name, checked.failures);
    const diff = await this.plugin.diff(urn, id, read.outputs, read.inputs, checked.inputs);
    if (diff.changes === "NONE") {
      this.state.set(decl.name, {
        type: decl.type,
        name: decl.name,
        urn,
        id,
        inputs: checked.inputs,
        outputs: read.outputs,
      });
    }
    return { read, diff };
  }

  /** `pulumi destroy`: Delete only, in reverse dependency (declaration) order. */
  async destroy(): Promise<void> {
    for (const e of [...this.state.values()].reverse()) {
      this.calls.push(`Delete ${e.type} ${e.name}`);
      await this.plugin.delete(e.urn, e.id, e.outputs, e.inputs);
      this.state.delete(e.name);
    }
  }
}

// ── the world outside the plugin ────────────────────────────────────────────────────────────────────

/** Runs the real CLI against a data directory (as a person would, behind the stack's back). */
export function cli(dataDir: string, ...args: string[]): string {
  return execFileSync(CLI, ["--data-dir", dataDir, ...args], { encoding: "utf8", stdio: "pipe" });
}

/**
 * Opens the engine on the plugin's data directory to look at what really happened (or to set a fleet up).
 * One job worker: the jobs run here are a few databases each, and every worker thread started from the
 * TypeScript sources costs a fraction of a second of CPU (the default is three per core).
 */
export async function withEngine<T>(dataDir: string, fn: (engine: Engine) => Promise<T> | T): Promise<T> {
  const engine = await openEngine(dataDir, { recover: false, workers: 1 });
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}

/** The column names of a table in a database. */
export async function columns(engine: Engine, database: string, table: string): Promise<string[]> {
  const [result] = await engine.execute(database, `PRAGMA table_info(${table})`);
  if (!result) return [];
  const name = result.columns.indexOf("name");
  return result.rows.map((r) => String(r[name]));
}

// ── the backends a plugin can be configured with ────────────────────────────────────────────────────

/** Where a suite's fleet lives, and how the plugin is configured to reach it. */
export interface Fleet {
  /** The provider configuration, as Configure args (an API token wrapped as a secret). */
  config: Props;
  /** The data directory holding the fleet: the CLI and `withEngine` look here, whatever the backend. */
  dataDir: string;
  /** Whether nothing has been created yet. */
  untouched(): Promise<boolean>;
  /** What the plugin must never print or put in an error message (the API token), if any. */
  credential?: string;
  /** What the server logged as its own failures (none expected). */
  serverLog: string[];
  close(): Promise<void>;
}

export interface BackendTarget {
  name: "local" | "platform";
  open(plugin: Plugin): Promise<Fleet>;
}

/** The local engine over a data directory beside the program, resolved against the plugin's cwd. */
const local: BackendTarget = {
  name: "local",
  async open(plugin) {
    const dataDir = path.join(plugin.cwd, "data");
    return {
      config: { dataDir: "data" },
      dataDir,
      // A preview that creates nothing never even opens the engine, so there is no directory at all.
      untouched: async () => !fs.existsSync(dataDir),
      serverLog: [],
      close: async () => {},
    };
  },
};

/**
 * `tenantdb serve` in this process over a temporary data directory, reached over HTTP with an API token.
 * The CLI and `withEngine` share that directory with the server, as they would on one machine.
 */
const platform: BackendTarget = {
  name: "platform",
  async open() {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "tenantdb-platform-"));
    const dataDir = path.join(root, "data");
    const engine = await openEngine(dataDir, { workers: 2 });
    const serverLog: string[] = [];
    const server = await startServer(engine, { port: 0, log: (line) => serverLog.push(line) });
    const { token } = engine.mintApiToken("provider");
    return {
      config: { url: server.url, apiToken: secret(token), organization: server.org },
      dataDir,
      untouched: async () => engine.listGroups().length === 0 && engine.listDatabases().length === 0,
      credential: token,
      serverLog,
      async close() {
        await server.close();
        engine.close();
        fs.rmSync(root, { recursive: true, force: true });
      },
    };
  },
};

export const BACKENDS: BackendTarget[] = [local, platform];

/** A configuration as Configure's variables map (`tenantdb:config:<key>`), as older engines send it. */
export function configVariables(config: Props): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [`tenantdb:config:${k}`, String(isSecret(v) ? v.value : v)]),
  );
}

/** What every provider suite starts from: a running plugin, a fleet behind it, and an empty stack. */
export interface Suite {
  plugin: Plugin;
  fleet: Fleet;
  dataDir: string;
  stack: Stack;
  stop(): Promise<void>;
}

/**
 * Starts the plugin over `backend`'s fleet. With `configure`, it is configured through Configure's
 * variables map only, as older engines send stack config; otherwise the suite configures it itself.
 */
export async function startSuite(backend: BackendTarget, opts: { configure?: boolean } = {}): Promise<Suite> {
  ensureBuilt();
  const plugin = await Plugin.start();
  const fleet = await backend.open(plugin);
  if (opts.configure) await plugin.configure({}, configVariables(fleet.config));
  return {
    plugin,
    fleet,
    dataDir: fleet.dataDir,
    stack: new Stack(plugin),
    async stop() {
      await plugin.stop();
      await fleet.close();
    },
  };
}

// ── files and jobs behind the plugin's back ─────────────────────────────────────────────────────────

/**
 * Every file of a data directory with its bytes' hash and mtime: what "nothing changed" is checked
 * against. SQLite's shared-memory index (-shm) changes on every read by design, an empty write-ahead log
 * is what opening a WAL database leaves (the same as none), and tmp/ and locks/ hold per-process
 * scratch, so they are left out.
 */
export function fingerprint(dir: string, opts: { mtimes?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      const rel = path.relative(dir, p);
      if (entry.isDirectory()) {
        if (rel !== "tmp" && rel !== "locks") walk(p);
      } else if (
        !entry.name.endsWith("-shm") &&
        !(entry.name.endsWith("-wal") && fs.statSync(p).size === 0)
      ) {
        const hash = createHash("sha256").update(fs.readFileSync(p)).digest("hex");
        out[rel] = opts.mtimes === false ? hash : `${hash} ${fs.statSync(p).mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

const MIGRATE = path.join(ROOT, "test", "fixtures", "migrate.mjs");

/** A migration job run by another process (test/fixtures/migrate.mjs), as the CLI or a server would. */
export interface OutsideJob {
  /** Resolves at the job's first progress report: it holds its lock and fences its fleet from then on. */
  started: Promise<void>;
  /** Resolves with the version reached, or the error message. */
  finished: Promise<{ version?: number; error?: string }>;
}

export function migrateOutside(dataDir: string, parent: string, sql: string, faults?: object): OutsideJob {
  ensureBuilt();
  const child = spawn(
    process.execPath,
    [MIGRATE, dataDir, parent, sql, ...(faults ? [JSON.stringify(faults)] : [])],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let markStarted: () => void = () => {};
  const started = new Promise<void>((r) => {
    markStarted = r;
  });
  const finished = new Promise<{ version?: number; error?: string }>((resolve) => {
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes('"phase"')) markStarted();
    });
    child.on("exit", () => {
      markStarted();
      const last = out.trim().split("\n").pop() ?? "{}";
      const event = JSON.parse(last) as { finished?: number; error?: string };
      resolve({ version: event.finished, error: event.error });
    });
  });
  return { started, finished };
}

/**
 * Holds SQLite's lock on a database's file from this process, as any other connection may: a writer's
 * (`write`, RESERVED) stalls a job's dry run at that database; a reader's (`read`, SHARED) lets the dry run
 * by and stalls the run phase's COMMIT there. Jobs wait out a busy database, so a test can act while a job
 * is provably still running, before or past its commit point, and then let it go on. Returns the release.
 */
export async function holdLock(
  dataDir: string,
  database: string,
  kind: "read" | "write",
): Promise<() => void> {
  const file = await withEngine(dataDir, (e) => e.getDatabase(database).path);
  const db = new Database(file, { fileMustExist: true });
  if (kind === "write") db.exec("BEGIN IMMEDIATE");
  else {
    db.exec("BEGIN");
    db.prepare("SELECT count(*) FROM sqlite_schema").get();
  }
  return () => {
    db.exec("ROLLBACK");
    db.close();
  };
}

/** Waits until `predicate` holds, polling (for events another process or the plugin reports). */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, ms = 120_000) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The seed scenario as a stack program: group `fleet`, schema database `app` (named `app-schema`) with
 * `migrations`, and SEED_TENANTS following it.
 */
export const SEED_USERS = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)";
export const SEED_PHONE = "ALTER TABLE users ADD COLUMN phone_number TEXT";
export const SEED_TENANTS = ["acme", "globex", "initech"];

export function seedProgram(migrations: unknown[]): Decl[] {
  return [
    { type: "Group", name: "fleet", inputs: { name: "fleet" } },
    {
      type: "SchemaDatabase",
      name: "app",
      inputs: (o) => ({ name: "app-schema", group: o("fleet").name, migrations }),
    },
    ...SEED_TENANTS.map(
      (t): Decl => ({
        type: "Database",
        name: t,
        inputs: (o) => ({ name: t, group: o("fleet").name, schemaParent: o("app").name }),
      }),
    ),
  ];
}
