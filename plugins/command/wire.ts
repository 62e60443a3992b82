// Helpers for the Pulumi property wire format as the provider server hands it to us.
//
// `@pulumi/pulumi/provider` turns each gRPC Struct into plain JavaScript with `toJavaScript()`, so
// secrets, assets, archives, resource references and unknowns arrive as the engine encodes them:
// objects tagged with a signature key, and a sentinel string for unknown values. Because the server
// tells the engine that we accept secrets, secret inputs reach us wrapped; echoing the raw input back
// as an output keeps it secret in the state.

import {
  specialArchiveSig,
  specialAssetSig,
  specialOutputValueSig,
  specialResourceSig,
  specialSecretSig,
  specialSigKey,
  unknownValue,
} from "@pulumi/pulumi/runtime/rpc";

export { unknownValue };

export type Wire = unknown;
export type WireMap = Record<string, unknown>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sigOf(v: unknown): unknown {
  return isObject(v) ? v[specialSigKey] : undefined;
}

export function isSecret(v: unknown): boolean {
  return sigOf(v) === specialSecretSig;
}

export function isAsset(v: unknown): v is Record<string, unknown> {
  return sigOf(v) === specialAssetSig;
}

export function isArchive(v: unknown): v is Record<string, unknown> {
  return sigOf(v) === specialArchiveSig;
}

export function isResourceRef(v: unknown): boolean {
  return sigOf(v) === specialResourceSig;
}

function isOutputValue(v: unknown): v is Record<string, unknown> {
  return sigOf(v) === specialOutputValueSig;
}

export function isUnknown(v: unknown): boolean {
  return v === unknownValue || (isOutputValue(v) && !("value" in v));
}

/** True if the value is, or contains anywhere, an unknown (only possible during preview). */
export function containsUnknown(v: unknown): boolean {
  if (isUnknown(v)) {
    return true;
  }
  if (Array.isArray(v)) {
    return v.some(containsUnknown);
  }
  if (isObject(v)) {
    if (isAsset(v) || isArchive(v)) {
      return Object.values(v).some((x) => x === unknownValue);
    }
    return Object.values(v).some(containsUnknown);
  }
  return false;
}

/** Wraps a value as a secret in the wire format; the engine stores it encrypted. */
export function secretValue(v: unknown): Record<string, unknown> {
  return { [specialSigKey]: specialSecretSig, value: v };
}

/** True if the value is, or contains anywhere, a secret. */
export function containsSecret(v: unknown): boolean {
  if (isSecret(v) || (isOutputValue(v) && v["secret"] === true)) {
    return true;
  }
  if (Array.isArray(v)) {
    return v.some(containsSecret);
  }
  if (isObject(v)) {
    return Object.values(v).some(containsSecret);
  }
  return false;
}

/**
 * Removes secret (and output-value) wrappers at every depth, leaving assets, archives and resource
 * references as their tagged objects. Unknown output values become the unknown sentinel.
 */
export function plain(v: unknown): unknown {
  if (isSecret(v)) {
    return plain((v as Record<string, unknown>)["value"]);
  }
  if (isOutputValue(v)) {
    return "value" in v ? plain(v["value"]) : unknownValue;
  }
  if (Array.isArray(v)) {
    return v.map(plain);
  }
  if (isObject(v)) {
    if (isAsset(v) || isArchive(v) || isResourceRef(v)) {
      return v;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = plain(x);
    }
    return out;
  }
  return v;
}

export function plainMap(v: unknown): WireMap {
  const p = plain(v);
  return isObject(p) ? p : {};
}

/**
 * Returns a copy without `undefined` values: `Struct.fromJavaScript` rejects them.
 */
export function dropUndefined(m: WireMap): WireMap {
  const out: WireMap = {};
  for (const [k, v] of Object.entries(m)) {
    if (v !== undefined) {
      out[k] = v;
    }
  }
  return out;
}

/** JSON with object keys sorted at every depth, for order-insensitive comparison. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.map(sortKeys);
  }
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      out[k] = sortKeys(v[k]);
    }
    return out;
  }
  return v;
}

export { isObject };
