// Pure, deterministic rendering of a BIND 9 nameserver's files for the cloud domain: named.conf (an
// authoritative-only server listening on one address and port, one primary zone that the TSIG key may
// update) and the zone file (SOA, NS, the nameserver's and infrastructure hosts' A records). The same input
// gives the same bytes: no time, no randomness (the serial is an input; BIND bumps it on each update).
// Used by the test service (test/helpers/services/bind.ts, scripts/services/bind.sh) and by the Dns
// component (#11). named.conf never holds the key's secret: it includes the key file (tsig-keygen's, or the
// Dns component's renderKeyFile output, written 0640 root:bind).
//
// After origin-server's nameserver setup (reference/openshift-v2.md §8, §11.5): zone `type master` with
// `allow-update { key <domain>; }`, SOA refresh 60, retry 15, expire 1800, minimum 10, `NS ns1`.

import { readFileSync } from "fs";
import Handlebars from "handlebars";
import * as path from "path";
import {
  inZone,
  validateDnsName,
  validateIpv4,
  validateTsigAlgorithm,
  validateTsigSecret,
} from "../../common/dns-names";
import { ValidationError } from "../../common/errors";
import { templateDir } from "../../common/template-dir";

export interface NamedConfInput {
  /** absolute directory of the instance: working dir, pid file, log, journal */
  readonly dir: string;
  /** IPv4 address to listen on */
  readonly address: string;
  readonly port: number;
  /** the cloud domain, e.g. `apps.example.test` */
  readonly zone: string;
  /** the TSIG key allowed to update the zone (its name in the key file) */
  readonly keyName: string;
  /** absolute path of the key file (tsig-keygen output, 0600) */
  readonly keyFile: string;
  /** absolute path of the zone file; default `<dir>/<zone>.db` */
  readonly zoneFile?: string;
}

export interface ZoneInput {
  readonly zone: string;
  /** the nameserver's label inside the zone; default `ns1` */
  readonly nameserverLabel?: string;
  /** the nameserver's address (its A record); without it the NS record has no glue */
  readonly nameserverAddress?: string;
  /** default TTL of the zone's records; default 60 */
  readonly ttl?: number;
  /** SOA serial; default 1 */
  readonly serial?: number;
  /** infrastructure hosts (broker, nodes): a name inside the zone (fully qualified) and its address */
  readonly hosts?: readonly { name: string; address: string }[];
}

const PLAIN_PATH = /^\/[A-Za-z0-9._/-]+$/;

function validatePath(field: string, p: unknown): string {
  if (typeof p !== "string" || !PLAIN_PATH.test(p) || p.split("/").includes(".."))
    throw new ValidationError(
      field,
      `${JSON.stringify(p)} is not a plain absolute path ([A-Za-z0-9._/-], no ..)`,
    );
  return p;
}

function validateInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new ValidationError(field, `${String(v)} is not an integer in ${min}-${max}`);
  return v;
}

interface Templates {
  namedConf: Handlebars.TemplateDelegate;
  zone: Handlebars.TemplateDelegate;
}

let cached: Templates | null = null;

function templates(): Templates {
  if (cached) return cached;
  const dir = templateDir(__dirname, "components/dns/templates", "named.conf.hbs");
  const hb = Handlebars.create();
  const read = (f: string) => readFileSync(path.join(dir, f), "utf8");
  const opts = { noEscape: true, strict: true };
  cached = { namedConf: hb.compile(read("named.conf.hbs"), opts), zone: hb.compile(read("zone.hbs"), opts) };
  return cached;
}

/** The zone file's default path for an instance directory. */
export function zoneFilePath(dir: string, zone: string): string {
  return path.join(dir, `${zone.toLowerCase()}.db`);
}

/** named.conf for `input`; every value validated first (errors name the field), nothing else is rendered. */
export function renderNamedConf(input: NamedConfInput): string {
  const dir = validatePath("dir", input.dir);
  const zone = validateDnsName("zone", input.zone, { minLabels: 2 });
  return templates().namedConf({
    dir,
    address: validateIpv4("address", input.address),
    port: validateInt("port", input.port, 1, 65535),
    zone,
    keyName: validateDnsName("keyName", input.keyName),
    keyFile: validatePath("keyFile", input.keyFile),
    zoneFile: validatePath("zoneFile", input.zoneFile ?? zoneFilePath(dir, zone)),
  });
}

/** The zone file for `input`; host names must be inside the zone, errors name the field. */
export function renderZone(input: ZoneInput): string {
  const zone = validateDnsName("zone", input.zone, { minLabels: 2 });
  const nsLabel = validateDnsName("nameserverLabel", input.nameserverLabel ?? "ns1");
  if (nsLabel.includes("."))
    throw new ValidationError("nameserverLabel", "is one label inside the zone (no dots)");
  const relative = (field: string, name: unknown): string => {
    const n = validateDnsName(field, name);
    if (!inZone(n, zone) || n === zone)
      throw new ValidationError(field, `${n} is not a name below the zone ${zone}`);
    return n.slice(0, -(zone.length + 1));
  };
  const hosts = (input.hosts ?? []).map((h, i) => ({
    label: relative(`hosts[${i}].name`, h?.name),
    address: validateIpv4(`hosts[${i}].address`, h?.address),
  }));
  const labels = new Set<string>([nsLabel]);
  hosts.forEach((h, i) => {
    if (labels.has(h.label))
      throw new ValidationError(`hosts[${i}].name`, `${h.label}.${zone} is given twice`);
    labels.add(h.label);
  });
  hosts.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return templates().zone({
    zone,
    ttl: validateInt("ttl", input.ttl ?? 60, 0, 2_147_483_647),
    serial: validateInt("serial", input.serial ?? 1, 1, 4_294_967_295),
    nameserver: `${nsLabel}.${zone}`,
    nameserverLabel: nsLabel,
    nameserverAddress:
      input.nameserverAddress === undefined ? "" : validateIpv4("nameserverAddress", input.nameserverAddress),
    hosts,
  });
}

/** The TSIG key file named.conf includes (secret: write it 0600). Same format as tsig-keygen's. */
export function renderKeyFile(keyName: string, algorithm: string, secret: string): string {
  const name = validateDnsName("keyName", keyName);
  const alg = validateTsigAlgorithm("algorithm", algorithm);
  const value = validateTsigSecret("keySecret", secret);
  return `key "${name}" {\n\talgorithm ${alg};\n\tsecret "${value}";\n};\n`;
}
