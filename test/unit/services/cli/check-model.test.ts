import { checkConsistency, type NodeAnswer } from "../../../../services/cli/check-model";
import type { GearRecord, NodeRecord } from "../../../../clients/broker";

const uuid = "0123456789abcdef0123456789abcdef";
const rec: GearRecord = {
  uuid,
  uid: 1000,
  node: "n1",
  district: "d1",
  application: "app1",
  application_id: "a".repeat(32),
  domain: "ns1",
  fqdn: "app1-ns1.apps.test",
  cartridges: ["nodejs-20", "postgresql-15"],
  state: "started",
};
const node = (name: string, responsive = true): NodeRecord => ({
  name,
  district: "d1",
  active: true,
  responsive,
  last_seen: null,
  profile: "small",
  active_gears: 1,
  max_active_gears: 10,
  public_hostname: `${name}.example.test`,
  cartridges: [],
});
const gear = { uuid, uid: 1000, phase: "created", app: "app1", namespace: "ns1", appUuid: "a".repeat(32) };
const ok = (
  gears: unknown[],
  frontends: unknown[] = [{ gearUuid: uuid, hostnames: [rec.fqdn] }],
): NodeAnswer => ({ ok: true, value: { gears, frontends } }) as NodeAnswer;

it("a consistent platform has no findings", () => {
  const r = checkConsistency({ records: [rec], nodes: [node("n1")], answers: new Map([["n1", ok([gear])]]) });
  expect(r).toEqual({ ok: true, checked: { gears: 1, nodes: 1, dnsRecords: 0 }, findings: [] });
});

it("names each inconsistency with its repair", () => {
  const r = checkConsistency({
    records: [
      rec,
      { ...rec, uuid: "b".repeat(32), node: "n9" },
      { ...rec, uuid: "c".repeat(32), node: "n2" },
    ],
    nodes: [node("n1"), node("n2", false)],
    answers: new Map([
      [
        "n1",
        ok(
          [{ ...gear, phase: "creating", app: "other", cartridges: ["nodejs-20", "python-3"] }],
          [
            { gearUuid: uuid, hostnames: ["x.apps.test"] },
            { gearUuid: "d".repeat(32), hostnames: ["y.apps.test"] },
          ],
        ),
      ],
    ]),
  });
  expect(r.ok).toBe(false);
  expect(r.findings.map((f) => f.kind)).toEqual([
    "uid-duplicate",
    "uid-duplicate",
    "gear-incomplete",
    "gear-owner",
    "cartridge-missing",
    "cartridge-extra",
    "route-hostname",
    "node-unknown",
    "node-unreachable",
    "route-orphan",
  ]);
  const by = (k: string) => r.findings.find((f) => f.kind === k)!;
  expect(by("cartridge-missing").repair).toBe(
    "geartrain cartridge remove postgresql-15 -a app1 -n ns1 --confirm && geartrain cartridge add postgresql-15 -a app1 -n ns1",
  );
  expect(by("cartridge-extra").repair).toBe(`on n1, as root: geartrain node cartridge remove ${uuid} python`);
  expect(by("route-orphan").repair).toBe(`on n1, as root: geartrain node frontend remove ${"d".repeat(32)}`);
  expect(by("node-unreachable").message).toMatch(/n2 could not be checked: the broker marks it unresponsive/);
  expect(by("uid-duplicate").repair).toMatch(
    /^geartrain app delete app1 -n ns1 --confirm && geartrain app create app1 nodejs-20 postgresql-15 -n ns1$/,
  );
});

it("a missing gear and a missing route", () => {
  const r = checkConsistency({ records: [rec], nodes: [node("n1")], answers: new Map([["n1", ok([], [])]]) });
  expect(r.findings.map((f) => f.kind)).toEqual(["gear-missing"]);
  const r2 = checkConsistency({
    records: [rec],
    nodes: [node("n1")],
    answers: new Map([["n1", ok([gear], [])]]),
  });
  expect(r2.findings.map((f) => f.kind)).toEqual(["route-missing"]);
});

it("DNS: the app name must be a CNAME to its node's public hostname", () => {
  const base = { records: [rec], nodes: [node("n1")], answers: new Map([["n1", ok([gear])]]) };
  const dns = (target: string | null) => ({
    server: "127.0.0.1:5353",
    answers: new Map([[rec.fqdn, { target }]]),
  });
  expect(checkConsistency({ ...base, dns: dns("n1.example.test") }).findings).toEqual([]);
  expect(checkConsistency({ ...base, dns: dns("n1.example.test") }).checked.dnsRecords).toBe(1);
  const missing = checkConsistency({ ...base, dns: dns(null) }).findings;
  expect(missing.map((f) => f.kind)).toEqual(["dns-missing"]);
  expect(missing[0].repair).toBe(
    "printf 'server 127.0.0.1 5353\\nzone apps.test\\nupdate delete app1-ns1.apps.test. CNAME\\nupdate add app1-ns1.apps.test. 60 CNAME n1.example.test.\\nsend\\n' | nsupdate -k <the zone's TSIG key file>",
  );
  expect(checkConsistency({ ...base, dns: dns("n2.example.test") }).findings.map((f) => f.kind)).toEqual([
    "dns-wrong",
  ]);
});

it("an application left failed is a finding with the delete that clears it", () => {
  const r = checkConsistency({
    records: [{ ...rec, state: "failed" }],
    nodes: [node("n1")],
    answers: new Map([["n1", ok([gear])]]),
  });
  expect(r.findings).toEqual([
    expect.objectContaining({ kind: "app-failed", repair: "geartrain app delete app1 -n ns1 --confirm" }),
  ]);
});
