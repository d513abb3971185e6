import pluginPb from "@pulumi/pulumi/proto/plugin_pb.js";
import type { IResourceProviderServer } from "@pulumi/pulumi/proto/provider_grpc_pb.js";
import type {
  CheckRequest,
  ConfigureRequest,
  CreateRequest,
  DeleteRequest,
  DiffRequest,
  GetSchemaRequest,
  PropertyDiff,
  ProviderHandshakeRequest,
  ReadRequest,
  UpdateRequest,
} from "@pulumi/pulumi/proto/provider_pb.js";
import providerPb from "@pulumi/pulumi/proto/provider_pb.js";
import emptyPb from "google-protobuf/google/protobuf/empty_pb.js";
import { alreadyExists, invalidArgument } from "../engine/errors.js";
import { isTenantDbError, type TenantDbError } from "../engine/index.js";
import type { Backend } from "./backends/backend.js";
import { assertSameBackend, checkConfig, configSpecs, resolveConfig, selectBackend } from "./config.js";
import { deadlineSignal } from "./deadline.js";
import { type DiffKind, type DiffResult, diffInputs } from "./diff.js";
import { type EngineLog, engineLog, silentLog } from "./engine-log.js";
import { AUTONAMED, type Autonaming, resourceNameOf, typeOfUrn } from "./names.js";
import {
  conceal,
  fromStruct,
  isUnknown,
  type PropertyMap,
  revealMap,
  secretKeys,
  toStruct,
} from "./properties.js";
import type { CheckFailure, Resource, ResourceContext } from "./resource.js";
import { resourceByToken } from "./resources/index.js";
import { packageSchema, packageVersion } from "./schema.js";
import { unary } from "./status.js";
import { waitingOutJobs } from "./waiting.js";

/**
 * The ResourceProvider gRPC service: turns requests into plain values, dispatches on the type token to the
 * resource files, and turns results (and errors) back into responses. No resource rule lives here.
 */

type Handlers = Partial<IResourceProviderServer>;

export interface ProviderOptions {
  /** Relative data directories resolve against this (the program's directory, for a real plugin). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The engine's gRPC address (the plugin's last argument), for its Log service. */
  engineAddress?: string;
}

export class TenantDbProvider {
  #backend: Backend | undefined;
  #configError: TenantDbError | undefined;
  #log: EngineLog;
  /** Aborted by Cancel: every operation in flight, and every one after, stops at its next safe point. */
  #cancelled = new AbortController();
  /**
   * Names whose replacement this process's Diff answered delete-before-replace, by URN: the preview of
   * that replacement's Create finds the name taken by the very resource it replaces, which is fine.
   */
  #replacedFirst = new Map<string, unknown>();

  constructor(private readonly opts: ProviderOptions) {
    this.#log = opts.engineAddress ? engineLog(opts.engineAddress) : silentLog;
  }

