// Rendering of the isolation rules (nftables script, iptables rule specs). Pure; the real-host behaviour is
// tested in test/node/isolation-net.test.ts.

import { iptablesChain, iptablesGearRules, renderNftBase, renderNftGear } from "../../../node/host/netfilter";

const UUID = "0123456789abcdef0123456789abcdef";

test("nftables base: table, sets, output chain with the three fixed rules (snapshot)", () => {
  expect(renderNftBase("geartrain")).toMatchSnapshot();
});

test("nftables gear elements: the UID's /25 (uid 1000 → 127.1.244.0/25)", () => {
  expect(renderNftGear("geartrain", "add", 1000)).toBe(
    [
      "add element inet geartrain gear_uids { 1000 }",
      "add element inet geartrain gear_nets { 127.1.244.0/25 }",
      "add element inet geartrain owners { 127.1.244.0/25 . 1000 }",
      "",
    ].join("\n"),
  );
  expect(renderNftGear("gt_x", "delete", 1001)).toMatch(
    /^delete element inet gt_x owners \{ 127\.1\.244\.128\/25 \. 1001 \}$/m,
  );
  expect(renderNftGear("geartrain", "add", 6999)).toMatch(/gear_nets \{ 127\.13\.171\.128\/25 \}/);
});

test("iptables: three rules per gear, tagged with the gear uuid, owner range = district", () => {
  const rules = iptablesGearRules("geartrain", UUID, 1000, { firstUid: 1000, maxUid: 6999 });
  expect(iptablesChain("geartrain")).toBe("GEARTRAIN");
  expect(rules.map((r) => r.join(" "))).toEqual([
    `-d 127.1.244.0/25 -p tcp -m owner --uid-owner 1000-6999 -m owner ! --uid-owner 1000 -m comment --comment geartrain:${UUID} -j REJECT --reject-with tcp-reset`,
    `-d 127.1.244.0/25 -m owner --uid-owner 1000-6999 -m owner ! --uid-owner 1000 -m comment --comment geartrain:${UUID} -j REJECT --reject-with icmp-admin-prohibited`,
    `-s 127.1.244.0/25 -m owner --uid-owner 1000-6999 -m owner ! --uid-owner 1000 -m comment --comment geartrain:${UUID} -j DROP`,
  ]);
});

test("refuses bad names and uids (nothing reaches nft/iptables unchecked)", () => {
  expect(() => renderNftBase("gear train")).toThrow(/invalid netfilter table name/);
  expect(() => renderNftBase("x; flush ruleset")).toThrow(/invalid netfilter table name/);
  expect(() => renderNftGear("geartrain", "add", 1.5)).toThrow(/invalid uid/);
  expect(() => renderNftGear("geartrain", "add", -1)).toThrow(/invalid uid/);
  expect(() => iptablesGearRules("geartrain", "not-a-uuid", 1000, { firstUid: 1000, maxUid: 6999 })).toThrow(
    /uuid/,
  );
});
