// The test-host harness's pure half (test/helpers/test-hosts/model.ts): options, address plan, names,
// rendered files and the reading of machine state into leftovers.

import fc from "fast-check";
import {
  CLAIM_DIR,
  MAX_HOSTS,
  MachineState,
  addressPlan,
  hostNames,
  leftovers,
  parseIpv4Addrs,
  parseLinkNames,
  parseMountinfo,
  pickSubnet,
  renderHosts,
  renderSshdConfig,
  resolveOptions,
  runNames,
} from "../../helpers/test-hosts/model";

describe("resolveOptions", () => {
  it("defaults names host0… and port 22", () => {
    expect(resolveOptions(2)).toEqual({
      count: 2,
      names: ["host0", "host1"],
      sshPort: 22,
      packageList: undefined,
      readOnlyBinds: [],
    });
  });

  it.each([
    [0, {}, "invalid count: 0 is not a whole number from 1 to 253"],
    [254, {}, "invalid count"],
    [1.5, {}, "invalid count"],
    [2, { names: ["a"] }, "invalid names: 1 names for 2 hosts"],
    [2, { names: ["a", "A"] }, 'invalid names[1]: "A" is not a host name'],
    [2, { names: ["a", "a"] }, "invalid names[1]: a appears twice"],
    [1, { names: ["-x"] }, "invalid names[0]"],
    [1, { names: ["x".repeat(33)] }, "invalid names[0]"],
    [1, { sshPort: 0 }, "invalid sshPort: 0 is not a port number"],
    [1, { sshPort: 65536 }, "invalid sshPort"],
    [1, { readOnlyBinds: [{ source: "usr/bin/node", target: "/x" }] }, "invalid readOnlyBinds[0].source"],
    [1, { readOnlyBinds: [{ source: "/a", target: "/" }] }, "invalid readOnlyBinds[0].target"],
    [1, { readOnlyBinds: [{ source: "/a", target: "/opt/../etc" }] }, "invalid readOnlyBinds[0].target"],
    [1, { readOnlyBinds: [{ source: "/a", target: "/opt//x" }] }, "invalid readOnlyBinds[0].target"],
    [1, { readOnlyBinds: [{ source: "/a", target: "/opt/x/" }] }, "invalid readOnlyBinds[0].target"],
  ])("rejects count %p with %p: %s", (count, opts, message) => {
    expect(() => resolveOptions(count, opts)).toThrow(message);
  });
});

describe("addressPlan", () => {
  it("puts the bridge on .1 and the hosts from .2 in 198.18.<k>.0/24", () => {
    expect(addressPlan(7, 3)).toEqual({
      k: 7,
      subnet: "198.18.7.0/24",
      prefixLength: 24,
      gateway: "198.18.7.1",
      hosts: ["198.18.7.2", "198.18.7.3", "198.18.7.4"],
    });
  });

  it("keeps every address inside the run's /24, distinct, never the network, bridge or broadcast address", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: MAX_HOSTS }), (k, n) => {
        const p = addressPlan(k, n);
        const all = [p.gateway, ...p.hosts];
        expect(new Set(all).size).toBe(n + 1);
        for (const a of all) {
          const o = a.split(".").map(Number);
          expect(o.slice(0, 3)).toEqual([198, 18, k]);
          expect(o[3]).toBeGreaterThanOrEqual(1);
          expect(o[3]).toBeLessThanOrEqual(254);
        }
      }),
    );
  });

  it("rejects a k or count outside the plan", () => {
    expect(() => addressPlan(256, 1)).toThrow("invalid k");
    expect(() => addressPlan(0, 254)).toThrow("invalid count");
  });
});

describe("pickSubnet", () => {
  it("takes the first /24 no address of the machine is in and no run has claimed", () => {
    expect(pickSubnet(["127.0.0.1", "192.0.2.2"], new Set())).toBe(0);
    expect(pickSubnet(["198.18.0.1", "198.18.2.9"], new Set([1]))).toBe(3);
    expect(pickSubnet(["198.19.0.1", "10.198.18.1"], new Set())).toBe(0); // only 198.18.x counts
  });

  it("fails when every /24 is taken", () => {
    const all = new Set(Array.from({ length: 256 }, (_, k) => k));
    expect(() => pickSubnet([], all)).toThrow("no free /24 in 198.18.0.0/16");
  });
});

