// The broker's DNS records, pure: the DnsUpdater contract (issue #10), validation of records against the
// zone, the nsupdate script that performs an upsert or a remove, the parse of a tsig-keygen key file, and
// what nsupdate's failure text means. No I/O; operations.ts runs nsupdate.
//
// After origin-server's nsupdate plugin (reference/openshift-v2.md §8): the app record is
// `<app>-<namespace>.<cloud domain>`, a CNAME to the node's public hostname, TTL 60; a change is a delete
// and an add in one update message (so it is atomic: BIND applies all of a message or none of it).

import {
  inZone,
  validateDnsName,
  validateIpv4,
  validateTsigAlgorithm,
  validateTsigSecret,
  type TsigAlgorithm,
} from "../../../common/dns-names";
import { ValidationError } from "../../../common/errors";

export type DnsRecordType = "A" | "CNAME";

export interface DnsRecord {
  /** fully qualified, without the trailing dot, inside the updater's zone */
  readonly name: string;
  readonly type: DnsRecordType;
  /** an IPv4 address (A) or a host name (CNAME) */
  readonly value: string;
  /** seconds; default DEFAULT_TTL */
  readonly ttl?: number;
}

export interface DnsRecordName {
  readonly name: string;
  readonly type: DnsRecordType;
}

/** What the broker's application service calls; NsupdateDnsUpdater (operations.ts) is the implementation. */
export interface DnsUpdater {
  /** Sets each (name, type) to exactly the values given (all records in one atomic update). */
  upsert(records: readonly DnsRecord[]): Promise<void>;
  /** Deletes each (name, type); a record that is not there is no error. */
  remove(names: readonly DnsRecordName[]): Promise<void>;
}

/** origin-server's TTL for gear records. */
export const DEFAULT_TTL = 60;
const MAX_TTL = 2_147_483_647;

export interface TsigKey {
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  /** base64; never logged, never on a command line */
  readonly secret: string;
}

export interface NsupdateConfig {
  /** the server's IPv4 address */
  readonly server: string;
  readonly port: number;
  /** the zone updated (the cloud domain) */
  readonly zone: string;
  readonly key: TsigKey;
  /** per update; default 10 s */
  readonly timeoutMs?: number;
}

/** The config, validated (names lower-cased); errors name the field and never show the secret. */
export function validateConfig(c: NsupdateConfig): NsupdateConfig {
  const port = c.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ValidationError("dns.port", `${String(port)} is not a port (1-65535)`);
  const timeoutMs = c.timeoutMs ?? 10_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1000 || timeoutMs > 300_000)
    throw new ValidationError("dns.timeoutMs", `${String(timeoutMs)} is outside 1000-300000`);
  return {
    server: validateIpv4("dns.server", c.server),
    port,
    zone: validateDnsName("dns.zone", c.zone, { minLabels: 2 }),
    key: {
      name: validateDnsName("dns.key.name", c.key?.name),
      algorithm: validateTsigAlgorithm("dns.key.algorithm", c.key?.algorithm),
      secret: validateTsigSecret("dns.key.secret", c.key?.secret),
    },
    timeoutMs,
  };
}

function validateType(field: string, type: unknown): DnsRecordType {
  if (type !== "A" && type !== "CNAME") throw new ValidationError(field, `expected "A" or "CNAME"`);
  return type;
}

function validateName(field: string, name: unknown, zone: string, type: DnsRecordType): string {
  const n = validateDnsName(field, name);
  if (!inZone(n, zone)) throw new ValidationError(field, `${n} is not in the zone ${zone}`);
  if (type === "CNAME" && n === zone)
    throw new ValidationError(field, `a CNAME cannot be at the zone apex ${zone}`);
  return n;
}

/** A record set to write: one name and type, its values (one for a CNAME), one TTL. */
export interface RecordSet {
  readonly name: string;
  readonly type: DnsRecordType;
  readonly ttl: number;
  readonly values: readonly string[];
}

/**
 * The records as record sets, validated against `zone`: each field error names `records[i].<field>`. A
 * CNAME given two values, one name given as both CNAME and A, or one set given two TTLs is refused.
 */
export function recordSets(records: readonly DnsRecord[], zone: string): RecordSet[] {
  if (!Array.isArray(records)) throw new ValidationError("records", "expected an array");
  const sets = new Map<string, { name: string; type: DnsRecordType; ttl: number; values: string[] }>();
  const typeOf = new Map<string, DnsRecordType>();
  records.forEach((r, i) => {
    const f = `records[${i}]`;
    if (typeof r !== "object" || r === null) throw new ValidationError(f, "expected an object");
    const type = validateType(`${f}.type`, r.type);
    const name = validateName(`${f}.name`, r.name, zone, type);
    const value =
      type === "A"
        ? validateIpv4(`${f}.value`, r.value)
        : validateDnsName(`${f}.value`, r.value, { minLabels: 2 });
    const ttl = r.ttl ?? DEFAULT_TTL;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL)
      throw new ValidationError(`${f}.ttl`, `${String(ttl)} is not a TTL (0-${MAX_TTL} seconds)`);
    const other = typeOf.get(name);
    if (other !== undefined && other !== type)
      throw new ValidationError(
        `${f}.type`,
        `${name} is given as both ${other} and ${type} (a CNAME stands alone)`,
      );
    typeOf.set(name, type);
    const key = `${name} ${type}`;
    const set = sets.get(key);
    if (set === undefined) {
      sets.set(key, { name, type, ttl, values: [value] });
      return;
    }
    if (type === "CNAME" && !set.values.includes(value))
      throw new ValidationError(`${f}.value`, `${name} is given two CNAME targets (a CNAME has one)`);
    if (set.ttl !== ttl) throw new ValidationError(`${f}.ttl`, `${name} ${type} is given two TTLs`);
    if (!set.values.includes(value)) set.values.push(value);
  });
  return [...sets.values()];
}

