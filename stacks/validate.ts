// Pure validation of the structured stack config `geartrain:platform`: the JSON schema (ajv) first, then
// the cross-field rules a schema cannot express. No Pulumi import, so unit tests need no engine.
// Every problem is collected and reported at once, one line each: `<field path>: <what was expected>`.
import type { AnySchemaObject, ErrorObject, ValidateFunction } from "ajv/dist/2020";
import {
  createAjv,
  dedupeProblems as dedupe,
  describeValue as describe,
  EXPECTED_KEYWORD,
  fallbackExpectation,
  fieldPath as joinPath,
  isRecord,
  pointerSegments,
  propertySchema as schemaOfProperty,
} from "../common/ajv-errors";
import { deepFreeze } from "../common/deep-freeze";
import { EXIT, GeartrainError } from "../common/errors";
import platformSchema from "./schema/platform.schema.json";
import { HOST_ROLES, PLATFORM_CONFIG_KEY, SINGLETON_ROLES, type PlatformConfig } from "./schema/platform";

export * from "./schema/platform";

/** One thing wrong with the config: where, and what was expected there. */
export interface ConfigProblem {
  /** Field path such as `geartrain:platform.hosts[1].connection.hostKey`. */
  readonly path: string;
  /** Plain English: what was expected, and the fix where there is one. */
  readonly message: string;
}

/** Thrown when the stack config is invalid; `problems` lists every problem found, not just the first. */
export class ConfigError extends GeartrainError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `Invalid stack config ${PLATFORM_CONFIG_KEY} (${count}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
      { kind: "invalid_config", exitCode: EXIT.INVALID, httpStatus: 400 },
    );
    this.problems = problems;
  }

  override details(): Record<string, unknown> {
    return { problems: this.problems };
  }
}

/**
 * Validates the raw value of `geartrain:platform` (as parsed from Pulumi.<stack>.yaml) and returns it with
 * defaults applied, deeply frozen. Throws {@link ConfigError} listing all problems. Does not mutate `raw`.
 */
export function validatePlatformConfig(raw: unknown): PlatformConfig {
  let data: unknown;
  try {
    data = structuredClone(raw); // ajv's useDefaults writes into the value; keep the caller's untouched
  } catch {
    throw new ConfigError([
      { path: PLATFORM_CONFIG_KEY, message: "expected plain data (objects, lists, strings, numbers)" },
    ]);
  }
  const validate = compiledSchema();
  validate(data);
  const problems = [...schemaProblems(validate.errors ?? [], data), ...crossFieldProblems(data)];
  if (problems.length > 0) throw new ConfigError(dedupe(problems));
  return deepFreeze(data as PlatformConfig);
}

// ---------------------------------------------------------------------------------------------------------
// Schema (ajv)

let compiled: ValidateFunction | undefined;

function compiledSchema(): ValidateFunction {
  if (!compiled) {
    const ajv = createAjv({
      useDefaults: true,
      discriminator: true, // only the matching connection branch reports errors
    });
    compiled = ajv.compile(platformSchema);
  }
  return compiled;
}

function schemaProblems(errors: readonly ErrorObject[], data: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const error of errors) {
    const segments = pointerSegments(error.instancePath, data);
    const schema = error.parentSchema ?? {};
    switch (error.keyword) {
      case "discriminator":
        // Reported by the `enum`/`required` on the same `type` field.
        continue;
      case "required": {
        const field = String(error.params.missingProperty);
        const expected = expectedOf(propertySchema(schema, field));
        problems.push({ path: fieldPath([...segments, field]), message: `missing; expected ${expected}` });
        continue;
      }
      case "additionalProperties": {
        const field = String(error.params.additionalProperty);
        const allowed = Object.keys(schema.properties ?? {}).join(", ");
        problems.push({
          path: fieldPath([...segments, field]),
          message: `unknown field; remove it or fix its spelling (allowed here: ${allowed})`,
        });
        continue;
      }
      case "uniqueItems":
        problems.push({
          path: fieldPath(segments),
          message: `expected no duplicates, but items ${error.params.j} and ${error.params.i} are both ${describe(
            (error.data as unknown[])[error.params.i],
          )}; remove one`,
        });
        continue;
      default:
        problems.push({
          path: fieldPath(segments),
          message: `expected ${schema[EXPECTED_KEYWORD] ?? fallbackExpectation(error)} (got ${describe(error.data)})`,
        });
    }
  }
  return problems;
}

/** Schema of `field` inside an object schema, following a local `$ref` (its own keywords win). */
function propertySchema(objectSchema: AnySchemaObject, field: string): AnySchemaObject {
  return schemaOfProperty(objectSchema, field, platformSchema);
}

function expectedOf(schema: AnySchemaObject): string {
  const expected = schema[EXPECTED_KEYWORD] ?? schema.description;
  if (typeof expected === "string") return expected;
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.join(", ")}`;
  return "a value";
}

