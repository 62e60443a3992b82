// `geartrain check`, pure: the broker's gear records against what each node reports (its gears, their UIDs
// and owners, cartridges when the node lists them, frontend routes) and, when a nameserver is given, the
// apps' DNS records, like origin's oo-admin-chk. Each finding names what is wrong and the command that
// repairs it. No I/O: groups/check.ts gathers the inputs.

import type { GearRecord, NodeGears, NodeRecord } from "../../clients/broker";

export type FindingKind =
  | "node-unknown"
  | "node-unreachable"
  | "gear-missing"
  | "gear-uid"
  | "gear-owner"
  | "gear-incomplete"
  | "gear-orphan"
  | "uid-duplicate"
  | "app-failed"
  | "cartridge-missing"
  | "cartridge-extra"
  | "route-missing"
  | "route-hostname"
  | "route-orphan"
  | "dns-missing"
  | "dns-wrong";

export interface Finding {
  readonly kind: FindingKind;
  readonly node?: string;
  readonly gear?: string;
  readonly application?: string;
  readonly message: string;
  /** the command (or commands) that repair it */
  readonly repair: string;
}

/** What one node answered: its gears and routes, or why it could not be asked. */
export type NodeAnswer =
  { readonly ok: true; readonly value: NodeGears } | { readonly ok: false; readonly error: string };

/** The DNS answer for an app's name: its CNAME target, null when the name does not exist, or an error. */
export type DnsAnswer = { readonly target: string | null } | { readonly error: string };

export interface DnsCheck {
  /** `IP:PORT` of the nameserver asked */
  readonly server: string;
  /** fqdn → answer */
  readonly answers: ReadonlyMap<string, DnsAnswer>;
}

export interface CheckInput {
  readonly records: readonly GearRecord[];
  readonly nodes: readonly NodeRecord[];
  /** node name → its answer; nodes the broker marks unresponsive are not asked (absent) */
  readonly answers: ReadonlyMap<string, NodeAnswer>;
  readonly dns?: DnsCheck;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly checked: { readonly gears: number; readonly nodes: number; readonly dnsRecords: number };
  readonly findings: readonly Finding[];
}

function recreate(r: GearRecord): string {
  const carts = r.cartridges.length > 0 ? ` ${r.cartridges.join(" ")}` : " <cartridge>";
  return `geartrain app delete ${r.application} -n ${r.domain} --confirm && geartrain app create ${r.application}${carts} -n ${r.domain}`;
}

function onNode(node: string, command: string): string {
  return `on ${node}, as root: ${command}`;
}

