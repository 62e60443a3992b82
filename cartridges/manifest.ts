// Cartridge metadata (OpenShift v2 format): parse and validate metadata/manifest.yml, and check a cartridge
// directory (scripts, env/, templates, managed files). Pure except loadCartridge/inspectCartridge, which
// only read files. The JSON schemas in schema/ drive both ajv and the types; the rules a schema cannot
// express live here. Every problem is collected and reported at once, one line each:
//   <file>: <key path>: <what was expected> (<fix>)
import { constants, promises as fs, type Dirent } from "fs";
import * as path from "path";
import Handlebars from "handlebars";
import * as YAML from "yaml";
import type { AnySchemaObject, ErrorObject, ValidateFunction } from "ajv/dist/2020";
import {
  createAjv,
  dedupeProblems,
  describeValue,
  EXPECTED_KEYWORD,
  fallbackExpectation,
  fieldPath,
  FIX_KEYWORD,
  isRecord,
  pointerSegments,
  propertySchema,
  schemaAtPath,
  type PathSegment,
} from "../common/ajv-errors";
import { DEFAULT_ENV_PREFIX, ENV_NAME_PATTERN, RESERVED_ENV_NAMES } from "../common/env-names";
import { closestMatch } from "../common/suggest";
import managedFilesSchema from "./schema/managed-files.schema.json";
import manifestSchema from "./schema/manifest.schema.json";
import {
  CARTRIDGE_SCRIPTS,
  MANAGED_FILES_FILE,
  MANIFEST_FILE,
  MAPPING_OPTIONS,
  RESERVED_CARTRIDGE_NAMES,
  RESERVED_VENDOR_NAMES,
  REQUIRED_SCRIPTS,
  STANDARD_CONTROL_ACTIONS,
  type CartridgeScript,
  type ManagedFiles,
  type Manifest,
} from "./schema/manifest";

export * from "./schema/manifest";

/** Where the docs for authors are; named in messages that have no better fix. */
const DOCS = "docs/cartridge-authoring.md";

/**
 * Short names whose variables would collide with the gear's system variables (GEARTRAIN_APP_DNS,
 * GEARTRAIN_GEAR_UUID, ... written by node/env.ts) or with names the platform keeps for itself.
 */
export const RESERVED_SHORT_NAMES: readonly string[] = [
  "APP",
  "CLOUD",
  "DATA",
  "DEPLOYMENT",
  "GEAR",
  "HOMEDIR",
  "KEEP",
  "LOG",
  "NAMESPACE",
  "NODE",
  "PRIMARY",
  "REPO",
  "TMP",
];

/** Variable names (after GEARTRAIN_<SHORT>_) the node sets for every cartridge; endpoints cannot use them. */
export const NODE_CARTRIDGE_VARIABLES: readonly string[] = ["DIR", "IDENT"];

// ---------------------------------------------------------------------------------------------------------
// Problems

/** One thing wrong with a cartridge: which file, where in it, what was expected and how to fix it. */
export interface CartridgeProblem {
  /** The file, as reached from the directory the caller gave (e.g. `carts/php/metadata/manifest.yml`). */
  readonly file: string;
  /** Key path such as `Endpoints[1].Private-Port`; `line 3, column 5` for syntax errors; `""` for the whole file. */
  readonly path: string;
  /** `<what was expected> (<fix>)`. */
  readonly message: string;
  /** 1-based line in the file, when known. */
  readonly line?: number;
  /** 1-based column in the file, when known. */
  readonly column?: number;
}

/** `<file>: <path>: <message>`, or `<file>: <message>` for problems about a whole file. */
export function formatProblem(problem: CartridgeProblem): string {
  return problem.path === ""
    ? `${problem.file}: ${problem.message}`
    : `${problem.file}: ${problem.path}: ${problem.message}`;
}

/** Thrown when a manifest or a cartridge directory is invalid; `problems` lists every problem found. */
export class CartridgeError extends Error {
  readonly problems: readonly CartridgeProblem[];

  constructor(problems: readonly CartridgeProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`Invalid cartridge (${count}):\n` + problems.map((p) => `  - ${formatProblem(p)}`).join("\n"));
    this.name = "CartridgeError";
    this.problems = problems;
  }
}

/** A problem found before it is tied to a file: segments of the key path and the message. */
interface Finding {
  readonly at: readonly PathSegment[];
  readonly message: string;
  /** Known position (syntax errors); otherwise looked up from `at`. */
  readonly line?: number;
  readonly column?: number;
  /** Path text instead of the key path (syntax errors). */
  readonly where?: string;
}

type Locate = (at: readonly PathSegment[]) => { line: number; column: number } | undefined;

