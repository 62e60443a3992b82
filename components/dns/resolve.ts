// The Dns component's pure model: DnsArgs validated (errors name the field) with defaults applied, and the
// files it renders (components/dns/render.ts validates the zone and the records again, naming them).
import { validateDnsName, validateIpv4 } from "../../common/dns-names";
import { validateAccount, validateComponentName, validateDirectory, validatePort } from "../platform-resolve";
import { DNS_DEFAULTS, DnsArgs } from "./args";
import { NamedConfInput, renderNamedConf, renderZone, ZoneInput } from "./render";

export interface DnsSpec {
  readonly name: string;
  readonly directory: string;
  readonly osUser: string;
  readonly named: string;
  readonly algorithm: string;
  readonly namedConf: NamedConfInput;
  readonly zone: ZoneInput;
}

export function dnsPaths(directory: string) {
  return {
    conf: `${directory}/conf/named.conf`,
    keyFile: `${directory}/conf/tsig.key`,
    work: `${directory}/named`,
  };
}

export function resolveDns(name: string, args: Omit<DnsArgs, "host">): DnsSpec {
  const d = DNS_DEFAULTS;
  validateComponentName(name);
  const directory = validateDirectory("directory", args.directory ?? `${d.directoryRoot}/${name}`);
  const p = dnsPaths(directory);
  const zoneName = validateDnsName("zone", args.zone, { minLabels: 2 });
  const address = validateIpv4("address", args.address ?? d.address);
  const namedConf: NamedConfInput = {
    dir: p.work,
    address,
    port: validatePort("port", args.port ?? d.port),
    zone: zoneName,
    keyName: validateDnsName("keyName", args.keyName ?? d.keyName),
    keyFile: p.keyFile,
  };
  const zone: ZoneInput = {
    zone: zoneName,
    nameserverLabel: args.nameserverLabel,
    nameserverAddress: args.nameserverAddress ?? address,
    ttl: args.ttl,
    hosts: args.hosts ?? [],
  };
  const spec: DnsSpec = {
    name,
    directory,
    osUser: validateAccount("osUser", args.osUser ?? d.osUser),
    named: validateDirectory("named", args.named ?? d.named),
    algorithm: d.algorithm,
    namedConf,
    zone,
  };
  renderDnsFiles(spec); // every field is checked now, before anything is declared
  return spec;
}

/** named.conf and the zone file (no secret in either). */
export function renderDnsFiles(spec: DnsSpec): { namedConf: string; zone: string } {
  return { namedConf: renderNamedConf(spec.namedConf), zone: renderZone(spec.zone) };
}
