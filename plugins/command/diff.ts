// Diff: which inputs changed, and whether that replaces the resource.
//
// SDK semantics: a change to `triggers` replaces the resource; any other input change is an update
// (which runs `update`, or `create` when there is no `update`; CopyToRemote copies again).
// Comparison ignores secret-ness, compares assets and archives by content hash, treats absent,
// null and empty values alike, and applies the SDK defaults first (so `port: 22` equals no port),
// which keeps a no-op `up` from re-running commands. Unknown values (preview) always differ.

import {
  CONNECTION_SPEC,
  ObjectSpec,
  PROXY_CONNECTION_SPEC,
  PropSpec,
  RESOURCES,
  ResourceToken,
} from "./schema";
import { canonicalJson, containsUnknown, isArchive, isAsset, isObject, plain } from "./wire";

export interface DiffOutcome {
  changes: boolean;
  replaces: string[];
  /** Changed input names, sorted. */
  changed: string[];
  deleteBeforeReplace: boolean;
}

const OBJECT_SPECS: Record<"connection" | "proxyConnection", ObjectSpec> = {
  connection: CONNECTION_SPEC,
  proxyConnection: PROXY_CONNECTION_SPEC,
};

function isEmpty(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === "" ||
    (Array.isArray(v) && v.length === 0) ||
    (isObject(v) && !isAsset(v) && !isArchive(v) && Object.keys(v).length === 0)
  );
}

/** Assets and archives compare by hash when the engine sent one (it elides contents in Diff). */
function assetKey(v: Record<string, unknown>): unknown {
  const kind = isAsset(v) ? "asset" : "archive";
  if (typeof v["hash"] === "string" && v["hash"] !== "") {
    return { [kind]: v["hash"] };
  }
  const { hash: _hash, ...rest } = v; // no usable hash: compare the rest
  return { [kind]: rest };
}

function normalizeAny(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.map(normalizeAny);
  }
  if (isObject(v)) {
    if (isAsset(v) || isArchive(v)) {
      return assetKey(v);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = normalizeAny(x);
    }
    return out;
  }
  return v;
}

function normalizeObject(spec: ObjectSpec, v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(spec.properties)) {
    const n = normalizeProp(p, v[k]);
    if (n !== undefined) {
      out[k] = n;
    }
  }
  // Keep unexpected keys too, so that nothing silently stops counting.
  for (const [k, x] of Object.entries(v)) {
    if (!(k in spec.properties) && !isEmpty(x)) {
      out[k] = normalizeAny(x);
    }
  }
  return out;
}

function normalizeProp(p: PropSpec, raw: unknown): unknown {
  const v = isEmpty(raw) ? p.default : raw;
  if (isEmpty(v)) {
    return undefined;
  }
  if (p.type.kind === "object" && isObject(v)) {
    return normalizeObject(OBJECT_SPECS[p.type.ref], v);
  }
  return normalizeAny(v);
}

export function propertyChanged(p: PropSpec, oldValue: unknown, newValue: unknown): boolean {
  if (containsUnknown(newValue)) {
    return true;
  }
  return (
    canonicalJson(normalizeProp(p, plain(oldValue))) !== canonicalJson(normalizeProp(p, plain(newValue)))
  );
}

/**
 * Compares old state (our outputs, which echo every input) with new inputs. Only input properties
 * take part: `stdout`/`stderr` in the old state are not inputs.
 */
export function diffResource(
  token: ResourceToken,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): DiffOutcome {
  const spec = RESOURCES[token];
  const keys = new Set([...Object.keys(spec.properties), ...Object.keys(news)]);
  const changed: string[] = [];
  for (const k of [...keys].sort()) {
    if (k in spec.outputs) {
      continue;
    }
    const p: PropSpec = spec.properties[k] ?? { type: { kind: "anyArray" }, description: "" };
    if (propertyChanged(p, olds[k], news[k])) {
      changed.push(k);
    }
  }
  const replaces = changed.filter((k) => spec.replaceOnChanges.includes(k));
  return { changes: changed.length > 0, replaces, changed, deleteBeforeReplace: false };
}