function toProblems(findings: readonly Finding[], file: string, locate?: Locate): CartridgeProblem[] {
  const problems = findings.map((f): CartridgeProblem => {
    const pos = f.line !== undefined ? { line: f.line, column: f.column ?? 1 } : locate?.(f.at);
    const problem: CartridgeProblem = { file, path: f.where ?? fieldPath(f.at), message: f.message };
    return pos ? { ...problem, line: pos.line, column: pos.column } : problem;
  });
  // In file order (stable: problems without a line, such as missing keys, come first in finding order).
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return dedupeProblems(problems);
}

// ---------------------------------------------------------------------------------------------------------
// Manifest: parse and validate

/**
 * Parses and validates the text of a metadata/manifest.yml. `file` names it in problems. Returns the
 * manifest with defaults applied, deeply frozen; throws {@link CartridgeError} listing every problem
 * (YAML syntax errors with line and column; other problems with their key path and line).
 */
export function parseManifest(text: string, file: string): Manifest {
  const problems = manifestTextProblems(text, file);
  if (problems.problems.length > 0) throw new CartridgeError(problems.problems);
  return problems.manifest as Manifest;
}

/**
 * Validates an already parsed manifest object (e.g. from JSON). Does not mutate `raw`. Returns it with
 * defaults applied, deeply frozen; throws {@link CartridgeError} listing every problem.
 */
export function validateManifest(raw: unknown, file: string): Manifest {
  const { value, findings } = checkManifest(raw);
  const problems = toProblems(findings, file);
  if (problems.length > 0) throw new CartridgeError(problems);
  return value as Manifest;
}

/** Like {@link parseManifest} but returns the problems instead of throwing; `manifest` is set when there are none. */
export function manifestTextProblems(
  text: string,
  file: string,
): { manifest?: Manifest; problems: CartridgeProblem[] } {
  const parsed = parseYaml(text);
  if (parsed.findings.length > 0) return { problems: toProblems(parsed.findings, file, parsed.locate) };
  const { value, findings } = checkManifest(parsed.value);
  const problems = toProblems([...parsed.keyFindings, ...findings], file, parsed.locate);
  return problems.length > 0 ? { problems } : { manifest: value as Manifest, problems };
}

/** Parses and validates the text of a metadata/managed_files.yml (every list defaults to []). */
export function parseManagedFiles(text: string, file: string): ManagedFiles {
  const parsed = parseYaml(text, true);
  const checked =
    parsed.findings.length > 0
      ? { value: undefined, findings: parsed.findings }
      : checkAgainst(managedFilesValidator(), managedFilesSchema, parsed.value ?? {});
  checked.findings.unshift(...parsed.keyFindings);
  const problems = toProblems(checked.findings, file, parsed.locate);
  if (problems.length > 0) throw new CartridgeError(problems);
  return deepFreeze(checked.value) as ManagedFiles;
}

/** Schema, then the cross-key rules; both always run so every problem shows in one pass. */
function checkManifest(raw: unknown): { value: unknown; findings: Finding[] } {
  const checked = checkAgainst(manifestValidator(), manifestSchema, raw);
  const findings = [...checked.findings, ...crossKeyFindings(checked.value)];
  return { value: deepFreeze(checked.value), findings };
}

// ---------------------------------------------------------------------------------------------------------
// YAML

interface ParsedYaml {
  readonly value: unknown;
  /** Syntax errors (and an empty manifest): nothing else is checked when there are any. */
  readonly findings: Finding[];
  /** Keys that are not text; reported next to the schema's problems. */
  readonly keyFindings: Finding[];
  readonly locate: Locate;
}

/**
 * YAML 1.2 (the `yaml` package), one document, unique keys, text keys only (an unquoted `5.10:` would
 * silently become 5.1). Syntax errors come back as findings with line and column; an index of key
 * positions lets later problems name their line.
 */
function parseYaml(text: string, emptyIsOk = false): ParsedYaml {
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    version: "1.2",
  });
  const positions = new Map<string, number>();
  const locate: Locate = (at) => {
    for (let n = at.length; n >= 1; n--) {
      const offset = positions.get(JSON.stringify(at.slice(0, n)));
      if (offset !== undefined) {
        const { line, col } = lineCounter.linePos(offset);
        return { line, column: col };
      }
    }
    return undefined;
  };
  const findings: Finding[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    findings.push({
      at: [],
      where: `line ${line}, column ${col}`,
      line,
      column: col,
      message: `expected valid YAML, got: ${firstLine(error.message)} (fix the YAML syntax there; quote values that contain ': ' or start with a special character)`,
    });
  }
  if (findings.length > 0) return { value: undefined, findings, keyFindings: [], locate };
  const keyFindings: Finding[] = [];
  indexKeys(doc.contents, [], positions, text, lineCounter, keyFindings);
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) {
    if (!emptyIsOk)
      findings.push({
        at: [],
        where: "",
        message:
          "expected a YAML mapping of manifest keys, got an empty file (start with Name: and Cartridge-Short-Name:)",
      });
  }
  return { value, findings, keyFindings, locate };
}

