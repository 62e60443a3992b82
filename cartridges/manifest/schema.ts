// The schema layer: ajv checks a value against a JSON schema of schema/ (applying its defaults) and each ajv
// error becomes a finding in the authors' wording: what was expected, what was there, and how to fix it.
import * as YAML from "yaml";
import type { AnySchemaObject, ErrorObject, ValidateFunction } from "ajv/dist/2020";
import {
  createAjv,
  describeValue,
  EXPECTED_KEYWORD,
  fallbackExpectation,
  FIX_KEYWORD,
  pointerSegments,
  propertySchema,
  schemaAtPath,
  type PathSegment,
} from "../../common/ajv-errors";
import { closestMatch } from "../../common/suggest";
import managedFilesSchema from "../schema/managed-files.schema.json";
import manifestSchema from "../schema/manifest.schema.json";
import type { Finding } from "./problems";

/** Where the docs for authors are; named in messages that have no better fix. */
const DOCS = "docs/cartridge-authoring.md";

/** A value checked against a schema: a copy with the schema's defaults applied, and what is wrong with it. */
export interface SchemaChecked {
  readonly value: unknown;
  readonly findings: Finding[];
}

/** `raw` checked against manifest.schema.json. */
export function checkManifestSchema(raw: unknown): SchemaChecked {
  return checkAgainst(manifestValidator(), manifestSchema, raw);
}

/** `raw` checked against managed-files.schema.json. */
export function checkManagedFilesSchema(raw: unknown): SchemaChecked {
  return checkAgainst(managedFilesValidator(), managedFilesSchema, raw);
}

let compiledManifest: ValidateFunction | undefined;
let compiledManagedFiles: ValidateFunction | undefined;

function manifestValidator(): ValidateFunction {
  compiledManifest ??= createAjv({ useDefaults: true }).compile(manifestSchema);
  return compiledManifest;
}

function managedFilesValidator(): ValidateFunction {
  compiledManagedFiles ??= createAjv({ useDefaults: true }).compile(managedFilesSchema);
  return compiledManagedFiles;
}

function checkAgainst(validate: ValidateFunction, root: AnySchemaObject, raw: unknown): SchemaChecked {
  let data: unknown;
  try {
    data = structuredClone(raw); // ajv's useDefaults writes into the value; keep the caller's untouched
  } catch {
    return {
      value: undefined,
      findings: [
        {
          at: [],
          where: "",
          message: "expected plain data (mappings, lists, text, numbers) (check the file)",
        },
      ],
    };
  }
  validate(data);
  return { value: data, findings: schemaFindings(validate.errors ?? [], data, root) };
}

function schemaFindings(errors: readonly ErrorObject[], data: unknown, root: AnySchemaObject): Finding[] {
  const findings: Finding[] = [];
  for (const error of errors) {
    const at = pointerSegments(error.instancePath, data);
    const schema: AnySchemaObject = error.parentSchema ?? {};
    if (error.propertyName !== undefined) {
      // An invalid key of a mapping whose keys have a pattern (event names, versions, ...).
      findings.push({
        at: [...at, error.propertyName],
        message: `expected ${expectedOf(schema)} as a key, got ${describeValue(error.propertyName)} (rename it)`,
      });
      continue;
    }
    switch (error.keyword) {
      case "propertyNames":
        continue; // reported by the error on the key itself (above)
      case "required": {
        const field = String(error.params.missingProperty);
        const fieldSchema = propertySchema(schema, field, root);
        findings.push({
          at: [...at, field],
          message: `missing; expected ${expectedOf(fieldSchema)} (add it${exampleOf(field, fieldSchema, ", e.g. ")})`,
        });
        continue;
      }
      case "additionalProperties": {
        const field = String(error.params.additionalProperty);
        findings.push({
          at: [...at, field],
          message: unknownKeyMessage(field, Object.keys(schema.properties ?? {}), at, root),
        });
        continue;
      }
      case "uniqueItems":
        findings.push({
          at,
          message: `expected no duplicates, got items ${Math.min(error.params.i, error.params.j)} and ${Math.max(error.params.i, error.params.j)} both ${describeValue(
            (error.data as unknown[])[error.params.i],
          )} (remove one)`,
        });
        continue;
      default: {
        const key = at[at.length - 1];
        findings.push({
          at,
          message: `expected ${schema[EXPECTED_KEYWORD] ?? fallbackExpectation(error)}, got ${gotText(error.data)} (${fixOf(error, withOwnAnnotations(schema, schemaAtPath(root, at)), key)})`,
        });
      }
    }
  }
  return findings;
}

