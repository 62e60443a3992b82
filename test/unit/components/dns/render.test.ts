import { renderNamedConf, renderZone, zoneFilePath } from "../../../../components/dns/render";

const input = {
  dir: "/var/lib/geartrain/bind",
  address: "127.0.0.1",
  port: 15353,
  zone: "apps.example.test",
  keyName: "apps.example.test-key",
  keyFile: "/var/lib/geartrain/bind/tsig.key",
};

describe("renderNamedConf", () => {
  it("renders an authoritative-only server for the zone, updatable with the key", () => {
    expect(renderNamedConf(input)).toMatchSnapshot();
  });
  it("is deterministic and defaults the zone file into the dir", () => {
    expect(renderNamedConf(input)).toBe(
      renderNamedConf({ ...input, zoneFile: zoneFilePath(input.dir, input.zone) }),
    );
  });
  it.each([
    [{ dir: "relative/dir" }, "dir"],
    [{ dir: '/tmp/x"; include "/etc/shadow' }, "dir"],
    [{ keyFile: "/tmp/../etc/key" }, "keyFile"],
    [{ address: "::1" }, "address"],
    [{ port: 70000 }, "port"],
    [{ zone: "example" }, "zone"],
    [{ keyName: 'k"; };' }, "keyName"],
  ])("refuses %o naming %s", (change, field) => {
    expect(() => renderNamedConf({ ...input, ...change })).toThrow(expect.objectContaining({ field }));
  });
});

describe("renderZone", () => {
  it("renders SOA, NS with glue and the hosts sorted", () => {
    expect(
      renderZone({
        zone: "apps.example.test",
        nameserverAddress: "127.0.0.1",
        hosts: [
          { name: "node1.apps.example.test", address: "127.0.0.2" },
          { name: "broker.apps.example.test", address: "127.0.0.3" },
        ],
      }),
    ).toMatchSnapshot();
  });
  it("without a nameserver address, has no glue record", () => {
    expect(renderZone({ zone: "apps.example.test", serial: 7, ttl: 1 })).toMatchSnapshot();
  });
  it.each([
    [{ hosts: [{ name: "x.other.test", address: "127.0.0.1" }] }, "hosts[0].name"],
    [{ hosts: [{ name: "ns1.apps.example.test", address: "127.0.0.1" }] }, "hosts[0].name"],
    [{ hosts: [{ name: "x.apps.example.test", address: "1.2.3" }] }, "hosts[0].address"],
    [{ nameserverLabel: "a.b" }, "nameserverLabel"],
    [{ serial: 0 }, "serial"],
  ])("refuses %o naming %s", (change, field) => {
    expect(() => renderZone({ zone: "apps.example.test", ...change })).toThrow(
      expect.objectContaining({ field }),
    );
  });
});