function indexKeys(
  node: unknown,
  at: readonly PathSegment[],
  positions: Map<string, number>,
  text: string,
  lineCounter: YAML.LineCounter,
  findings: Finding[],
): void {
  if (YAML.isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key;
      const keyValue: unknown = YAML.isScalar(key) ? key.value : key;
      const range = YAML.isNode(key) ? key.range : undefined;
      const source = range ? text.slice(range[0], range[1]) : String(keyValue);
      const here = [...at, typeof keyValue === "string" ? keyValue : source];
      if (range) positions.set(JSON.stringify(here), range[0]);
      if (typeof keyValue !== "string") {
        const pos = range ? lineCounter.linePos(range[0]) : undefined;
        if (YAML.isScalar(key)) key.value = source; // keep the key as written ("5.10", not 5.1)
        findings.push({
          at: here,
          line: pos?.line,
          column: pos?.col,
          message: `expected a text key, got ${YAML.isScalar(key) ? `the ${typeName(keyValue)} ${source}` : "a structure"} (quote it: '${source}':)`,
        });
      }
      indexKeys(pair.value, here, positions, text, lineCounter, findings);
    }
  } else if (YAML.isSeq(node)) {
    node.items.forEach((item, i) => {
      const here = [...at, i];
      if (YAML.isNode(item) && item.range) positions.set(JSON.stringify(here), item.range[0]);
      indexKeys(item, here, positions, text, lineCounter, findings);
    });
  }
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  return typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : typeof value;
}

function firstLine(message: string): string {
  return message.split("\n")[0]?.trim() ?? message;
}

// ---------------------------------------------------------------------------------------------------------
// Schema (ajv)

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