/** All findings: per record in the order given, then what each node has that the broker does not, then DNS. */
export function checkConsistency(input: CheckInput): CheckReport {
  const findings: Finding[] = [];
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const byUuid = new Map(input.records.map((r) => [r.uuid, r]));

  // UIDs are unique within a district
  const seenUid = new Map<string, GearRecord>();
  for (const r of input.records) {
    const key = `${r.district} ${r.uid}`;
    const first = seenUid.get(key);
    if (first === undefined) {
      seenUid.set(key, r);
      continue;
    }
    findings.push({
      kind: "uid-duplicate",
      gear: r.uuid,
      node: r.node,
      application: `${r.application}-${r.domain}`,
      message: `UID ${r.uid} of district ${r.district} is recorded for gear ${r.uuid} (${r.application} in ${r.domain}) and gear ${first.uuid} (${first.application} in ${first.domain})`,
      repair: recreate(r),
    });
  }

  // an application whose create or delete failed part-way (its chain's undo failed): the broker says so
  const failedApps = new Set<string>();
  for (const r of input.records) {
    if (r.state !== "failed" || failedApps.has(r.application_id)) continue;
    failedApps.add(r.application_id);
    findings.push({
      kind: "app-failed",
      application: `${r.application}-${r.domain}`,
      message: `application ${r.application} in ${r.domain} is in state "failed": a create or delete stopped part-way`,
      repair: `geartrain app delete ${r.application} -n ${r.domain} --confirm`,
    });
  }

  const checkedNodes = new Set<string>();
  for (const r of input.records) {
    const app = `${r.application}-${r.domain}`;
    const gearFinding = (kind: FindingKind, message: string, repair: string) =>
      findings.push({ kind, node: r.node, gear: r.uuid, application: app, message, repair });
    const node = nodes.get(r.node);
    if (node === undefined) {
      gearFinding(
        "node-unknown",
        `gear ${r.uuid} (${r.application} in ${r.domain}) is recorded on node ${r.node}, which has never reported to the broker`,
        `start the node agent on ${r.node}, check it with \`geartrain admin node show ${r.node}\`, then run geartrain check again`,
      );
      continue;
    }
    const answer = input.answers.get(r.node);
    if (answer === undefined || !answer.ok) {
      if (!checkedNodes.has(`unreachable ${r.node}`)) {
        checkedNodes.add(`unreachable ${r.node}`);
        findings.push({
          kind: "node-unreachable",
          node: r.node,
          message: `node ${r.node} could not be checked: ${answer === undefined ? "the broker marks it unresponsive" : answer.error}`,
          repair: `start the node agent on ${r.node} (and check \`geartrain admin node show ${r.node}\`), then run geartrain check again`,
        });
      }
      continue;
    }
    const g = answer.value.gears.find((x) => x.uuid === r.uuid);
    if (g === undefined) {
      gearFinding(
        "gear-missing",
        `gear ${r.uuid} (${r.application} in ${r.domain}, UID ${r.uid}) is recorded on ${r.node} but the node has no such gear`,
        recreate(r),
      );
      continue;
    }
    if (g.uid !== r.uid)
      gearFinding(
        "gear-uid",
        `gear ${r.uuid} has UID ${g.uid ?? "none"} on ${r.node}; the broker recorded ${r.uid}`,
        `${onNode(r.node, `geartrain node gear destroy ${r.uuid}`)}; then ${recreate(r)}`,
      );
    if (g.phase !== "created")
      gearFinding(
        "gear-incomplete",
        `gear ${r.uuid} is "${g.phase}" on ${r.node} (a create or destroy did not finish)`,
        `${onNode(r.node, `geartrain node gear destroy ${r.uuid}`)}; then ${recreate(r)}`,
      );
    if (
      (g.app !== null && g.app !== r.application) ||
      (g.namespace !== null && g.namespace !== r.domain) ||
      (g.appUuid !== null && g.appUuid !== r.application_id)
    )
      gearFinding(
        "gear-owner",
        `gear ${r.uuid} belongs to ${g.app ?? "?"} in ${g.namespace ?? "?"} (id ${g.appUuid ?? "none"}) on ${r.node}; the broker recorded ${r.application} in ${r.domain} (id ${r.application_id})`,
        `${onNode(r.node, `geartrain node gear inspect ${r.uuid}`)}; if it is not ${r.application}'s, ${recreate(r)}`,
      );
    if (Array.isArray(g.cartridges)) {
      for (const c of r.cartridges)
        if (!g.cartridges.includes(c))
          gearFinding(
            "cartridge-missing",
            `${r.application} in ${r.domain} has ${c} in the broker's records but not on gear ${r.uuid}`,
            `geartrain cartridge remove ${c} -a ${r.application} -n ${r.domain} --confirm && geartrain cartridge add ${c} -a ${r.application} -n ${r.domain}`,
          );
      for (const c of g.cartridges)
        if (!r.cartridges.includes(c))
          gearFinding(
            "cartridge-extra",
            `gear ${r.uuid} on ${r.node} has ${c}, which the broker does not record for ${r.application}`,
            onNode(r.node, `geartrain node cartridge remove ${r.uuid} ${c.replace(/-[^-]+$/, "")}`),
          );
    }
    const route = answer.value.frontends.find((f) => f.gearUuid === r.uuid);
    if (route === undefined)
      gearFinding(
        "route-missing",
        `gear ${r.uuid} (${r.fqdn}) has no frontend route on ${r.node}`,
        `geartrain app restart ${r.application} -n ${r.domain}; if the route is still missing, ${onNode(r.node, `geartrain node frontend set < spec.json (hostnames ["${r.fqdn}"], see geartrain node frontend --help)`)}`,
      );
    else if (!route.hostnames.includes(r.fqdn))
      gearFinding(
        "route-hostname",
        `the route of gear ${r.uuid} on ${r.node} serves ${route.hostnames.join(", ")}, not ${r.fqdn}`,
        onNode(
          r.node,
          `geartrain node frontend set < spec.json (hostnames ["${r.fqdn}", ...], see geartrain node frontend --help)`,
        ),
      );
  }

  // what the nodes have that the broker does not know
  for (const [name, answer] of [...input.answers.entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    if (!answer.ok) continue;
    for (const g of answer.value.gears)
      if (!byUuid.has(g.uuid))
        findings.push({
          kind: "gear-orphan",
          node: name,
          gear: g.uuid,
          message: `node ${name} has gear ${g.uuid} (UID ${g.uid ?? "none"}, ${g.app ?? "?"} in ${g.namespace ?? "?"}) that the broker has no record of`,
          repair: onNode(name, `geartrain node gear destroy ${g.uuid}`),
        });
    for (const f of answer.value.frontends)
      if (!byUuid.has(f.gearUuid))
        findings.push({
          kind: "route-orphan",
          node: name,
          gear: f.gearUuid,
          message: `node ${name} routes ${f.hostnames.join(", ")} to gear ${f.gearUuid}, which the broker has no record of`,
          repair: onNode(name, `geartrain node frontend remove ${f.gearUuid}`),
        });
  }

  // DNS: each app's name is a CNAME to its node's public hostname
  let dnsRecords = 0;
  if (input.dns !== undefined) {
    const [server, port] = input.dns.server.split(":");
    const done = new Set<string>();
    for (const r of input.records) {
      if (done.has(r.fqdn)) continue;
      done.add(r.fqdn);
      const want = nodes.get(r.node)?.public_hostname ?? null;
      const a = input.dns.answers.get(r.fqdn);
      if (a === undefined || want === null) continue;
      dnsRecords++;
      const zone = r.fqdn.slice(r.fqdn.indexOf(".") + 1);
      const fix = `printf 'server ${server} ${port ?? "53"}\\nzone ${zone}\\nupdate delete ${r.fqdn}. CNAME\\nupdate add ${r.fqdn}. 60 CNAME ${want}.\\nsend\\n' | nsupdate -k <the zone's TSIG key file>`;
      const dnsFinding = (kind: FindingKind, message: string) =>
        findings.push({ kind, application: `${r.application}-${r.domain}`, message, repair: fix });
      if ("error" in a)
        dnsFinding("dns-missing", `${r.fqdn} could not be resolved at ${input.dns.server}: ${a.error}`);
      else if (a.target === null)
        dnsFinding("dns-missing", `${r.fqdn} has no CNAME at ${input.dns.server} (expected ${want})`);
      else if (a.target.toLowerCase().replace(/\.$/, "") !== want.toLowerCase())
        dnsFinding(
          "dns-wrong",
          `${r.fqdn} is a CNAME to ${a.target} at ${input.dns.server}; its gear is on ${r.node} (${want})`,
        );
    }
  }

  return {
    ok: findings.length === 0,
    checked: { gears: input.records.length, nodes: input.answers.size, dnsRecords },
    findings,
  };
}