// ---------------------------------------------------------------------------------------------------------
// Cross-field rules. They read the data defensively: the schema may have failed too, and every problem
// should still be reported in the same run.

function crossFieldProblems(data: unknown): ConfigProblem[] {
  if (!isRecord(data)) return [];
  const hosts = listOf(data.hosts);
  const districts = listOf(data.districts);
  return [
    ...duplicateNames(hosts, "hosts", "host"),
    ...localConnectionLimit(hosts),
    ...duplicateSshEndpoints(hosts),
    ...hostKeyData(hosts),
    ...roleCounts(hosts),
    ...duplicateNames(districts, "districts", "district"),
    ...districtNodes(districts, hosts),
    ...uidRanges(districts),
  ];
}

function duplicateNames(items: readonly unknown[], list: string, what: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstIndex = new Map<string, number>();
  items.forEach((item, i) => {
    const name = nameOf(item);
    if (name === undefined) return;
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, i);
    else
      problems.push({
        path: fieldPath([list, i, "name"]),
        message: `expected a unique ${what} name, but "${name}" is already used by ${list}[${first}]; rename one of them`,
      });
  });
  return problems;
}

/** Two `local` hosts would be the same machine under two names. */
function localConnectionLimit(hosts: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  let first: number | undefined;
  hosts.forEach((host, i) => {
    if (connectionOf(host)?.type !== "local") return;
    if (first === undefined) first = i;
    else
      problems.push({
        path: fieldPath(["hosts", i, "connection", "type"]),
        message: `expected at most one host with connection type local, but hosts[${first}] is already local; give this host an ssh connection or merge its roles into hosts[${first}]`,
      });
  });
  return problems;
}

/** Two hosts reaching the same address and port are one machine under two names. */
function duplicateSshEndpoints(hosts: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstIndex = new Map<string, number>();
  hosts.forEach((host, i) => {
    const conn = connectionOf(host);
    if (conn?.type !== "ssh" || typeof conn.address !== "string") return;
    const endpoint = `${conn.address.toLowerCase()}:${String(conn.port)}`;
    const first = firstIndex.get(endpoint);
    if (first === undefined) firstIndex.set(endpoint, i);
    else
      problems.push({
        path: fieldPath(["hosts", i, "connection", "address"]),
        message: `expected a distinct address and port per host, but hosts[${first}] already connects to ${endpoint}; merge the two hosts or fix the address`,
      });
  });
  return problems;
}

/** The pattern checks the line's shape; this checks the base64 blob really is a key of the declared type. */
function hostKeyData(hosts: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  hosts.forEach((host, i) => {
    const conn = connectionOf(host);
    if (conn?.type !== "ssh" || typeof conn.hostKey !== "string") return;
    const match = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: |$)/.exec(conn.hostKey);
    if (!match) return; // the schema pattern already reported it
    const [, keyType, base64] = match;
    if (!(keyType && base64) || keyBlobType(base64) === keyType) return;
    problems.push({
      path: fieldPath(["hosts", i, "connection", "hostKey"]),
      message: `expected key data matching its type ${keyType}, but it is damaged or of another type; copy the whole line again (e.g. /etc/ssh/ssh_host_ed25519_key.pub on the host)`,
    });
  });
  return problems;
}

/** Algorithm name embedded at the start of an SSH public key blob (RFC 4253 §6.6), if well formed. */
function keyBlobType(base64: string): string | undefined {
  const blob = Buffer.from(base64, "base64");
  if (blob.toString("base64") !== base64 || blob.length < 4) return undefined; // truncated or not canonical
  const length = blob.readUInt32BE(0);
  if (length === 0 || blob.length < 4 + length) return undefined;
  return blob.toString("latin1", 4, 4 + length);
}

