// `geartrain check`: the broker's records against what the nodes really have (and, with --dns-server, the
// apps' DNS records), like origin's oo-admin-chk. Admin API only: the broker's gear records and nodes, and
// each responsive node's gears and routes (asked by the broker over the bus). Exit 6 on any finding.

import { Resolver } from "dns/promises";
import { EXIT, ValidationError } from "../../../common/errors";
import { validateIpv4 } from "../../../common/dns-names";
import { checkConsistency, type DnsAnswer, type NodeAnswer } from "../check-model";
import { brokerGroup, clientFor, parse, positionals, print } from "../base";

function dnsServer(v: string): { host: string; port: number } {
  const m = /^([0-9.]+)(?::([0-9]{1,5}))?$/.exec(v);
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (m === null || port < 1 || port > 65535)
    throw new ValidationError("dns-server", `expected IPv4[:PORT], got ${JSON.stringify(v)}`);
  return { host: validateIpv4("dns-server", m[1]), port };
}

async function resolveCname(resolver: Resolver, fqdn: string): Promise<DnsAnswer> {
  try {
    const [target] = await resolver.resolveCname(fqdn);
    return { target: target ?? null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTFOUND" || code === "ENODATA") return { target: null };
    return { error: String(code ?? err) };
  }
}

export const group = brokerGroup(
  "check",
  "broker records against the nodes (and DNS), like oo-admin-chk",
  {
    check: {
      usage: "geartrain check [--dns-server IP[:PORT]]   (admin role; exit 6 when anything is inconsistent)",
      async run(argv, ctx) {
        const { values, positionals: p } = parse(argv, { "dns-server": { type: "string" } });
        positionals(p, []);
        const dns = values["dns-server"] !== undefined ? dnsServer(values["dns-server"]) : undefined;
        const client = clientFor(ctx, values.server);
        const [records, nodes] = await Promise.all([client.gearRecords(), client.listNodes()]);
        const answers = new Map<string, NodeAnswer>();
        for (const n of nodes) {
          if (!n.responsive) continue;
          try {
            answers.set(n.name, { ok: true, value: await client.nodeGears(n.name) });
          } catch (err) {
            answers.set(n.name, { ok: false, error: (err as Error).message });
          }
        }
        let dnsInput;
        if (dns !== undefined) {
          const resolver = new Resolver({ timeout: 3000, tries: 2 });
          resolver.setServers([`${dns.host}:${dns.port}`]);
          const fqdns = [...new Set(records.map((r) => r.fqdn))];
          const got = await Promise.all(
            fqdns.map(async (f) => [f, await resolveCname(resolver, f)] as const),
          );
          dnsInput = { server: `${dns.host}:${dns.port}`, answers: new Map(got) };
        }
        const report = checkConsistency({ records, nodes, answers, ...(dnsInput ? { dns: dnsInput } : {}) });
        print(ctx, values.json, report, () => [
          ...report.findings.flatMap((f, i) => [
            `${i + 1}. [${f.kind}] ${f.message}`,
            `   repair: ${f.repair}`,
          ]),
          `${report.ok ? "OK" : "FAIL"}: ${report.checked.gears} gear record(s), ${report.checked.nodes} node(s)` +
            `${dns !== undefined ? `, ${report.checked.dnsRecords} DNS record(s)` : ""} checked; ${report.findings.length} finding(s)`,
        ]);
        return report.ok ? EXIT.OK : EXIT.DRIFT;
      },
    },
  },
  { single: true },
);