  /** The configured backend; if Configure never came, the defaults (a local engine). */
  backend(): Backend {
    if (this.#configError) throw this.#configError;
    this.#backend ??= selectBackend({}, this.opts.cwd, this.opts.env);
    return this.#backend;
  }

  close(): void {
    this.#backend?.close();
    this.#log.close();
  }

  handlers(): Handlers {
    return {
      handshake: unary("Handshake", async (req: ProviderHandshakeRequest) => {
        const address = req.getEngineAddress();
        if (address && address !== this.opts.engineAddress) {
          this.#log.close();
          this.#log = engineLog(address);
        }
        return new providerPb.ProviderHandshakeResponse()
          .setAcceptSecrets(true)
          .setAcceptResources(false)
          .setAcceptOutputs(false)
          .setSupportsAutonamingConfiguration(true);
      }),
      getPluginInfo: unary("GetPluginInfo", async () =>
        new pluginPb.PluginInfo().setVersion(packageVersion()),
      ),
      getSchema: unary("GetSchema", async (_req: GetSchemaRequest) =>
        new providerPb.GetSchemaResponse().setSchema(JSON.stringify(packageSchema())),
      ),
      checkConfig: unary("CheckConfig", async (req: CheckRequest) => {
        const news = fromStruct(req.getNews());
        const { inputs, failures } = checkConfig(revealMap(news), this.opts.cwd, this.opts.env);
        return checkResponse(conceal(inputs, secretKeys(news).add("apiToken")), failures);
      }),
      diffConfig: unary("DiffConfig", async (req: DiffRequest) => {
        const olds = revealMap(fromStruct(req.hasOldInputs() ? req.getOldInputs() : req.getOlds()));
        const news = revealMap(fromStruct(req.getNews()));
        assertSameBackend(olds, news, this.opts.cwd, this.opts.env);
        return diffResponse(diffInputs(configSpecs, olds, news));
      }),
      configure: unary("Configure", async (req: ConfigureRequest) => this.configure(req)),
      check: unary("Check", async (req: CheckRequest) => this.check(req)),
      diff: unary("Diff", async (req: DiffRequest) => this.diff(req)),
      create: unary("Create", async (req: CreateRequest) => this.create(req)),
      read: unary("Read", async (req: ReadRequest) => this.read(req)),
      update: unary("Update", async (req: UpdateRequest) => this.update(req)),
      delete: unary("Delete", async (req: DeleteRequest) => this.delete(req)),
      // Operations in flight see their signal aborted: waits end, a migration stops at its commit point if
      // it has not passed it. The engine then lets them answer before it stops the process.
      cancel: unary("Cancel", async () => {
        this.#cancelled.abort(new Error("the deployment was cancelled"));
        return new emptyPb.Empty();
      }),
    };
  }

  private async configure(req: ConfigureRequest) {
    const args = revealMap(fromStruct(req.getArgs()));
    const config = resolveConfig(args, new Map(req.getVariablesMap().getEntryList()));
    this.#backend?.close();
    this.#backend = undefined;
    this.#configError = undefined;
    try {
      // Select now so a bad configuration fails here, where the engine reports it against the provider.
      this.#backend = selectBackend(config, this.opts.cwd, this.opts.env);
    } catch (e) {
      // Remembered, so resource calls made anyway fail with the same message instead of using defaults.
      if (isTenantDbError(e)) this.#configError = e;
      throw e;
    }
    return new providerPb.ConfigureResponse()
      .setAcceptsecrets(true)
      .setSupportspreview(true)
      .setAcceptresources(false)
      .setAcceptoutputs(false);
  }

  private async check(req: CheckRequest) {
    const { resource, ctx } = this.dispatch(req.getUrn(), req.getType(), req.getName());
    const news = fromStruct(req.getNews());
    const olds = fromStruct(req.getOlds());
    const seed = req.getRandomseed_asU8();
    const result = await resource.check(ctx, {
      olds: revealMap(olds),
      news: revealMap(news),
      randomSeed: seed.length > 0 ? seed : undefined,
      autonaming: autonamingOf(req),
    });
    return checkResponse(conceal(result.inputs, secretKeys(news)), result.failures);
  }

  private async diff(req: DiffRequest) {
    const { resource, ctx } = this.dispatch(req.getUrn(), req.getType(), req.getName());
    // Old inputs are what the program said last time; old outputs are the fallback for older engines.
    const olds = fromStruct(req.hasOldInputs() ? req.getOldInputs() : req.getOlds());
    const news = revealMap(fromStruct(req.getNews()));
    const result = diffInputs(resource.inputs, revealMap(olds), news, {
      ignoreChanges: req.getIgnorechangesList(),
      identity: resource.identity,
    });
    const diffed = resource.diff ? resource.diff(revealMap(olds), news, result) : result;
    if (diffed.deleteBeforeReplace && resource.identity) {
      this.#replacedFirst.set(req.getUrn(), news[resource.identity]);
    }
    if (diffed.replaces.length === 0 && resource.observe) {
      await this.observeOutputs(resource, ctx, req.getId(), revealMap(fromStruct(req.getOlds())), diffed);
    }
    return diffResponse(diffed);
  }

  /** Outputs other resources moved since the last step: a change the engine's Update will pick up. */
  private async observeOutputs(
    resource: Resource,
    ctx: ResourceContext,
    id: string,
    oldOutputs: PropertyMap,
    result: DiffResult,
  ): Promise<void> {
    const now = await resource.observe?.(ctx, id);
    if (!now) return; // gone: Read (refresh) or the Update itself will say so
    for (const [key, value] of Object.entries(now)) {
      if (oldOutputs[key] === value || result.diffs.includes(key)) continue;
      result.changes = true;
      result.diffs.push(key);
      result.detailedDiff[key] = "UPDATE";
      result.outputOnly.push(key);
    }
  }

  private async create(req: CreateRequest) {
    const { resource, ctx } = this.dispatch(req.getUrn(), req.getType(), req.getName(), req.getTimeout());
    const props = fromStruct(req.getProperties());
    const args = decodeOrThrow(resource, revealMap(props));
    if (req.getPreview()) await this.assertNameFree(resource, ctx, args);
    const { id, state } = await waitingOutJobs(ctx, `creating ${ctx.resourceName}`, () =>
      resource.create(ctx, { args, preview: req.getPreview() }),
    );
    return new providerPb.CreateResponse().setId(id).setProperties(toStruct(outputs(resource, state, props)));
  }

  /** The preview of a create whose name is already taken outside the state fails as `up` would. */
  private async assertNameFree(resource: Resource, ctx: ResourceContext, args: object): Promise<void> {
    const name = resource.identity && (args as PropertyMap)[resource.identity];
    if (typeof name !== "string" || isUnknown(name) || !resource.exists) return;
    if (this.#replacedFirst.get(ctx.urn) === name) return;
    if (!(await resource.exists(ctx, name))) return;
    const kind = resource.token.split(":").pop();
    throw alreadyExists(
      `a ${kind} named "${name}" already exists and this stack does not manage it, so \`pulumi up\` would fail to create it. Adopt it with \`pulumi import ${resource.token} ${ctx.resourceName} ${name}\` (or the \`import\` resource option), or choose another name.`,
    );
  }

  private async read(req: ReadRequest) {
    const { resource, ctx } = this.dispatch(req.getUrn(), req.getType(), req.getName());
    const props = fromStruct(req.getProperties());
    const inputs = fromStruct(req.getInputs());
    const found = await resource.read(ctx, {
      id: req.getId(),
      state: revealMap(props),
      inputs: revealMap(inputs),
    });
    // An empty id tells the engine the resource is gone.
    if (!found) return new providerPb.ReadResponse().setId("");
    // Whether Check chose the name is ours to remember, not the world's: keep the mark while the name holds.
    const readInputs = { ...(found.inputs as PropertyMap) };
    const id = resource.identity;
    if (id && inputs[AUTONAMED] === true && readInputs[id] === inputs[id]) readInputs[AUTONAMED] = true;
    return new providerPb.ReadResponse()
      .setId(found.id)
      .setProperties(toStruct(outputs(resource, found.state, props, inputs)))
      .setInputs(toStruct(conceal(readInputs, secretKeys(inputs))));
  }

  private async update(req: UpdateRequest) {
    const { resource, ctx } = this.dispatch(req.getUrn(), req.getType(), req.getName(), req.getTimeout());
    const news = fromStruct(req.getNews());
    const olds = revealMap(fromStruct(req.getOlds()));
    const oldInputs = req.hasOldInputs() ? revealMap(fromStruct(req.getOldInputs())) : olds;
    const args = decodeOrThrow(resource, revealMap(news));
    const state = await waitingOutJobs(ctx, `updating ${ctx.resourceName}`, () =>
      resource.update(ctx, {
        id: req.getId(),
        olds,
        oldArgs: resource.decode(oldInputs).args,
        args,
        preview: req.getPreview(),
      }),
    );
    return new providerPb.UpdateResponse().setProperties(toStruct(outputs(resource, state, news)));
  }

  private async delete(req: DeleteRequest) {
    const { resource, ctx } = this.dispatch(req.getUrn(), req.getType(), req.getName(), req.getTimeout());
    const state = revealMap(fromStruct(req.getProperties()));
    await waitingOutJobs(ctx, `deleting ${ctx.resourceName}`, () =>
      resource.delete(ctx, { id: req.getId(), state }),
    );
    return new emptyPb.Empty();
  }

  private dispatch(
    urn: string,
    type: string,
    name: string,
    timeoutSeconds = 0,
  ): { resource: Resource; ctx: ResourceContext } {
    const token = type || typeOfUrn(urn);
    const resource = resourceByToken.get(token);
    if (!resource) {
      throw invalidArgument(
        `unknown resource type ${JSON.stringify(token)}; the tenantdb provider has ${[...resourceByToken.keys()].join(", ")}`,
      );
    }
    const timeoutMs = timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined;
    const signal = timeoutMs ? deadlineSignal(this.#cancelled.signal, timeoutMs) : this.#cancelled.signal;
    const log = this.#log;
    const ctx: ResourceContext = {
      backend: this.backend(),
      urn,
      resourceName: name || resourceNameOf(urn),
      log: (severity, message, opts) => void log.log(severity, message, { urn, ephemeral: opts?.ephemeral }),
      signal,
      timeoutMs,
    };
    return { resource, ctx };
  }
}

/**
 * Outputs with secrets wrapped: every property the spec marks secret, and every property whose input the
 * program passed as a secret (so a secret never comes back in the clear under the same name).
 */
function outputs(resource: Resource, state: object, ...sources: PropertyMap[]): PropertyMap {
  const specSecrets = Object.entries({ ...resource.inputs, ...resource.outputs })
    .filter(([, spec]) => spec.secret)
    .map(([k]) => k);
  return conceal(state as PropertyMap, [...specSecrets, ...secretKeys(...sources)]);
}

/** Create and Update get inputs the engine has checked; anything else is a caller's bug, said plainly. */
function decodeOrThrow(resource: Resource, inputs: PropertyMap) {
  const { args, failures } = resource.decode(inputs);
  if (failures.length > 0) {
    const list = failures.map((f) => `${f.property}: ${f.reason}`).join("; ");
    throw invalidArgument(`invalid inputs for ${resource.token}: ${list}`);
  }
  return args;
}

const AUTONAMING_MODES = ["propose", "enforce", "disable"] as const;

function autonamingOf(req: CheckRequest): Autonaming | undefined {
  const a = req.getAutonaming();
  if (!a) return undefined;
  return { proposedName: a.getProposedName(), mode: AUTONAMING_MODES[a.getMode()] ?? "propose" };
}

function checkResponse(inputs: PropertyMap, failures: CheckFailure[]) {
  const res = new providerPb.CheckResponse().setInputs(toStruct(inputs));
  for (const f of failures)
    res.addFailures(new providerPb.CheckFailure().setProperty(f.property).setReason(f.reason));
  return res;
}

const KINDS: Record<DiffKind, PropertyDiff.Kind> = {
  ADD: providerPb.PropertyDiff.Kind.ADD,
  ADD_REPLACE: providerPb.PropertyDiff.Kind.ADD_REPLACE,
  DELETE: providerPb.PropertyDiff.Kind.DELETE,
  DELETE_REPLACE: providerPb.PropertyDiff.Kind.DELETE_REPLACE,
  UPDATE: providerPb.PropertyDiff.Kind.UPDATE,
  UPDATE_REPLACE: providerPb.PropertyDiff.Kind.UPDATE_REPLACE,
};

function diffResponse(d: DiffResult) {
  const res = new providerPb.DiffResponse()
    .setChanges(
      d.changes
        ? providerPb.DiffResponse.DiffChanges.DIFF_SOME
        : providerPb.DiffResponse.DiffChanges.DIFF_NONE,
    )
    .setDiffsList(d.diffs)
    .setReplacesList(d.replaces)
    .setStablesList(d.stables)
    .setDeletebeforereplace(d.deleteBeforeReplace)
    .setHasdetaileddiff(true);
  const detailed = res.getDetaileddiffMap();
  for (const [key, kind] of Object.entries(d.detailedDiff)) {
    const inputDiff = !d.outputOnly.includes(key);
    detailed.set(key, new providerPb.PropertyDiff().setKind(KINDS[kind]).setInputdiff(inputDiff));
  }
  return res;
}