describe("names", () => {
  const r = runNames("/tmp/", "0a1f");

  it("derives every name from the run id, the interface names within IFNAMSIZ", () => {
    expect(r).toMatchObject({ runId: "0a1f", bridge: "gtth0a1fb", dir: "/tmp/gtth-0a1f" });
    expect(r.claimFile(5)).toBe(`${CLAIM_DIR}/198.18.5.json`);
    const h = hostNames(r, MAX_HOSTS - 1);
    expect(h).toEqual({
      index: 252,
      netns: "gtth-0a1f-252",
      veth: "gtth0a1fv252",
      peer: "gtth0a1fp252",
      dir: "/tmp/gtth-0a1f/252",
      upper: "/tmp/gtth-0a1f/252/upper",
      work: "/tmp/gtth-0a1f/252/work",
      root: "/tmp/gtth-0a1f/252/root",
    });
    for (const n of [r.bridge, h.veth, h.peer]) expect(n.length).toBeLessThanOrEqual(15);
  });

  it("rejects a run id that is not 4 hex digits and an index outside the plan", () => {
    expect(() => runNames("/tmp", "0A1F")).toThrow("invalid runId");
    expect(() => runNames("/tmp", "../x")).toThrow("invalid runId");
    expect(() => hostNames(r, MAX_HOSTS)).toThrow("invalid index");
  });
});

describe("rendered files", () => {
  it("sshd listens on the host's address only, root by key only", () => {
    expect(renderSshdConfig("198.18.0.2", 22)).toMatchSnapshot();
  });

  it("/etc/hosts names the gateway and every host", () => {
    expect(renderHosts("beta", addressPlan(0, 2), ["alpha", "beta"])).toBe(
      [
        "127.0.0.1 localhost",
        "127.0.1.1 beta",
        "198.18.0.1 gtth-gateway",
        "198.18.0.2 alpha",
        "198.18.0.3 beta",
        "",
      ].join("\n"),
    );
  });
});

describe("reading the machine", () => {
  it("parses mount points, undoing the kernel's escapes", () => {
    const text = [
      "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
      "90 22 0:50 / /tmp/gtth-0a1f/0/root rw,relatime - overlay overlay rw,lowerdir=/x",
      "91 22 0:51 / /tmp/with\\040space rw - tmpfs tmpfs rw",
      "",
    ].join("\n");
    expect(parseMountinfo(text)).toEqual(["/", "/tmp/gtth-0a1f/0/root", "/tmp/with space"]);
  });

  it("parses link names and IPv4 addresses from ip -o", () => {
    const links = [
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN",
      "7: gtth0a1fb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP",
      "9: gtth0a1fv0@if8: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master gtth0a1fb",
    ].join("\n");
    expect(parseLinkNames(links)).toEqual(["lo", "gtth0a1fb", "gtth0a1fv0"]);
    const addrs = [
      "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever",
      "7: gtth0a1fb    inet 198.18.0.1/24 scope global gtth0a1fb\\       valid_lft forever",
    ].join("\n");
    expect(parseIpv4Addrs(addrs)).toEqual(["127.0.0.1", "198.18.0.1"]);
  });

  const state: MachineState = {
    netns: ["gtth-0a1f-0", "gtth-beef-1", "other"],
    links: ["lo", "eth0", "gtth0a1fb", "gtth0a1fv0", "gtthbeefv1"],
    mounts: ["/", "/tmp/gtth-0a1f/0/root", "/tmp/gtth-beef/1/root", "/tmp/gtth-cache/x", "/srv/gtth-0a1f"],
    claims: ["198.18.0.json", "198.18.1.json"],
    tmpEntries: ["gtth-0a1f", "gtth-beef", "gtth-coldcache"],
  };
  const owners = new Map([
    ["198.18.0.json", "0a1f"],
    ["198.18.1.json", "beef"],
  ]);

  it("finds what one run left and nothing of another run", () => {
    expect(leftovers(state, "/tmp", "0a1f", owners)).toEqual([
      "network namespace gtth-0a1f-0",
      "link gtth0a1fb",
      "link gtth0a1fv0",
      "mount /tmp/gtth-0a1f/0/root",
      `subnet claim ${CLAIM_DIR}/198.18.0.json`,
      "directory /tmp/gtth-0a1f",
    ]);
  });

  it("finds what any run left when no run is named, and only the harness's names", () => {
    expect(leftovers(state, "/tmp/", undefined, owners)).toHaveLength(11);
    expect(leftovers(state, "/tmp", undefined, owners)).not.toContainEqual(
      expect.stringContaining("coldcache"),
    );
  });

  it("finds nothing on a clean machine", () => {
    const clean: MachineState = {
      netns: ["other"],
      links: ["lo", "eth0"],
      mounts: ["/"],
      claims: [],
      tmpEntries: [],
    };
    expect(leftovers(clean, "/tmp", "0a1f")).toEqual([]);
  });
});