function checkAgainst(
  validate: ValidateFunction,
  root: AnySchemaObject,
  raw: unknown,
): { value: unknown; findings: Finding[] } {
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

// ---------------------------------------------------------------------------------------------------------
// Cross-key rules. They read the data defensively (the schema may have failed too) so every problem is
// reported in the same run. Each rule runs on the manifest and again on every Version-Overrides entry
// merged over it; problems from keys the override does not set are then exact repeats and dropped.

/** A view of the manifest (or of one version's merged manifest) and where each key's problems go. */
interface View {
  readonly data: Record<string, unknown>;
  readonly at: (key: string) => PathSegment[];
}

function crossKeyFindings(data: unknown): Finding[] {
  if (!isRecord(data)) return [];
  const views: View[] = [{ data, at: (key) => [key] }];
  const overrides = data["Version-Overrides"];
  if (isRecord(overrides)) {
    for (const [version, override] of Object.entries(overrides)) {
      if (!isRecord(override)) continue;
      views.push({
        data: { ...data, ...override },
        at: (key) => (key in override ? ["Version-Overrides", version, key] : [key]),
      });
    }
  }
  return [
    ...reservedNames(data),
    ...versionRules(data),
    ...sourceRules(data),
    ...views.flatMap((view) => [
      ...scalingRules(view),
      ...endpointRules(view, data),
      ...featureRules(view),
      ...controlActionRules(view),
    ]),
  ];
}

function reservedNames(data: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  const name = data.Name;
  if (typeof name === "string" && RESERVED_CARTRIDGE_NAMES.includes(name))
    findings.push({
      at: ["Name"],
      message: `expected a cartridge name other than the reserved ${RESERVED_CARTRIDGE_NAMES.join(" and ")}, got "${name}" (the gear already has ~/${name}; rename the cartridge)`,
    });
  const vendor = data["Cartridge-Vendor"];
  if (typeof vendor === "string" && RESERVED_VENDOR_NAMES.includes(vendor))
    findings.push({
      at: ["Cartridge-Vendor"],
      message: `expected a vendor name of your own, got the reserved "${vendor}" (use your organisation's name, e.g. Cartridge-Vendor: mycompany)`,
    });
  const short = data["Cartridge-Short-Name"];
  if (typeof short === "string" && RESERVED_SHORT_NAMES.includes(short))
    findings.push({
      at: ["Cartridge-Short-Name"],
      message: `expected a short name the platform does not use, got the reserved "${short}" (its variables would mix with the gear's own ${DEFAULT_ENV_PREFIX}${short}_* variables; e.g. Cartridge-Short-Name: ${short}CART)`,
    });
  return findings;
}

/** Every software version the manifest covers: Versions plus Version (as OpenShift's raw_versions). */
export function softwareVersions(manifest: Pick<Manifest, "Version" | "Versions">): string[] {
  return [...new Set([...(manifest.Versions ?? []), manifest.Version])];
}

function versionRules(data: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  const version = typeof data.Version === "string" ? data.Version : undefined;
  const versions = Array.isArray(data.Versions)
    ? data.Versions.filter((v): v is string => typeof v === "string")
    : undefined;
  if (version !== undefined && versions !== undefined && versions.length > 0 && !versions.includes(version))
    findings.push({
      at: ["Version"],
      message: `expected one of the Versions (${versions.join(", ")}), got "${version}" (add '${version}' to Versions or set Version to one of them)`,
    });
  const known = [...new Set([...(versions ?? []), ...(version !== undefined ? [version] : [])])];
  const overrides = data["Version-Overrides"];
  if (isRecord(overrides) && known.length > 0)
    for (const key of Object.keys(overrides))
      if (!known.includes(key))
        findings.push({
          at: ["Version-Overrides", key],
          message: `expected a software version listed in Version or Versions (${known.join(", ")}), got "${key}" (add '${key}' to Versions or remove this override)`,
        });
  return findings;
}

function sourceRules(data: Record<string, unknown>): Finding[] {
  if (data["Source-Md5"] === undefined || data["Source-Url"] !== undefined) return [];
  return [
    {
      at: ["Source-Md5"],
      message: "expected only together with Source-Url (add Source-Url, or remove Source-Md5)",
    },
  ];
}

function scalingRules(view: View): Finding[] {
  const categories = stringsOf(view.data.Categories);
  const external = categories.includes("external");
  const check = (scaling: unknown, at: PathSegment[]): Finding[] => {
    if (!isRecord(scaling)) return [];
    const findings: Finding[] = [];
    const { Min: min, Max: max } = scaling;
    for (const [key, value] of [
      ["Min", min],
      ["Max", max],
    ] as const)
      if (value === 0 && !external)
        findings.push({
          at: [...at, key],
          message: `expected ${key} >= 1 (0 is only for cartridges in the external category), got 0 (set ${key}: 1, or add external to Categories)`,
        });
    if (
      Number.isInteger(min) &&
      Number.isInteger(max) &&
      (max as number) >= 0 &&
      (min as number) > (max as number)
    )
      findings.push({
        at,
        message: `expected Min <= Max (Max -1 means no limit), got Min ${min} and Max ${max} (raise Max, lower Min, or set Max: -1)`,
      });
    return findings;
  };
  const findings = check(view.data.Scaling, view.at("Scaling"));
  const components = view.data.Components;
  if (isRecord(components))
    for (const [name, component] of Object.entries(components))
      if (isRecord(component))
        findings.push(...check(component.Scaling, [...view.at("Components"), name, "Scaling"]));
  return findings;
}

const PRIVATE_KEYS = ["Private-IP-Name", "Private-Port-Name", "Private-Port"] as const;
const NEEDS_PRIVATE_KEYS = ["Public-Port-Name", "WebSocket-Port-Name", "WebSocket-Port", "Mappings"] as const;
const NAME_KEYS = [
  "Private-IP-Name",
  "Private-Port-Name",
  "Public-Port-Name",
  "WebSocket-Port-Name",
] as const;
const EXAMPLES: Record<string, string> = {
  "Private-IP-Name": "Private-IP-Name: IP",
  "Private-Port-Name": "Private-Port-Name: PORT",
  "Private-Port": "Private-Port: 8080",
  "WebSocket-Port-Name": "WebSocket-Port-Name: WEBSOCKET_PORT",
  "WebSocket-Port": "WebSocket-Port: 8000",
};

function endpointRules(view: View, manifest: Record<string, unknown>): Finding[] {
  const endpoints = view.data.Endpoints;
  if (!Array.isArray(endpoints)) return [];
  const base = view.at("Endpoints");
  const short =
    typeof manifest["Cartridge-Short-Name"] === "string" ? manifest["Cartridge-Short-Name"] : "<SHORT>";
  const variable = (name: string) => `${DEFAULT_ENV_PREFIX}${short}_${name}`;
  const findings: Finding[] = [];
  const names = new Map<string, { key: string; index: number }>();
  const bindings = new Map<string, number>();
  const frontends = new Map<string, string>();
  let primary: number | undefined;

  endpoints.forEach((endpoint, i) => {
    if (!isRecord(endpoint)) return;
    const at = [...base, i];
    const present = PRIVATE_KEYS.filter((key) => endpoint[key] !== undefined);

    // Any of the private trio needs all three.
    if (present.length > 0 && present.length < PRIVATE_KEYS.length)
      for (const key of PRIVATE_KEYS.filter((k) => !present.includes(k)))
        findings.push({
          at: [...at, key],
          message: `missing; expected it because ${present.join(" and ")} ${present.length === 1 ? "is" : "are"} set: an endpoint with any of Private-IP-Name, Private-Port-Name, Private-Port needs all three (add it, e.g. ${EXAMPLES[key]})`,
        });

    // Public port, WebSocket port and routes all point at the private address.
    if (present.length === 0)
      for (const key of NEEDS_PRIVATE_KEYS.filter((k) => endpoint[k] !== undefined))
        findings.push({
          at: [...at, key],
          message: `expected only on an endpoint with Private-IP-Name, Private-Port-Name and Private-Port, which ${key} refers to (add those three to this endpoint, or remove ${key})`,
        });

    // WebSocket-Port-Name and WebSocket-Port go together.
    const wsName = endpoint["WebSocket-Port-Name"] !== undefined;
    const wsPort = endpoint["WebSocket-Port"] !== undefined;
    if (wsName !== wsPort) {
      const [has, missing] = wsName
        ? ["WebSocket-Port-Name", "WebSocket-Port"]
        : ["WebSocket-Port", "WebSocket-Port-Name"];
      findings.push({
        at: [...at, missing],
        message: `missing; expected it because ${has} is set (add it, e.g. ${EXAMPLES[missing]}, or remove ${has})`,
      });
    }

    // Every name becomes GEARTRAIN_<SHORT>_<name>: unique, except that endpoints may share an IP.
    for (const key of NAME_KEYS) {
      const name = endpoint[key];
      if (typeof name !== "string") continue;
      if (NODE_CARTRIDGE_VARIABLES.includes(name)) {
        findings.push({
          at: [...at, key],
          message: `expected a name other than ${NODE_CARTRIDGE_VARIABLES.join(" and ")}, got "${name}" (the node sets ${variable(name)} itself; rename it)`,
        });
        continue;
      }
      const first = names.get(name);
      if (first === undefined) names.set(name, { key, index: i });
      else if (!(key === "Private-IP-Name" && first.key === "Private-IP-Name"))
        findings.push({
          at: [...at, key],
          message: `expected a unique name, got "${name}", already the ${first.key} of ${fieldPath([...base, first.index])}; both would set ${variable(name)} (rename one)`,
        });
    }

    // One IP and port can only be bound once.
    const ip = endpoint["Private-IP-Name"];
    const port = endpoint["Private-Port"];
    if (typeof ip === "string" && Number.isInteger(port)) {
      const binding = `${ip}:${String(port)}`;
      const first = bindings.get(binding);
      if (first === undefined) bindings.set(binding, i);
      else
        findings.push({
          at: [...at, "Private-Port"],
          message: `expected a distinct Private-IP-Name and Private-Port pair, got ${binding}, already bound by ${fieldPath([...base, first])} (change the port or use another Private-IP-Name)`,
        });
    }

    // At most one primary endpoint.
    if (isRecord(endpoint.Options) && endpoint.Options.primary === true) {
      if (primary === undefined) primary = i;
      else
        findings.push({
          at: [...at, "Options", "primary"],
          message: `expected at most one endpoint with primary: true, got a second one (${fieldPath([...base, primary])} is already primary; remove primary from one of them)`,
        });
    }

    // Routes: one frontend path per cartridge, at most one route option each.
    const mappings = Array.isArray(endpoint.Mappings) ? endpoint.Mappings : [];
    mappings.forEach((mapping, j) => {
      if (!isRecord(mapping)) return;
      const mat = [...at, "Mappings", j];
      if (typeof mapping.Frontend === "string") {
        const first = frontends.get(mapping.Frontend);
        const here = fieldPath(mat);
        if (first === undefined) frontends.set(mapping.Frontend, here);
        else
          findings.push({
            at: [...mat, "Frontend"],
            message: `expected a Frontend path no other route uses, got ${JSON.stringify(mapping.Frontend)}, already routed by ${first} (change the path or remove one route)`,
          });
      }
      if (isRecord(mapping.Options)) {
        const options = mapping.Options;
        const set = MAPPING_OPTIONS.filter((option) => options[option] === true);
        if (set.length > 1)
          findings.push({
            at: [...mat, "Options"],
            message: `expected at most one route option set to true, got ${set.join(" and ")} (they conflict; keep one, and add another mapping for a different path if needed)`,
          });
      }
    });
  });
  return findings;
}

function featureRules(view: View): Finding[] {
  const provides = stringsOf(view.data.Provides);
  const name = typeof view.data.Name === "string" ? view.data.Name : undefined;
  const own = new Set([...provides, ...(name !== undefined ? [name] : [])]);
  const requires = stringsOf(view.data.Requires);
  const findings: Finding[] = [];
  for (const key of ["Requires", "Conflicts"] as const) {
    const list = view.data[key];
    if (!Array.isArray(list)) continue;
    list.forEach((feature, i) => {
      if (typeof feature !== "string") return;
      if (own.has(feature))
        findings.push({
          at: [...view.at(key), i],
          message: `expected a feature of another cartridge, got "${feature}", which this cartridge provides itself (remove it from ${key})`,
        });
      else if (key === "Conflicts" && requires.includes(feature))
        findings.push({
          at: [...view.at(key), i],
          message: `expected a feature this cartridge does not require, got "${feature}", also listed in Requires (remove it from one of the two)`,
        });
    });
  }
  return findings;
}

function controlActionRules(view: View): Finding[] {
  const actions = view.data["Additional-Control-Actions"];
  if (!Array.isArray(actions)) return [];
  const standard: readonly string[] = STANDARD_CONTROL_ACTIONS;
  const findings: Finding[] = [];
  actions.forEach((action, i) => {
    if (typeof action === "string" && standard.includes(action))
      findings.push({
        at: [...view.at("Additional-Control-Actions"), i],
        message: `expected an optional action, got "${action}", which bin/control always receives (remove it from the list)`,
      });
  });
  return findings;
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

// ---------------------------------------------------------------------------------------------------------
// Helpers for the node side

/**
 * The manifest as installed for one software version: the `Version-Overrides` entry of that version merged
 * over the top-level keys, and `Version` set to it. Throws when the manifest does not cover the version.
 */
export function manifestForVersion(manifest: Manifest, version: string = manifest.Version): Manifest {
  const versions = softwareVersions(manifest);
  if (!versions.includes(version))
    throw new Error(
      `cartridge ${manifest.Name} has no software version ${version} (it has ${versions.join(", ")})`,
    );
  const override = manifest["Version-Overrides"]?.[version] ?? {};
  return deepFreeze({ ...manifest, ...override, Version: version });
}

/** OpenShift's cartridge ident `<vendor>:<name>:<software version>:<cartridge version>`. */
export function cartridgeIdent(manifest: Manifest, version: string = manifest.Version): string {
  return [manifest["Cartridge-Vendor"], manifest.Name, version, manifest["Cartridge-Version"]].join(":");
}

/** Environment variable for a cartridge variable name, e.g. (PHP, HTTP_PORT) → GEARTRAIN_PHP_HTTP_PORT. */
export function cartridgeVariable(
  manifest: Manifest,
  name: string,
  prefix: string = DEFAULT_ENV_PREFIX,
): string {
  return `${prefix}${manifest["Cartridge-Short-Name"]}_${name}`;
}

// ---------------------------------------------------------------------------------------------------------
// Cartridge directory

export interface CartridgeOptions {
  /** Prefix of the platform's variables (node config `envPrefix`). @default "GEARTRAIN_" */
  readonly envPrefix?: string;
}

/** One file of `env/`: a variable, or a Handlebars template of one rendered before bin/setup. */
export interface EnvFile {
  /** Variable name (the file name without `.hbs`). */
  readonly name: string;
  /** Path relative to the cartridge directory, e.g. `env/GEARTRAIN_PHP_LOG_DIR.hbs`. */
  readonly file: string;
  readonly template: boolean;
}

/** A checked cartridge directory. */
export interface LoadedCartridge {
  /** Absolute path of the cartridge directory. */
  readonly dir: string;
  readonly manifest: Manifest;
  /** metadata/managed_files.yml, or empty lists when the file is absent. */
  readonly managedFiles: ManagedFiles;
  /** Scripts present in bin/ → path relative to the cartridge directory. */
  readonly scripts: Readonly<Partial<Record<CartridgeScript, string>>>;
  /** Files of env/, sorted by name. */
  readonly env: readonly EnvFile[];
  /** Handlebars templates (`*.hbs`) outside template/, template.git/ and usr/, relative paths, sorted. */
  readonly templates: readonly string[];
}

/**
 * Reads and checks a cartridge directory: metadata/manifest.yml (required), metadata/managed_files.yml
 * (optional), bin/control (required) and the other bin/ scripts, hooks/, env/ (required), Handlebars
 * templates and versions/. Never throws for problems in the cartridge; returns every one of them, and the
 * cartridge only when there are none.
 */
export async function inspectCartridge(
  dir: string,
  options: CartridgeOptions = {},
): Promise<{ cartridge?: LoadedCartridge; problems: CartridgeProblem[] }> {
  const prefix = options.envPrefix ?? DEFAULT_ENV_PREFIX;
  const rel = (p: string) => path.join(dir, p);
  const problems: CartridgeProblem[] = [];

  const top = await statOrUndefined(dir);
  if (!top?.isDirectory())
    return {
      problems: [
        {
          file: dir,
          path: "",
          message: `expected a cartridge directory, got ${top ? "a file" : "nothing there"} (check the path)`,
        },
      ],
    };

  // metadata/manifest.yml
  let manifest: Manifest | undefined;
  const manifestText = await readTextOrUndefined(rel(MANIFEST_FILE));
  if (manifestText === undefined)
    problems.push({
      file: rel(MANIFEST_FILE),
      path: "",
      message:
        "missing; expected the cartridge manifest (create it, starting with Name: and Cartridge-Short-Name:)",
    });
  else {
    const result = manifestTextProblems(manifestText, rel(MANIFEST_FILE));
    manifest = result.manifest;
    problems.push(...result.problems);
  }

  // metadata/managed_files.yml
  let managedFiles: ManagedFiles = deepFreeze({
    locked_files: [],
    snapshot_exclusions: [],
    restore_transforms: [],
    processed_templates: [],
    setup_rewritten: [],
  });
  const managedText = await readTextOrUndefined(rel(MANAGED_FILES_FILE));
  if (managedText !== undefined) {
    try {
      managedFiles = parseManagedFiles(managedText, rel(MANAGED_FILES_FILE));
    } catch (err) {
      if (!(err instanceof CartridgeError)) throw err;
      problems.push(...err.problems);
    }
  }

  // bin/ and hooks/
  const scripts: Partial<Record<CartridgeScript, string>> = {};
  for (const script of CARTRIDGE_SCRIPTS) {
    const file = path.join("bin", script);
    const required = (REQUIRED_SCRIPTS as readonly string[]).includes(script);
    const found = await executableProblems(dir, file, required);
    problems.push(...found.problems);
    if (found.exists) scripts[script] = file;
  }
  for (const entry of await listDir(rel("hooks"))) {
    if (entry.name.startsWith(".")) continue;
    problems.push(...(await executableProblems(dir, path.join("hooks", entry.name), true)).problems);
  }

  // env/
  const env: EnvFile[] = [];
  const envEntries = await listDir(rel("env"));
  if (!(await statOrUndefined(rel("env")))?.isDirectory())
    problems.push({
      file: rel("env"),
      path: "",
      message:
        "missing; expected a directory of environment variable files (create it; keep it in git with an empty env/.gitkeep)",
    });
  const seen = new Map<string, string>();
  for (const entry of envEntries) {
    if (entry.name.startsWith(".")) continue;
    const file = path.join("env", entry.name);
    const isFile = entry.isSymbolicLink() ? (await statOrUndefined(rel(file)))?.isFile() : entry.isFile();
    if (!isFile) {
      problems.push({
        file: rel(file),
        path: "",
        message:
          "expected a file (one variable per file), got a directory or special file (move it out of env/)",
      });
      continue;
    }
    if (entry.name.endsWith(".erb")) {
      problems.push({
        file: rel(file),
        path: "",
        message: `expected a plain value or a Handlebars template (.hbs), got an ERB template (rewrite it with Handlebars and rename it to env/${entry.name.slice(0, -4)}.hbs)`,
      });
      continue;
    }
    const template = entry.name.endsWith(".hbs");
    const name = template ? entry.name.slice(0, -4) : entry.name;
    const other = seen.get(name);
    if (other !== undefined) {
      problems.push({
        file: rel(file),
        path: "",
        message: `expected one file per variable, got ${name} also from ${other} (remove one of them)`,
      });
      continue;
    }
    seen.set(name, file);
    const message = envNameProblem(name, manifest, prefix);
    if (message !== undefined) problems.push({ file: rel(file), path: "", message });
    env.push({ name, file, template });
  }
  env.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Handlebars templates
  const templates = await findTemplates(dir);
  for (const file of templates) {
    const text = await fs.readFile(rel(file), "utf8");
    const problem = templateProblem(text, rel(file));
    if (problem) problems.push(problem);
  }

  // versions/<software version>/
  if (manifest) {
    const versions = softwareVersions(manifest);
    for (const entry of await listDir(rel("versions"))) {
      if (entry.name.startsWith(".") || !entry.isDirectory() || versions.includes(entry.name)) continue;
      problems.push({
        file: rel(path.join("versions", entry.name)),
        path: "",
        message: `expected a directory named after a software version of the manifest (${versions.join(", ")}), got "${entry.name}" (add '${entry.name}' to Versions, or remove the directory)`,
      });
    }
  }

  if (problems.length > 0 || !manifest) return { problems };
  return {
    problems,
    cartridge: deepFreeze({
      dir: path.resolve(dir),
      manifest,
      managedFiles,
      scripts,
      env,
      templates,
    }),
  };
}

/**
 * Reads and checks a cartridge directory (see {@link inspectCartridge}); throws {@link CartridgeError}
 * listing every problem.
 */
export async function loadCartridge(dir: string, options: CartridgeOptions = {}): Promise<LoadedCartridge> {
  const { cartridge, problems } = await inspectCartridge(dir, options);
  if (!cartridge) throw new CartridgeError(problems);
  return cartridge;
}

/** Why an env/ file name cannot be a cartridge variable, or undefined when it can. */
export function envNameProblem(
  name: string,
  manifest: Manifest | undefined,
  prefix: string = DEFAULT_ENV_PREFIX,
): string | undefined {
  if (!ENV_NAME_PATTERN.test(name))
    return `expected a file named after an environment variable (upper-case letters, digits and '_', not starting with a digit), got "${name}" (rename the file)`;
  if (RESERVED_ENV_NAMES.includes(name)) {
    const element =
      name === "PATH" || name === "LD_LIBRARY_PATH"
        ? `; to add to it, use ${prefix}${manifest?.["Cartridge-Short-Name"] ?? "<SHORT>"}_${name}_ELEMENT`
        : "";
    return `expected a variable the cartridge may set, got ${name}, which the node sets (remove the file${element})`;
  }
  if (!name.startsWith(prefix)) return undefined;
  if (!manifest) return undefined; // cannot tell the cartridge's own namespace without a valid manifest
  const own = `${prefix}${manifest["Cartridge-Short-Name"]}_`;
  if (!name.startsWith(own))
    return `expected a variable outside the platform's ${prefix}* namespace, or in the cartridge's own ${own}*, got ${name} (rename it, e.g. ${own}${name.slice(prefix.length)})`;
  const rest = name.slice(own.length);
  const endpointNames = new Set<string>();
  for (const endpoint of manifest.Endpoints)
    for (const key of NAME_KEYS) {
      const value = endpoint[key];
      if (typeof value === "string") endpointNames.add(value);
    }
  if (NODE_CARTRIDGE_VARIABLES.includes(rest) || endpointNames.has(rest))
    return `expected a variable the node does not set itself, got ${name} (${
      endpointNames.has(rest)
        ? "an endpoint in the manifest names it"
        : "the node writes it for every cartridge"
    }; remove the file or rename it)`;
  return undefined;
}

/** A Handlebars syntax problem in `text`, if any; `file` names it. */
export function templateProblem(text: string, file: string): CartridgeProblem | undefined {
  try {
    Handlebars.parse(text);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const lines = message.split("\n").map((l) => l.trim());
    const lineMatch = /line (\d+)/.exec(lines[0] ?? "") ?? /- (\d+):(\d+)$/.exec(lines[0] ?? "");
    const line = lineMatch ? Number(lineMatch[1]) : undefined;
    const detail = lines.length > 1 ? lines[lines.length - 1] : lines[0];
    const problem: CartridgeProblem = {
      file,
      path: line !== undefined ? `line ${line}` : "",
      message: `expected a valid Handlebars template, got: ${detail} (fix the {{...}} syntax there)`,
    };
    return line !== undefined ? { ...problem, line } : problem;
  }
}

/** Directories whose .hbs files belong to the application or shared libraries, not to the cartridge. */
const NOT_CARTRIDGE_TEMPLATES = new Set(["template", "template.git", "usr"]);

async function findTemplates(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relDir: string): Promise<void> => {
    for (const entry of await listDir(path.join(dir, relDir))) {
      if (entry.name.startsWith(".")) continue;
      const relPath = relDir === "" ? entry.name : path.join(relDir, entry.name);
      if (entry.isDirectory()) {
        if (NOT_CARTRIDGE_TEMPLATES.has(entry.name) && (relDir === "" || entry.name !== "usr")) continue;
        await walk(relPath);
      } else if (entry.isFile() && entry.name.endsWith(".hbs")) {
        found.push(relPath);
      }
    }
  };
  await walk("");
  return found.sort();
}

/** A script must be a regular file, executable by its owner, starting with #! (LF line ending) or ELF. */
async function executableProblems(
  dir: string,
  file: string,
  required: boolean,
): Promise<{ exists: boolean; problems: CartridgeProblem[] }> {
  const full = path.join(dir, file);
  const problem = (message: string) => ({ file: full, path: "", message });
  const st = await statOrUndefined(full);
  if (!st) {
    const dangling = (await lstatOrUndefined(full)) !== undefined;
    if (dangling)
      return {
        exists: false,
        problems: [
          problem("expected an executable script, got a broken symbolic link (fix the link target)"),
        ],
      };
    return {
      exists: false,
      problems: required
        ? [problem(`missing; expected an executable script (create it and run chmod +x ${file})`)]
        : [],
    };
  }
  if (!st.isFile())
    return {
      exists: false,
      problems: [
        problem("expected an executable file, got a directory or special file (replace it with a script)"),
      ],
    };
  const problems: CartridgeProblem[] = [];
  if ((st.mode & constants.S_IXUSR) === 0)
    problems.push(
      problem(
        `expected an executable file, got mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")} (run chmod +x ${file})`,
      ),
    );
  const handle = await fs.open(full, "r");
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const isElf = head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  if (!isElf) {
    const text = head.toString("latin1");
    if (!text.startsWith("#!"))
      problems.push(
        problem(
          "expected a script starting with an interpreter line such as #!/bin/bash, or a binary (add the #! line)",
        ),
      );
    else if (/^[^\n]*\r/.test(text))
      problems.push(
        problem(
          "expected Unix line endings, got CRLF on the #! line (convert the file: sed -i 's/\\r$//' " +
            file +
            ")",
        ),
      );
  }
  return { exists: true, problems };
}

async function statOrUndefined(p: string) {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}

async function lstatOrUndefined(p: string) {
  try {
    return await fs.lstat(p);
  } catch {
    return undefined;
  }
}

async function readTextOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.readFile(p, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Entries of a directory sorted by name, or none when it does not exist. */
async function listDir(p: string): Promise<Dirent[]> {
  try {
    const entries = await fs.readdir(p, { withFileTypes: true });
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw err;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