function expectedOf(schema: AnySchemaObject): string {
  const expected = schema[EXPECTED_KEYWORD] ?? schema.description;
  if (typeof expected === "string") return expected;
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.join(", ")}`;
  return "a value";
}

function gotText(value: unknown): string {
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "boolean") return `the boolean ${value}`;
  if (value === null) return "nothing (null)";
  return describeValue(value);
}

/** The failing schema with the `examples` and `x-fix` of the property itself, when it has its own. */
function withOwnAnnotations(schema: AnySchemaObject, own: AnySchemaObject | undefined): AnySchemaObject {
  if (!own) return schema;
  return {
    ...schema,
    ...(own.examples !== undefined ? { examples: own.examples } : {}),
    ...(own[FIX_KEYWORD] !== undefined ? { [FIX_KEYWORD]: own[FIX_KEYWORD] } : {}),
  };
}

/** The fix for a wrong value: the schema's own, or what the type mismatch suggests, or an example. */
function fixOf(error: ErrorObject, schema: AnySchemaObject, key: PathSegment | undefined): string {
  if (typeof schema[FIX_KEYWORD] === "string") return schema[FIX_KEYWORD];
  const example = exampleOf(key, schema, "");
  if (error.keyword === "type") {
    const wanted = String(error.params.type);
    const got = error.data;
    if (wanted === "string" && (typeof got === "number" || typeof got === "boolean"))
      return `quote it so YAML reads it as text${example ? `, e.g. ${example}` : ""}`;
    if (wanted === "array" && !Array.isArray(got))
      return `write it as a list${example ? `, e.g. ${example}` : ""}`;
    if (wanted === "boolean" && typeof got === "string") return "write true or false, without quotes";
    if (wanted === "integer" && typeof got === "string")
      return `write the number without quotes${example ? `, e.g. ${example}` : ""}`;
  }
  return example ? `e.g. ${example}` : `see ${DOCS}`;
}

/** `Key: <example>` (or just the example for list items) in YAML flow style, from the schema's `examples`. */
function exampleOf(key: PathSegment | undefined, schema: AnySchemaObject, lead: string): string {
  if (!Array.isArray(schema.examples) || schema.examples.length === 0) return "";
  const value = YAML.stringify(schema.examples[0], { collectionStyle: "flow", lineWidth: 0 })
    .trim()
    .replace(/^\[ (.*) \]$/, "[$1]");
  return typeof key === "string" ? `${lead}${key}: ${value}` : `${lead}${value}`;
}

function unknownKeyMessage(
  field: string,
  known: readonly string[],
  at: readonly PathSegment[],
  root: AnySchemaObject,
): string {
  if (at.length === 2 && at[0] === "Version-Overrides" && field in manifestSchema.properties)
    return `unknown key; expected a key a software version may override (${field} is the same for every version; move it to the top level or remove it)`;
  const guess = closestMatch(field, known);
  const where =
    at.length > 0 ? "key here" : root === manifestSchema ? "manifest key" : `key of ${String(root.title)}`;
  if (guess !== undefined)
    return `unknown key; expected a known ${where} (did you mean "${guess}"? rename it)`;
  const list = known.length <= 12 ? `known keys here: ${known.join(", ")}` : `see ${DOCS} for the keys`;
  return `unknown key; expected a known ${where} (remove it or fix its spelling; ${list})`;
}
