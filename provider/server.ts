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
  ReadRequest,
  UpdateRequest,
} from "@pulumi/pulumi/proto/provider_pb.js";
import providerPb from "@pulumi/pulumi/proto/provider_pb.js";
import emptyPb from "google-protobuf/google/protobuf/empty_pb.js";
import { invalidArgument } from "../engine/errors.js";
import { isTenantDbError, type TenantDbError } from "../engine/index.js";
import type { Backend } from "./backends/backend.js";
import { checkConfig, configSpecs, resolveConfig, selectBackend } from "./config.js";
import { type DiffKind, type DiffResult, diffInputs } from "./diff.js";
import { resourceNameOf, typeOfUrn } from "./names.js";
import { conceal, fromStruct, type PropertyMap, revealMap, secretKeys, toStruct } from "./properties.js";
import type { CheckFailure, Resource, ResourceContext } from "./resource.js";
import { resourceByToken } from "./resources/index.js";
import { packageSchema, packageVersion } from "./schema.js";
import { unary } from "./status.js";

/**
 * The ResourceProvider gRPC service: turns requests into plain values, dispatches on the type token to the
 * resource files, and turns results (and errors) back into responses. No resource rule lives here.
 */

type Handlers = Partial<IResourceProviderServer>;

export interface ProviderOptions {
  /** Relative data directories resolve against this (the program's directory, for a real plugin). */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export class TenantDbProvider {
  #backend: Backend | undefined;
  #configError: TenantDbError | undefined;

  constructor(private readonly opts: ProviderOptions) {}

  /** The configured backend; if Configure never came, the defaults (a local engine). */
  backend(): Backend {
    if (this.#configError) throw this.#configError;
    this.#backend ??= selectBackend({}, this.opts.cwd, this.opts.env);
    return this.#backend;
  }

  close(): void {
    this.#backend?.close();
  }

  handlers(): Handlers {
    return {
      getPluginInfo: unary("GetPluginInfo", async () =>
        new pluginPb.PluginInfo().setVersion(packageVersion()),
      ),
      getSchema: unary("GetSchema", async (_req: GetSchemaRequest) =>
        new providerPb.GetSchemaResponse().setSchema(JSON.stringify(packageSchema())),
      ),
      checkConfig: unary("CheckConfig", async (req: CheckRequest) => {
        const news = fromStruct(req.getNews());
        const { failures } = checkConfig(revealMap(news));
        return checkResponse(conceal(news, secretKeys(news).add("apiToken")), failures);
      }),
      diffConfig: unary("DiffConfig", async (req: DiffRequest) => {
        const olds = revealMap(fromStruct(req.hasOldInputs() ? req.getOldInputs() : req.getOlds()));
        return diffResponse(diffInputs(configSpecs, olds, revealMap(fromStruct(req.getNews()))));
      }),
      configure: unary("Configure", async (req: ConfigureRequest) => this.configure(req)),
      check: unary("Check", async (req: CheckRequest) => this.check(req)),
      diff: unary("Diff", async (req: DiffRequest) => this.diff(req)),
      create: unary("Create", async (req: CreateRequest) => this.create(req)),
      read: unary("Read", async (req: ReadRequest) => this.read(req)),
      update: unary("Update", async (req: UpdateRequest) => this.update(req)),
      delete: unary("Delete", async (req: DeleteRequest) => this.delete(req)),
      // Nothing runs in the background to stop; the engine kills the process after this.
      cancel: unary("Cancel", async () => new emptyPb.Empty()),
    };
  }

  private async configure(req: ConfigureRequest) {
    const args = revealMap(fromStruct(req.getArgs()));
    const config = resolveConfig(args, new Map(req.getVariablesMap().getEntryList()), this.opts.env);
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
      identity: resource.identity && { property: resource.identity, resourceName: ctx.resourceName },
    });
    return diffResponse(resource.diff ? resource.diff(revealMap(olds), news, result) : result);
  }

  private async create(req: CreateRequest) {
    const { resource, ctx } = this.dispatch(req.getUrn(), req.getType(), req.getName());
    const props = fromStruct(req.getProperties());
    const args = decodeOrThrow(resource, revealMap(props));
    const { id, state } = await resource.create(ctx, { args, preview: req.getPreview() });
    return new providerPb.CreateResponse().setId(id).setProperties(toStruct(outputs(resource, state, props)));
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
    return new providerPb.ReadResponse()
      .setId(found.id)
      .setProperties(toStruct(outputs(resource, found.state, props, inputs)))
      .setInputs(toStruct(conceal(found.inputs as PropertyMap, secretKeys(inputs))));
  }

  private async update(req: UpdateRequest) {
    const { resource, ctx } = this.dispatch(req.getUrn(), req.getType(), req.getName());
    const news = fromStruct(req.getNews());
    const olds = revealMap(fromStruct(req.getOlds()));
    const oldInputs = req.hasOldInputs() ? revealMap(fromStruct(req.getOldInputs())) : olds;
    const state = await resource.update(ctx, {
      id: req.getId(),
      olds,
      oldArgs: resource.decode(oldInputs).args,
      args: decodeOrThrow(resource, revealMap(news)),
      preview: req.getPreview(),
    });
    return new providerPb.UpdateResponse().setProperties(toStruct(outputs(resource, state, news)));
  }

  private async delete(req: DeleteRequest) {
    const { resource, ctx } = this.dispatch(req.getUrn(), req.getType(), req.getName());
    await resource.delete(ctx, { id: req.getId(), state: revealMap(fromStruct(req.getProperties())) });
    return new emptyPb.Empty();
  }

  private dispatch(urn: string, type: string, name: string): { resource: Resource; ctx: ResourceContext } {
    const token = type || typeOfUrn(urn);
    const resource = resourceByToken.get(token);
    if (!resource) {
      throw invalidArgument(
        `unknown resource type ${JSON.stringify(token)}; the tenantdb provider has ${[...resourceByToken.keys()].join(", ")}`,
      );
    }
    return { resource, ctx: { backend: this.backend(), urn, resourceName: name || resourceNameOf(urn) } };
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
    detailed.set(key, new providerPb.PropertyDiff().setKind(KINDS[kind]).setInputdiff(true));
  }
  return res;
}
