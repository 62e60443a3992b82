// Shared pieces for turning ajv (JSON Schema 2020-12) errors into one-line problems with field paths.
// Used by the stack config validator (stacks/validate.ts) and the cartridge manifest validator
// (cartridges/manifest/schema.ts). Each caller keeps its own wording; this module only does the plumbing.
import Ajv2020, { type AnySchemaObject, type ErrorObject, type Options } from "ajv/dist/2020";

/** Annotation keyword in our schemas: the "what was expected" phrase used in error messages. */
export const EXPECTED_KEYWORD = "x-expected";
/** Annotation keyword in our schemas: how to fix a wrong value, when the example alone does not say it. */
export const FIX_KEYWORD = "x-fix";

/**
 * An ajv instance for our schemas: draft 2020-12, strict, every error at once, errors carrying their
 * schema and data (`verbose`), and the annotation keywords registered.
 */
export function createAjv(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true, ...options });
  ajv.addKeyword({ keyword: EXPECTED_KEYWORD, schemaType: "string" });
  ajv.addKeyword({ keyword: FIX_KEYWORD, schemaType: "string" });
  return ajv;
}

export type PathSegment = string | number;

/** JSON pointer → segments, with array indices as numbers (decided by the data, not the digits). */
export function pointerSegments(pointer: string, data: unknown): PathSegment[] {
  if (pointer === "") return [];
  const segments: PathSegment[] = [];
  let node: unknown = data;
  for (const escaped of pointer.slice(1).split("/")) {
    const key = escaped.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      segments.push(Number(key));
      node = node[Number(key)];
    } else {
      segments.push(key);
      node = isRecord(node) ? node[key] : undefined;
    }
  }
  return segments;
}

/**
 * Field path such as `root.hosts[1].connection` or (no root) `Endpoints[0].Private-Port`. Keys that are
 * not plain identifiers (hyphens allowed) are quoted: `Version-Overrides["5.4"]`.
 */
export function fieldPath(segments: readonly PathSegment[], root = ""): string {
  let path = root;
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(segment)) path += path === "" ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** ajv's own phrase for a keyword, reworded as "what was expected" when the schema gives none. */
export function fallbackExpectation(error: ErrorObject): string {
  const p = error.params;
  switch (error.keyword) {
    case "enum":
      return `one of ${(p.allowedValues as unknown[]).join(", ")}`;
    case "const":
      return JSON.stringify(p.allowedValue);
    case "type":
      return `a value of type ${p.type}`;
    case "minItems":
      return `at least ${p.limit} item(s)`;
    case "minimum":
    case "maximum":
      return `a number ${p.comparison} ${p.limit}`;
    default:
      return error.message ?? error.keyword;
  }
}

/** Schema of `field` inside an object schema, following a local `$ref` (its own keywords win). */
export function propertySchema(
  objectSchema: AnySchemaObject,
  field: string,
  rootSchema: AnySchemaObject,
): AnySchemaObject {
  const own: AnySchemaObject = objectSchema.properties?.[field] ?? {};
  const ref = typeof own.$ref === "string" ? own.$ref : undefined;
  if (!ref?.startsWith("#/$defs/")) return own;
  const target = (rootSchema.$defs?.[ref.slice("#/$defs/".length)] ?? {}) as AnySchemaObject;
  return { ...target, ...own };
}

/**
 * The schema that applies at a data path (following `properties`, `additionalProperties`, `items` and local
 * `$ref`s, whose sibling keywords win), or undefined where the path leaves the schema. Useful for the
 * annotations (`examples`, descriptions) of the property itself rather than of a shared `$defs` entry.
 */
export function schemaAtPath(
  rootSchema: AnySchemaObject,
  segments: readonly PathSegment[],
): AnySchemaObject | undefined {
  const resolve = (schema: AnySchemaObject, depth = 0): AnySchemaObject => {
    const ref = typeof schema.$ref === "string" ? schema.$ref : undefined;
    if (!ref?.startsWith("#/$defs/") || depth > 16) return schema;
    const target = (rootSchema.$defs as Record<string, AnySchemaObject> | undefined)?.[ref.slice(8)] ?? {};
    const own: AnySchemaObject = { ...schema };
    delete own.$ref;
    return { ...resolve(target, depth + 1), ...own };
  };
  let schema: AnySchemaObject | undefined = resolve(rootSchema);
  for (const segment of segments) {
    if (!schema) return undefined;
    let next: unknown;
    if (typeof segment === "number") next = schema.items;
    else next = schema.properties?.[segment] ?? schema.additionalProperties;
    schema = isRecord(next) ? resolve(next) : undefined;
  }
  return schema;
}

/** Short, single-line rendering of a value for "got ..." (never use it on secrets). */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (isRecord(value)) return "an object";
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Drops exact repeats (same path and message), keeping the first. */
export function dedupeProblems<T extends { readonly path: string; readonly message: string }>(
  problems: readonly T[],
): T[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
