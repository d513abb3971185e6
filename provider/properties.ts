import structPb from "google-protobuf/google/protobuf/struct_pb.js";

/**
 * Property values as they cross the wire. The engine speaks in `google.protobuf.Struct`s whose values may
 * carry two kinds of markers (pulumi `runtime/rpc.js`): the unknown sentinel, sent during previews for
 * values that depend on resources not created yet, and signature objects that wrap secrets (we report
 * `acceptSecrets`, so the engine sends them as-is instead of tracking secretness by name).
 *
 * Resource code only ever sees plain values: the server reveals secrets on the way in and conceals them
 * again on the way out. Unknowns are kept, because a preview has to reason about them.
 */

export type PropertyMap = Record<string, unknown>;

/** What a value that is not known yet looks like in a preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export type Unknown = typeof UNKNOWN;

const SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

export const isUnknown = (value: unknown): value is Unknown => value === UNKNOWN;

/** Whether a value is, or holds anywhere inside it, an unknown. */
export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (isObject(value)) return Object.values(value).some(containsUnknown);
  return false;
}

export function isSecret(value: unknown): value is { value: unknown } {
  return isObject(value) && value[SIGNATURE_KEY] === SECRET_SIGNATURE;
}

export const secret = (value: unknown): PropertyMap => ({ [SIGNATURE_KEY]: SECRET_SIGNATURE, value });

/** The value with every secret wrapper removed, however deep. */
export function reveal(value: unknown): unknown {
  if (isSecret(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  return value;
}

export const revealMap = (map: PropertyMap): PropertyMap => reveal(map) as PropertyMap;

/**
 * The top-level keys whose value holds a secret somewhere. Secretness is tracked per top-level property:
 * once any part of an input was secret, the whole property stays secret in the inputs and outputs we
 * return, so nothing a user marked secret is ever written to state in the clear.
 */
export function secretKeys(...maps: (PropertyMap | undefined)[]): Set<string> {
  const keys = new Set<string>();
  for (const map of maps) {
    for (const [k, v] of Object.entries(map ?? {})) if (holdsSecret(v)) keys.add(k);
  }
  return keys;
}

function holdsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (isObject(value)) return Object.values(value).some(holdsSecret);
  return false;
}

/** Wraps the named top-level properties as secrets (values that are absent stay absent). */
export function conceal(map: PropertyMap, keys: Iterable<string>): PropertyMap {
  const out = { ...map };
  for (const k of keys) {
    const v = out[k];
    if (v !== undefined && v !== null && !isSecret(v)) out[k] = secret(v);
  }
  return out;
}

export function fromStruct(struct: structPb.Struct | undefined): PropertyMap {
  return (struct?.toJavaScript() ?? {}) as PropertyMap;
}

/** Struct cannot hold `undefined`, so absent values are dropped on the way out. */
export function toStruct(map: PropertyMap): structPb.Struct {
  return structPb.Struct.fromJavaScript(dropUndefined(map) as Record<string, structPb.JavaScriptValue>);
}

function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : dropUndefined(v)));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, dropUndefined(v)]),
    );
  }
  return value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
