/**
 * What `pulumi preview --json` prints: the engine's PreviewDigest (pulumi `pkg/display/json.go`), each step's
 * old and new state serialized as `apitype.ResourceV3` with secrets blinded to "[secret]" and values not
 * known yet as the unknown sentinel. Only the fields a review needs are typed; the rest is ignored.
 */

export interface PreviewDigest {
  config?: Record<string, string>;
  steps?: PreviewStep[];
  diagnostics?: PreviewDiagnostic[];
  /** Nanoseconds (a Go `time.Duration`). */
  duration?: number;
  /** Count per operation, e.g. `{"create": 2, "same": 5}`. */
  changeSummary?: Record<string, number>;
  maybeCorrupt?: boolean;
}

export interface PreviewStep {
  /** same, create, update, delete, replace, create-replacement, delete-replaced, read, refresh, import, … */
  op: string;
  urn: string;
  provider?: string;
  oldState?: ResourceState;
  newState?: ResourceState;
  diffReasons?: string[];
  replaceReasons?: string[];
  /** Keyed by property path (`migrations[2]`), as the provider returned it. */
  detailedDiff?: Record<string, { kind: string; inputDiff: boolean }> | null;
}

export interface ResourceState {
  urn: string;
  custom: boolean;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  parent?: string;
}

export interface PreviewDiagnostic {
  urn?: string;
  prefix?: string;
  message?: string;
  /** debug, info, info#err, warning, error */
  severity?: string;
}

/** The value Pulumi writes for an output that is not known until `up`. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Parses preview JSON, refusing anything that is not a PreviewDigest (a clear error, not a blank comment). */
export function parsePreviewDigest(text: string): PreviewDigest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`INVALID_ARGUMENT: the preview is not JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(
      "INVALID_ARGUMENT: the preview JSON is not an object; expected `pulumi preview --json` output",
    );
  }
  const digest = value as PreviewDigest;
  // Pulumi always lists the stack's own step, and a preview that stopped early still has its diagnostics.
  if (digest.steps === undefined && digest.diagnostics === undefined) {
    throw new Error(
      "INVALID_ARGUMENT: the JSON has no `steps` and no `diagnostics`; expected `pulumi preview --json` output",
    );
  }
  if (digest.steps !== undefined && !Array.isArray(digest.steps)) {
    throw new Error("INVALID_ARGUMENT: the preview's `steps` is not a list");
  }
  for (const step of digest.steps ?? []) {
    if (typeof step?.op !== "string" || typeof step.urn !== "string") {
      throw new Error("INVALID_ARGUMENT: a preview step has no `op` or `urn`");
    }
  }
  if (digest.diagnostics !== undefined && !Array.isArray(digest.diagnostics)) {
    throw new Error("INVALID_ARGUMENT: the preview's `diagnostics` is not a list");
  }
  return digest;
}

/** A URN's last segment: the resource's name in the program. */
export const resourceName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** A URN's type segment, without parent types (`a$b` → `b`). */
export function resourceType(urn: string): string {
  const parts = urn.split("::");
  const type = parts[parts.length - 2] ?? "";
  return type.slice(type.lastIndexOf("$") + 1);
}