/** The names to remove, validated against `zone` (errors name `names[i].<field>`), without duplicates. */
export function recordNames(names: readonly DnsRecordName[], zone: string): DnsRecordName[] {
  if (!Array.isArray(names)) throw new ValidationError("names", "expected an array");
  const out = new Map<string, DnsRecordName>();
  names.forEach((r, i) => {
    const f = `names[${i}]`;
    if (typeof r !== "object" || r === null) throw new ValidationError(f, "expected an object");
    const type = validateType(`${f}.type`, r.type);
    const name = validateName(`${f}.name`, r.name, zone, type);
    out.set(`${name} ${type}`, { name, type });
  });
  return [...out.values()];
}

/** The lines every script starts with: where, which zone, and the key (stdin only: never argv). */
function header(c: NsupdateConfig): string[] {
  return [
    `server ${c.server} ${c.port}`,
    `zone ${c.zone}`,
    `key ${c.key.algorithm}:${c.key.name} ${c.key.secret}`,
  ];
}

/**
 * The nsupdate script that sets each record set: the name's A and CNAME sets are deleted and the new values
 * added, in one message (atomic). Inputs are validated values (recordSets), so no line can be injected.
 */
export function upsertScript(c: NsupdateConfig, sets: readonly RecordSet[]): string {
  const lines = header(c);
  for (const name of [...new Set(sets.map((s) => s.name))]) {
    lines.push(`update delete ${name}. CNAME`, `update delete ${name}. A`);
  }
  for (const s of sets) {
    for (const v of s.values)
      lines.push(`update add ${s.name}. ${s.ttl} ${s.type} ${s.type === "CNAME" ? `${v}.` : v}`);
  }
  lines.push("send", "");
  return lines.join("\n");
}

/** The nsupdate script that deletes each (name, type), in one message. */
export function removeScript(c: NsupdateConfig, names: readonly DnsRecordName[]): string {
  const lines = header(c);
  for (const n of names) lines.push(`update delete ${n.name}. ${n.type}`);
  lines.push("send", "");
  return lines.join("\n");
}

/**
 * The key of a `tsig-keygen` file (`key "name" { algorithm hmac-sha256; secret "base64"; };`), validated.
 * Errors name `field` and never show the secret.
 */
export function parseTsigKeyFile(text: string, field = "keyFile"): TsigKey {
  const m = /key\s+"?([A-Za-z0-9.-]+)"?\s*\{([^}]*)\}/.exec(text);
  if (m === null)
    throw new ValidationError(
      field,
      'expected a key statement: key "name" { algorithm ...; secret "..."; };',
    );
  const alg = /algorithm\s+"?([A-Za-z0-9-]+)"?\s*;/.exec(m[2]);
  const sec = /secret\s+"([^"]*)"\s*;/.exec(m[2]);
  if (alg === null) throw new ValidationError(field, "the key statement has no algorithm");
  if (sec === null) throw new ValidationError(field, "the key statement has no secret");
  return {
    name: validateDnsName(`${field}.name`, m[1]),
    algorithm: validateTsigAlgorithm(`${field}.algorithm`, alg[1]),
    secret: validateTsigSecret(`${field}.secret`, sec[1]),
  };
}

/** What a failed nsupdate run means: the server refused (a key, a zone) or could not be reached. */
export type NsupdateFailure = "refused" | "unreachable" | "failed";

/** Classifies nsupdate's stderr after a non-zero exit. */
export function classifyFailure(stderr: string): NsupdateFailure {
  if (
    /communications error|communication with|connection refused|timed out|couldn't get address|no servers could be reached|network unreachable/i.test(
      stderr,
    )
  )
    return "unreachable";
  if (/REFUSED|NOTAUTH|NOTZONE|BADKEY|BADSIG|BADTIME|tsig (indicates|verify)|TSIG error/i.test(stderr))
    return "refused";
  return "failed";
}

/** `text` with every occurrence of the secret replaced, and cut to a few lines for an error message. */
export function redact(text: string, secret: string): string {
  const clean = secret.length > 0 ? text.split(secret).join("[redacted]") : text;
  const lines = clean
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return lines.slice(0, 5).join("; ");
}

/**
 * The app's record name, `<app>-<namespace>.<cloud domain>` (origin-server's head gear record); a
 * ValidationError when the label would not be a DNS label (over 63 characters, say).
 */
export function appRecordName(app: string, namespace: string, cloudDomain: string): string {
  return validateDnsName("name", `${app}-${namespace}.${cloudDomain}`, { minLabels: 3 });
}