/** One host for each singleton service (no HA yet), at least one node so gears can run. */
function roleCounts(hosts: readonly unknown[]): ConfigProblem[] {
  if (hosts.length === 0) return []; // the schema reports the empty list
  const carriers = new Map<string, string[]>(HOST_ROLES.map((role) => [role, []]));
  hosts.forEach((host, i) => {
    for (const role of new Set(rolesOf(host))) carriers.get(role)?.push(nameOf(host) ?? `hosts[${i}]`);
  });
  const path = fieldPath(["hosts"]);
  const problems: ConfigProblem[] = [];
  for (const role of SINGLETON_ROLES) {
    const names = carriers.get(role) ?? [];
    if (names.length === 0)
      problems.push({
        path,
        message: `expected exactly one host with role ${role}, but none has it; add "${role}" to the roles of one host`,
      });
    else if (names.length > 1)
      problems.push({
        path,
        message: `expected exactly one host with role ${role}, but ${names.length} have it (${names.join(", ")}); more than one ${role} is not supported yet, keep it on one host`,
      });
  }
  if ((carriers.get("node") ?? []).length === 0)
    problems.push({
      path,
      message: `expected at least one host with role node, but none has it; add "node" to the roles of a host so gears can run`,
    });
  return problems;
}

function districtNodes(districts: readonly unknown[], hosts: readonly unknown[]): ConfigProblem[] {
  const hostByName = new Map<string, { index: number; roles: string[] }>();
  hosts.forEach((host, index) => {
    const name = nameOf(host);
    if (name !== undefined && !hostByName.has(name)) hostByName.set(name, { index, roles: rolesOf(host) });
  });
  const nodeNames = [...hostByName].filter(([, h]) => h.roles.includes("node")).map(([name]) => name);
  const districtOfNode = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  districts.forEach((district, d) => {
    if (!isRecord(district)) return;
    listOf(district.nodes).forEach((node, k) => {
      if (typeof node !== "string") return;
      const path = fieldPath(["districts", d, "nodes", k]);
      const host = hostByName.get(node);
      if (!host) {
        const choices = nodeNames.length > 0 ? nodeNames.join(", ") : "none defined yet";
        problems.push({
          path,
          message: `expected the name of a host with role node (${choices}), but there is no host "${node}"`,
        });
      } else if (!host.roles.includes("node")) {
        problems.push({
          path,
          message: `expected a host with role node, but host "${node}" does not have it; add "node" to hosts[${host.index}].roles or remove "${node}" from this district`,
        });
      } else if (districtOfNode.has(node)) {
        problems.push({
          path,
          message: `expected each node in at most one district, but "${node}" is already in districts[${districtOfNode.get(node)}]; remove it from one of them`,
        });
      } else {
        districtOfNode.set(node, d);
      }
    });
  });
  return problems;
}

function uidRanges(districts: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const accepted: { index: number; min: number; max: number }[] = [];
  districts.forEach((district, d) => {
    const range = isRecord(district) ? district.uidRange : undefined;
    if (!isRecord(range) || !isUid(range.min) || !isUid(range.max)) return; // the schema reported it
    const { min, max } = range;
    const path = fieldPath(["districts", d, "uidRange"]);
    if (min >= max) {
      problems.push({
        path,
        message: `expected min to be less than max, but min is ${min} and max is ${max}; swap or fix them`,
      });
      return;
    }
    const clash = accepted.find((other) => min <= other.max && other.min <= max);
    if (clash)
      problems.push({
        path,
        message: `expected a UID range that overlaps no other district, but ${min}..${max} overlaps districts[${clash.index}] (${clash.min}..${clash.max}); choose a range outside it`,
      });
    else accepted.push({ index: d, min, max });
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

/** Same bounds as `$defs.uid` in the schema. */
function isUid(value: unknown): value is number {
  const { minimum, maximum } = platformSchema.$defs.uid;
  return Number.isInteger(value) && (value as number) >= minimum && (value as number) <= maximum;
}

function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function nameOf(item: unknown): string | undefined {
  return isRecord(item) && typeof item.name === "string" ? item.name : undefined;
}

function connectionOf(host: unknown): Record<string, unknown> | undefined {
  return isRecord(host) && isRecord(host.connection) ? host.connection : undefined;
}

function rolesOf(host: unknown): string[] {
  return isRecord(host) ? listOf(host.roles).filter((r): r is string => typeof r === "string") : [];
}

/** `geartrain:platform` + segments, e.g. `geartrain:platform.hosts[1].connection.hostKey`. */
function fieldPath(segments: readonly (string | number)[]): string {
  return joinPath(segments, PLATFORM_CONFIG_KEY);
}
